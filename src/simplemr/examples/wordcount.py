"""Word count, the classic recipe's job, with its rules exactly.

For every line: skip it if ``line.lstrip()`` starts with ``..`` (a
reStructuredText comment); replace each character of ``string.punctuation``
with a space; split on whitespace; lowercase each word; keep a word if
``word.isalpha()`` and it is not a stop word. Count the words kept.

The mapper is a bulk mapper: it takes a block of a few MiB of lines and counts
its words with C-speed methods and ``collections.Counter``, because calling a
Python function per line or per word would cost more than the work itself. It
is equivalent to ``count_line`` applied to every line, summed.

On a ``TextBlock`` (text files in UTF-8 and other ASCII-compatible encodings)
it counts the raw bytes: ``bytes.translate`` blanks the punctuation about
forty times faster than ``str.translate`` on text with any non-ASCII letter,
and only the block's distinct words are then decoded and lowercased. That is
exact because the punctuation, the line endings and ASCII whitespace are
single bytes below 0x80, which never occur inside a multi-byte character.
"""

from __future__ import annotations

import heapq
import string
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

from ..api import MapReduce

__all__ = [
    "STOP_WORDS",
    "count_bytes",
    "count_line",
    "format_top",
    "is_comment",
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


def is_comment(line: str) -> bool:
    """Whether a line is a reStructuredText comment, which the rules skip."""
    return line.lstrip().startswith("..")


def count_line(line: str) -> Counter[str]:
    """Count the words of one line by the rules, plainly (the reference)."""
    if is_comment(line):
        return Counter()
    words = (word.lower() for word in line.translate(_PUNCTUATION_TO_SPACE).split())
    return Counter(word for word in words if word.isalpha() and word not in STOP_WORDS)


def map_lines(lines: Sequence[str]) -> Iterator[tuple[str, int]]:
    """Yield ``(word, count)`` for a block of lines: ``sum(map(count_line, lines))``."""
    data = getattr(lines, "data", None)
    # errors="ignore" drops bytes, which can join two dots into "..": read the text.
    if isinstance(data, bytes) and lines.errors != "ignore":  # type: ignore[attr-defined]
        yield from count_bytes(data, lines.encoding, lines.errors).items()  # type: ignore[attr-defined]
        return
    text = "\n".join(line for line in lines if not is_comment(line))
    counts = Counter(text.translate(_PUNCTUATION_TO_SPACE).lower().split())
    for word, count in counts.items():
        if word.isalpha() and word not in STOP_WORDS:
            yield word, count


# Punctuation, and the four ASCII separators that str.split() splits on but
# bytes.split() does not, become spaces.
_SEPARATORS = string.punctuation.encode() + bytes(range(0x1C, 0x20))
_BYTES_TO_SPACE = bytes.maketrans(_SEPARATORS, b" " * len(_SEPARATORS))


def count_bytes(data: bytes, encoding: str = "utf-8", errors: str = "replace") -> dict[str, int]:
    """Count the words of whole lines given as bytes, by the rules (for UTF-8 and
    other encodings in which bytes below 0x80 are ASCII)."""
    if b".." in data:
        data = _without_comment_lines(data, encoding, errors)
    totals: dict[str, int] = {}
    for raw, count in Counter(data.translate(_BYTES_TO_SPACE).split()).items():
        if raw.isalpha():  # ASCII letters only: lowercasing bytes is str.lower()
            word = raw.lower().decode("ascii")
            if word not in STOP_WORDS:
                totals[word] = totals.get(word, 0) + count
            continue
        # Non-ASCII: decode, and split again on the Unicode spaces bytes.split() kept.
        for word in raw.decode(encoding, errors).lower().split():
            if word.isalpha() and word not in STOP_WORDS:
                totals[word] = totals.get(word, 0) + count
    return totals


def _without_comment_lines(data: bytes, encoding: str, errors: str) -> bytes:
    """Blank every comment line (line endings stay). Only lines holding ``..`` can
    be comments; each of those is decoded and judged by ``is_comment`` itself."""
    kept: list[bytes] = []
    keep_from = search = 0
    while (found := data.find(b"..", search)) >= 0:
        start = max(data.rfind(b"\n", 0, found), data.rfind(b"\r", 0, found)) + 1
        end = min(
            e for e in (data.find(b"\n", found), data.find(b"\r", found), len(data)) if e >= 0
        )
        if is_comment(data[start:end].decode(encoding, errors)):
            kept.append(data[keep_from:start])
            keep_from = end
        search = end
    kept.append(data[keep_from:])
    return b"".join(kept)


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
