"""Top K: the most frequent words, as a two-step pipeline in bounded memory.

Step 1 counts every word. Step 2 keeps, in each map task, only its K largest
counts (``mapper_init`` starts the list, ``mapper_final`` yields it), so the one
reducer that picks the overall top K sees K pairs a task, not every word.

    simplemr run simplemr.examples.top_k:TopK --k 10 books/
"""

from __future__ import annotations

import argparse
import heapq
from collections.abc import Iterable, Iterator

from simplemr import Job, Step


class TopK(Job):
    """The --k most frequent words: word -> count, most frequent first
    (ties by word)."""

    def configure_options(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--k", type=int, default=10, help="how many words (10)")

    def steps(self) -> list[Step]:
        return [
            Step(mapper=self.words, combiner=self.total, reducer=self.total),
            Step(
                mapper_init=self.start_heap,
                mapper=self.keep_largest,
                mapper_final=self.largest,
                reducer=self.overall_largest,
            ),
        ]

    def words(self, _: None, line: str) -> Iterator[tuple[str, int]]:
        for word in line.split():
            yield word.lower(), 1

    def total(self, word: str, counts: Iterable[int]) -> Iterator[tuple[str, int]]:
        yield word, sum(counts)

    def start_heap(self) -> None:
        self.best: list[tuple[int, str]] = []

    def keep_largest(self, word: str, count: int) -> tuple[()]:
        self.best.append((count, word))
        if len(self.best) >= 2 * self.options.k:
            self.best = top(self.best, self.options.k)
        return ()

    def largest(self) -> Iterator[tuple[None, tuple[int, str]]]:
        for entry in top(self.best, self.options.k):
            yield None, entry

    def overall_largest(
        self, _: None, entries: Iterable[tuple[int, str]]
    ) -> Iterator[tuple[str, int]]:
        for count, word in top(entries, self.options.k):
            yield word, count


def top(entries: Iterable[tuple[int, str]], k: int) -> list[tuple[int, str]]:
    """The ``k`` largest ``(count, word)`` entries: count descending, then word ascending."""
    return heapq.nsmallest(k, entries, key=lambda entry: (-entry[0], entry[1]))


if __name__ == "__main__":
    TopK.main()
