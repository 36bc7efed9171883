"""SORT_VALUES: each reducer sees its values in the order of their encoded bytes."""

import json

from mrjob.job import MRJob
from mrjob.protocol import JSONValueProtocol


class MRSortValues(MRJob):
    SORT_VALUES = True
    OUTPUT_PROTOCOL = JSONValueProtocol

    def mapper(self, _, line):
        for word in line.split():
            yield len(word), word.lower()

    def reducer(self, length, words):
        seen = list(words)
        in_order = seen == sorted(seen, key=json.dumps)
        yield None, {"length": length, "in_order": in_order, "first": seen[:3]}


if __name__ == "__main__":
    MRSortValues.run()
