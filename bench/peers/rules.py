"""The two jobs every contender runs, by the classic recipe's word count rules, and the
one form of their results that every contender's output is checked in.

- ``wordcount``: ``(word, count)`` for every word kept by the rules;
- ``index``: ``(word, count, first ten (file name, line number) places)``.
"""

from __future__ import annotations

import hashlib
import heapq
import string
from collections.abc import Iterable, Iterator

STOP_WORDS = frozenset(
    ["a", "an", "and", "are", "as", "be", "by", "for", "if", "in", "is", "it", "of", "or",
     "py", "rst", "that", "the", "to", "with"]
)  # fmt: skip
TO_SPACE = str.maketrans(string.punctuation, " " * len(string.punctuation))


def line_words(line: str) -> list[str]:
    """The words of one line that the rules count."""
    if line.lstrip().startswith(".."):
        return []
    words = line.translate(TO_SPACE).lower().split()
    return [word for word in words if word.isalpha() and word not in STOP_WORDS]


def file_places(path: str) -> Iterator[tuple[str, tuple[str, int]]]:
    """(word, (file name, line number)) for every counted word of a file."""
    name = path.rsplit("/", 1)[-1]
    with open(path, encoding="utf-8", errors="replace") as file:
        for number, line in enumerate(file, 1):
            for word in line_words(line):
                yield word, (name, number)


def summary(word: str, places: Iterable[tuple[str, int]]) -> tuple[str, int, list]:
    """An index row: the word, its number of places, its first ten, in bounded memory."""
    count = 0

    def counted() -> Iterator[tuple[str, int]]:
        nonlocal count
        for place in places:
            count += 1
            yield tuple(place)  # type: ignore[misc]

    first = heapq.nsmallest(10, counted())
    return word, count, first


def digest(rows: Iterable) -> str:
    """A hash of the rows in any order, and their number: equal outputs, equal digests."""
    total = count = 0
    for row in rows:
        total += int.from_bytes(hashlib.sha256(repr(row).encode()).digest()[:8], "little")
        count += 1
    return f"{total % 2**64:016x}-{count}"


def word_rows(pairs: Iterable) -> Iterator[tuple[str, int]]:
    """Word count rows in the one form: ``(str, int)``."""
    for word, count in pairs:
        yield str(word), int(count)


def index_rows(rows: Iterable) -> Iterator[tuple[str, int, list]]:
    """Index rows in the one form: ``(str, int, [(str, int), ...])``."""
    for word, count, first in rows:
        yield str(word), int(count), [(str(name), int(line)) for name, line in first]
