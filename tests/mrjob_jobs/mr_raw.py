"""mapper_raw: one task per whole file, given its path and URI."""

import os

from mrjob.job import MRJob
from mrjob.step import MRStep


class MRRaw(MRJob):
    def steps(self):
        return [MRStep(mapper_raw=self.whole_file, reducer=self.total)]

    def whole_file(self, path, uri):
        with open(path, "rb") as file:
            data = file.read()
        yield os.path.basename(uri), [data.count(b"\n"), uri.startswith("file://")]

    def total(self, name, figures):
        yield name, list(figures)


if __name__ == "__main__":
    MRRaw.run()
