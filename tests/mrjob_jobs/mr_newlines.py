"""Values with newlines and carriage returns between steps: the next step reads them
as the lines they make, as mrjob's tasks read each other's files."""

from mrjob.job import MRJob
from mrjob.protocol import RawProtocol, RawValueProtocol
from mrjob.step import MRStep


class MRNewlines(MRJob):
    INTERNAL_PROTOCOL = RawProtocol
    OUTPUT_PROTOCOL = RawValueProtocol

    def steps(self):
        return [MRStep(mapper=self.split_words), MRStep(mapper=self.tag, reducer=self.count)]

    def split_words(self, _, line):
        words = line.split()
        if words:
            yield words[0], "\n".join(words[1:3]) + "\r"

    def tag(self, key, value):
        yield "key" if value is not None else "no value", key

    def count(self, kind, keys):
        yield None, f"{kind}: {len(list(keys))}"


if __name__ == "__main__":
    MRNewlines.run()
