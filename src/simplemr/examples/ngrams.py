"""N-gram counts: how often each run of N consecutive words occurs.

Shows a job option (``--n``), a combiner, and a counter of user code. N-grams
stop at line ends; words are lowercased runs of letters and apostrophes.

    simplemr run simplemr.examples.ngrams:NGrams --n 3 --min-count 5 books/
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable, Iterator

from simplemr import Job

WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")


class NGrams(Job):
    """ "word word ..." -> count, for n-grams seen at least --min-count times."""

    def configure_options(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--n", type=int, default=2, help="words per n-gram (2)")
        parser.add_argument("--min-count", type=int, default=1, help="least count kept (1)")

    def mapper(self, _: None, line: str) -> Iterator[tuple[str, int]]:
        words = WORD.findall(line.lower())
        n = self.options.n
        for start in range(len(words) - n + 1):
            yield " ".join(words[start : start + n]), 1

    def combiner(self, ngram: str, counts: Iterable[int]) -> Iterator[tuple[str, int]]:
        yield ngram, sum(counts)

    def reducer(self, ngram: str, counts: Iterable[int]) -> Iterator[tuple[str, int]]:
        total = sum(counts)
        self.increment_counter("ngrams", "distinct")
        if total >= self.options.min_count:
            yield ngram, total


if __name__ == "__main__":
    NGrams.main()
