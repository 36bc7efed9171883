"""Two steps over tab-separated input: Raw in, Pickle between (tuple keys), Repr out;
mapper_init and mapper_final yield pairs; a counter per step."""

from mrjob.job import MRJob
from mrjob.protocol import PickleProtocol, RawProtocol, ReprProtocol
from mrjob.step import MRStep


class MRProtocols(MRJob):
    INPUT_PROTOCOL = RawProtocol
    INTERNAL_PROTOCOL = PickleProtocol
    OUTPUT_PROTOCOL = ReprProtocol

    def steps(self):
        return [
            MRStep(
                mapper_init=self.start,
                mapper=self.pairs,
                mapper_final=self.end,
                reducer=self.totals,
            ),
            MRStep(mapper=self.by_initial, reducer=self.collect),
        ]

    def start(self):
        self.seen = 0
        yield ("#", "start"), 0  # a count per task would depend on the number of tasks

    def pairs(self, user, action):
        self.seen += 1
        self.increment_counter("input", "rows")
        if action is None:
            return
        for word in action.split():
            yield (user, word.lower()), 1

    def end(self):
        yield ("#", "rows"), self.seen

    def totals(self, key, counts):
        yield key, sum(counts)

    def by_initial(self, key, total):
        user, word = key
        yield user[:1], (word, total)

    def collect(self, initial, items):
        self.increment_counter("output", "groups")
        yield initial, sorted(items)


if __name__ == "__main__":
    MRProtocols.run()
