"""A step of hooks alone, hooks that return None, and a reducer yielding nothing."""

from mrjob.job import MRJob
from mrjob.step import MRStep


class MRHooksOnly(MRJob):
    def steps(self):
        return [
            MRStep(mapper_init=self.begin, mapper_final=self.finish),
            MRStep(reducer_init=self.nothing, reducer=self.maybe, reducer_final=self.nothing),
        ]

    def begin(self):
        self.count = 0

    def finish(self):
        yield "tasks", 1

    def nothing(self):
        return None

    def maybe(self, key, values):
        total = sum(values)
        if total > 0:
            yield key, total > 0


if __name__ == "__main__":
    MRHooksOnly.run()
