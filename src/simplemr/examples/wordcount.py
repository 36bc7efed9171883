"""Word count, the classic recipe's job, with its rules exactly.

For every line: skip it if ``line.lstrip()`` starts with ``..`` (a
reStructuredText comment); replace each character of ``string.punctuation``
with a space; split on whitespace; lowercase each word; keep a word if
``word.isalpha()`` and it is not a stop word. Count the words kept.

The mapper is a bulk mapper: it takes a block of lines and counts its words
with C-speed string methods and ``collections.Counter``, because calling a
Python function per line or per word would cost more than the work itself.
It is equivalent to ``count_line`` applied to every line, summed.
"""

from __future__ import annotations

import heapq
import re
import string
from collections import Counter
from collections.abc import Iterable, Iterator

from ..api import MapReduce

__all__ = [
    "STOP_WORDS",
    "count_line",
    "format_top",
    "job",
    "map_lines",
    "sum_counts",
    "top_words",
    "word_and_total",
]

STOP_WORDS = frozenset(
    ["a", "an", "and", "are", "as", "be", "by", "for", "if", "in", "is", "it", "of", "or",
     "py", "rst", "that", "the", "to", "with"]
)  # fmt: skip
_PUNCTUATION_TO_SPACE = str.maketrans(string.punctuation, " " * len(string.punctuation))
# A line whose first non-whitespace characters are "..": what str.lstrip() skips is
# exactly what \s matches in a str pattern, except the newline that ends the line.
_COMMENT_LINE = re.compile(r"^[^\S\n]*\.\.[^\n]*", re.MULTILINE)


def count_line(line: str) -> Counter[str]:
    """Count the words of one line by the rules, plainly (the reference)."""
    if line.lstrip().startswith(".."):
        return Counter()
    words = (word.lower() for word in line.translate(_PUNCTUATION_TO_SPACE).split())
    return Counter(word for word in words if word.isalpha() and word not in STOP_WORDS)


def map_lines(lines: list[str]) -> Iterator[tuple[str, int]]:
    """Yield ``(word, count)`` for a block of lines: ``sum(map(count_line, lines))``."""
    text = "\n".join(lines)
    if ".." in text:
        text = _COMMENT_LINE.sub("", text)
    counts = Counter(text.translate(_PUNCTUATION_TO_SPACE).lower().split())
    for word, count in counts.items():
        if word.isalpha() and word not in STOP_WORDS:
            yield word, count


def sum_counts(word: str, counts: Iterable[int]) -> int:
    """Combine partial counts of a word: their sum."""
    return sum(counts)


def word_and_total(word: str, counts: Iterable[int]) -> tuple[str, int]:
    """Reduce a word's partial counts to ``(word, total)``."""
    return word, sum(counts)


def job(**options: object) -> MapReduce:
    """Return the word count job; ``options`` go to ``MapReduce`` (workers, memory...)."""
    return MapReduce(map_lines, word_and_total, sum_counts, bulk=True, **options)  # type: ignore[arg-type]


def top_words(counts: Iterable[tuple[str, int]], top: int = 20) -> list[tuple[str, int]]:
    """Return the ``top`` most frequent words: count descending, then word ascending."""
    return heapq.nsmallest(top, counts, key=lambda pair: (-pair[1], pair[0]))


def format_top(pairs: list[tuple[str, int]], top: int = 20) -> str:
    """Format the top words as the recipe printed them."""
    lines = ["", f"TOP {top} WORDS BY FREQUENCY", ""]
    longest = max((len(word) for word, _ in pairs), default=0)
    lines += ["%-*s: %5s" % (longest + 1, word, count) for word, count in pairs]  # noqa: UP031
    return "\n".join(lines)
