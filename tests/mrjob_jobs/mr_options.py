"""Options: a required option with type=, a choice, load_args, and the top words."""

import re

from mrjob.job import MRJob
from mrjob.protocol import TextProtocol
from mrjob.step import MRStep

WORD = re.compile(r"[a-z']+")


class MRTopWords(MRJob):
    OUTPUT_PROTOCOL = TextProtocol

    def configure_args(self):
        super().configure_args()
        self.add_passthru_arg("--top", type=int, required=True)
        self.add_passthru_arg("--case", choices=["lower", "upper"], default="lower")

    def load_args(self, args):
        super().load_args(args)
        self.change = str.lower if self.options.case == "lower" else str.upper

    def steps(self):
        return [
            MRStep(mapper=self.words, combiner=self.count, reducer=self.count),
            MRStep(reducer=self.top),
        ]

    def words(self, _, line):
        for word in WORD.findall(line.lower()):
            yield self.change(word), 1

    def count(self, word, counts):
        yield word, sum(counts)

    def top(self, word, totals):
        yield "top", [word, sum(totals)]

    def reducer_final(self):
        return None


class MRTopWordsRanked(MRTopWords):
    def steps(self):
        first = super().steps()[0]
        return [first, MRStep(mapper=self.as_one, reducer=self.rank)]

    def as_one(self, word, total):
        yield None, (total, word)

    def rank(self, _, pairs):
        for total, word in sorted(pairs, key=lambda pair: (-pair[0], pair[1]))[: self.options.top]:
            yield word, str(total)


if __name__ == "__main__":
    MRTopWordsRanked.run()
