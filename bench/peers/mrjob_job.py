"""mrjob ``-r local`` (its local runner: subprocess tasks on the cores), with a combiner
for the word count; the index keyed by word, places from each input line."""

from __future__ import annotations

import os
import sys

import mrjob
from contender import main
from mrjob.job import MRJob
from rules import line_words, summary


class WordCount(MRJob):
    def mapper(self, _, line):
        for word in line_words(line):
            yield word, 1

    def combiner(self, word, counts):
        yield word, sum(counts)

    def reducer(self, word, counts):
        yield word, sum(counts)


class Index(MRJob):
    """mrjob does not tell a mapper its line number: each map task numbers the lines
    of the file it reads (mapreduce_map_input_file), so one task must read a whole file."""

    def mapper_init(self):
        self.file, self.number = None, 0

    def mapper(self, _, line):
        path = os.environ.get("mapreduce_map_input_file", "?")  # noqa: SIM112 (mrjob's name)
        if path != self.file:
            self.file, self.number = path, 0
        self.number += 1
        for word in line_words(line):
            yield word, (path.rsplit("/", 1)[-1], self.number)

    def reducer(self, word, places):
        yield word, summary(word, places)[1:]


JOBS = {"wordcount": WordCount, "index": Index}


def run(job: str, files: list[str]):
    os.environ["PEERS_MRJOB_JOB"] = job  # the tasks run this file again: which class
    kind = JOBS[job]
    arguments = ["-r", "local", "--no-conf", "--num-cores", "2", *files]
    if kind is Index:
        arguments += ["--jobconf", "mapreduce.input.fileinputformat.split.maxsize=99999999999"]
    runner_job = kind(args=arguments)
    with runner_job.make_runner() as runner:
        runner.run()
        for key, value in runner_job.parse_output(runner.cat_output()):
            yield (key, value) if job == "wordcount" else (key, *value)


if __name__ == "__main__":
    if any(argument.startswith("--step-num") for argument in sys.argv):  # a task of ours
        JOBS[os.environ["PEERS_MRJOB_JOB"]].run()
    else:
        main(run, {"mrjob": mrjob.__version__})
