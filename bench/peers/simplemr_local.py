"""simplemr on its local executor, 2 workers: the word count example job (a bulk
mapper counting bytes, with a combiner); the index with a per-record mapper."""

from __future__ import annotations

from contender import main
from rules import file_places, summary

import simplemr
from simplemr.examples import wordcount

EXECUTOR: object = "local"


def run(job: str, files: list[str]):
    if job == "wordcount":
        mapreduce = wordcount.job(executor=EXECUTOR, workers=2)
        with mapreduce.stream(simplemr.text_files(files)) as results:
            yield from results
    else:
        mapreduce = simplemr.MapReduce(file_places, summary, executor=EXECUTOR, workers=2)
        with mapreduce.stream(files) as results:
            yield from results


if __name__ == "__main__":
    main(run, {"simplemr": simplemr.__version__})
