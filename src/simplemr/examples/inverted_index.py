"""Inverted index: for every word, the documents and line numbers it appears on.

Shows the ``file`` input format (each record is a whole document, so the mapper
knows its name and counts its lines) and a shuffle no combiner can shrink: every
posting travels to its word's reducer.

    simplemr run simplemr.examples.inverted_index:InvertedIndex docs/ -o index/
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable, Iterator

from simplemr import Job

WORD = re.compile(r"[^\W\d_]+")


class InvertedIndex(Job):
    """word -> [[document, line], ...], in document and line order."""

    INPUT_FORMAT = "file"
    OUTPUT_FORMAT = "jsonl"
    SORT = True

    def configure_options(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--min-length", type=int, default=3, help="shortest word kept (3)")

    def mapper(self, _: None, document: tuple[str, bytes]) -> Iterator[tuple[str, tuple[str, int]]]:
        name, data = document
        text = data.decode("utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            for word in set(WORD.findall(line.lower())):
                if len(word) >= self.options.min_length:
                    yield word, (name, number)

    def reducer(
        self, word: str, postings: Iterable[tuple[str, int]]
    ) -> Iterator[tuple[str, list[tuple[str, int]]]]:
        yield word, sorted(postings)


if __name__ == "__main__":
    InvertedIndex.main()
