"""A step of hooks alone (its lines pass through mrjob's identity mapper), hooks that
return None, and a reducer that yields for some keys only."""

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
        numbers = [value for value in values if isinstance(value, int)]
        if numbers:
            yield key, sum(numbers) > 0


if __name__ == "__main__":
    MRHooksOnly.run()
