"""The classic "SimpleMapReduce with multiprocessing.Pool" recipe, written out as
published (in Python 3 spelling): the baseline every benchmark here compares with.

Its word count functions are the recipe's own; the benchmarks' other jobs pass their
own map and reduce functions to ``RecipeMapReduce``.
"""

from __future__ import annotations

import collections
import itertools
import multiprocessing
import string

STOP_WORDS = set(
    ["a", "an", "and", "are", "as", "be", "by", "for", "if", "in", "is", "it", "of", "or",
     "py", "rst", "that", "the", "to", "with"]
)  # fmt: skip
TR = str.maketrans(string.punctuation, " " * len(string.punctuation))


class RecipeMapReduce:
    """Pool.map the inputs, group every pair by key in this process, Pool.map the groups."""

    def __init__(self, map_func, reduce_func, num_workers=None):
        self.map_func = map_func
        self.reduce_func = reduce_func
        self.pool = multiprocessing.Pool(num_workers)

    def partition(self, mapped_values):
        partitioned_data = collections.defaultdict(list)
        for key, value in mapped_values:
            partitioned_data[key].append(value)
        return partitioned_data.items()

    def __call__(self, inputs, chunksize=1):
        map_responses = self.pool.map(self.map_func, inputs, chunksize=chunksize)
        partitioned_data = self.partition(itertools.chain(*map_responses))
        reduced_values = self.pool.map(self.reduce_func, partitioned_data)
        return reduced_values


def file_to_words(filename):
    """Read a file and return a sequence of (word, occurrences) values."""
    output = []
    with open(filename, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.lstrip().startswith(".."):  # Skip rst comment lines
                continue
            line = line.translate(TR)  # Strip punctuation
            for word in line.split():
                word = word.lower()
                if word.isalpha() and word not in STOP_WORDS:
                    output.append((word, 1))
    return output


def count_words(item):
    """Convert the partitioned data for a word to (word, number of occurrences)."""
    word, occurrences = item
    return (word, sum(occurrences))
