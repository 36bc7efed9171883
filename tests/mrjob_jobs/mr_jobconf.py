"""jobconf_from_env: the job's JOBCONF, --jobconf, --cmdenv and the variables a task has."""

import os

from mrjob.compat import jobconf_from_env
from mrjob.job import MRJob


class MRJobconf(MRJob):
    JOBCONF = {"my.setting": "from-class", "my.flag": True}

    def mapper_init(self):
        self.first_file = os.path.basename(jobconf_from_env("mapreduce.map.input.file"))

    def mapper(self, _, line):
        yield "file when the task started", self.first_file
        yield "flag", jobconf_from_env("my.flag")
        yield "path", os.environ["PATH"].split(os.pathsep)[0]
        path = jobconf_from_env("mapreduce.map.input.file")
        yield "file", os.path.basename(path)
        yield "scheme", path.split("://")[0]
        yield "old name", os.path.basename(jobconf_from_env("map.input.file"))
        yield "ismap", jobconf_from_env("mapreduce.task.ismap")
        yield "setting", jobconf_from_env("my.setting")
        yield "other", jobconf_from_env("other.setting", "unset")
        yield "cmdenv", os.environ.get("MY_VARIABLE", "unset")

    def reducer_init(self):
        self.ismap = jobconf_from_env("mapreduce.task.ismap")

    def reducer(self, key, values):
        yield key, [sorted(set(values)), "reducer ismap", self.ismap]


if __name__ == "__main__":
    MRJobconf.run()
