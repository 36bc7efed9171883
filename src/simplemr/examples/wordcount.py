"""Word count, the classic recipe's job, with its rules exactly.

For every line: skip it if ``line.lstrip()`` starts with ``..`` (a
reStructuredText comment); replace each character of ``string.punctuation``
with a space; split on whitespace; lowercase each word; keep a word if
``word.isalpha()`` and it is not a stop word. Count the words kept.

The mapper is a bulk mapper: it takes a block of a few MiB of lines and counts
its words with C-speed methods and ``collections.Counter``, because calling a
Python function per line or per word would cost more than the work itself. It
is equivalent to ``count_line`` applied to every line, summed. In the job
(``WordCountStep``) each map task keeps one counter of raw tokens across all its
blocks and turns it into words once, at its end (or when it grows past
``RAW_TOKENS_HELD`` distinct tokens), so each distinct token is decoded and
judged once a task, not once a block.

On a ``TextBlock`` (text files in UTF-8 and other ASCII-compatible encodings)
it counts the raw bytes: ``bytes.translate`` blanks the punctuation about
forty times faster than ``str.translate`` on text with any non-ASCII letter,
and only the block's distinct words are then decoded and lowercased. That is
exact because the punctuation, the line endings and ASCII whitespace are
single bytes below 0x80, which never occur inside a multi-byte character.
"""

from __future__ import annotations

import dataclasses
import heapq
import string
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..api import MapReduce
from ..io.textfiles import BLOCK_SIZE
from ..job import FunctionStep, MapFunctions

__all__ = [
    "RAW_TOKENS_HELD",
    "STOP_WORDS",
    "WordCountStep",
    "count_bytes",
    "count_line",
    "format_top",
    "is_comment",
    "job",
    "map_lines",
    "raw_tokens",
    "sum_counts",
    "top_words",
    "word_and_total",
    "words_of_tokens",
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
    return words_of_tokens(raw_tokens(data, encoding, errors), encoding, errors)


def raw_tokens(data: bytes, encoding: str = "utf-8", errors: str = "replace") -> Counter[bytes]:
    """Count the raw tokens of whole lines given as bytes."""
    return Counter(_tokens(data, encoding, errors))


def _tokens(data: bytes, encoding: str, errors: str) -> list[bytes]:
    """The raw tokens of whole lines given as bytes: the comment lines left out,
    punctuation blanked, split on ASCII whitespace."""
    if b".." in data:
        data = _without_comment_lines(data, encoding, errors)
    return data.translate(_BYTES_TO_SPACE).split()


def words_of_tokens(
    tokens: Counter[bytes], encoding: str = "utf-8", errors: str = "replace"
) -> dict[str, int]:
    """The word counts that raw token counts stand for: each token decoded,
    lowercased and kept by the rules (``count_bytes == words_of_tokens ∘ raw_tokens``)."""
    totals: dict[str, int] = {}
    for raw, count in tokens.items():
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
    be comments; each of those is judged by ``is_comment`` itself, decoded, unless
    its first byte after ASCII blanks already says (an ASCII character that is not
    a blank starts a line that is no comment). Each search for a line's ends stops
    at the nearest ``\\n``, so no ``..`` makes the block be scanned again."""
    has_cr = b"\r" in data
    kept: list[bytes] = []
    keep_from = search = 0
    while (found := data.find(b"..", search)) >= 0:
        start = data.rfind(b"\n", 0, found) + 1
        end = data.find(b"\n", found)
        end = len(data) if end < 0 else end
        if has_cr:
            start = max(start, data.rfind(b"\r", start, found) + 1)
            cr = data.find(b"\r", found, end)
            end = end if cr < 0 else cr
        search = end
        lead = data[start:found].lstrip(_ASCII_BLANKS)
        if lead and lead[0] < 0x80:
            continue  # found is the line's first "..", and text comes before it
        if is_comment(data[start:end].decode(encoding, errors)):
            kept.append(data[keep_from:start])
            keep_from = end
    kept.append(data[keep_from:])
    return b"".join(kept)


#: The ASCII characters str.isspace() holds blank, but for the line endings.
_ASCII_BLANKS = b" \t\x0b\x0c\x1c\x1d\x1e\x1f"


def sum_counts(word: str, counts: Iterable[int]) -> int:
    """Combine partial counts of a word: their sum."""
    return sum(counts)


def word_and_total(word: str, counts: Iterable[int]) -> tuple[str, int]:
    """Reduce a word's partial counts to ``(word, total)``."""
    return word, sum(counts)


#: How many distinct raw tokens a map task holds before it turns them into words
#: and hands them on (about 30 MiB of them; a task's vocabulary rarely comes near),
#: with the engine's full blocks of 2 MiB; in proportion fewer with smaller blocks,
#: which the engine reads for a small memory budget (``textfiles.block_size``).
RAW_TOKENS_HELD = 200_000


class _TaskTokens:
    """One map task's raw token counts, gathered across its blocks, so that each
    distinct token is decoded and judged once a task, not once a block."""

    def __init__(self) -> None:
        self.tokens: Counter[bytes] = Counter()
        self.codec = ("utf-8", "replace")
        self.largest = 0  # the largest block so far: smaller for a small budget

    def count(self, lines: Sequence[str]) -> Iterator[tuple[str, int]]:
        """Count a block: its raw tokens when it has bytes, else its words (``map_lines``)."""
        data = getattr(lines, "data", None)
        if not isinstance(data, bytes) or lines.errors == "ignore":  # type: ignore[attr-defined]
            yield from map_lines(lines)
            return
        codec = (lines.encoding, lines.errors)  # type: ignore[attr-defined]
        if codec != self.codec:
            yield from self.words()
            self.codec = codec
        self.tokens.update(_tokens(data, *codec))  # Counter counts a list in C
        self.largest = max(self.largest, len(data))
        if len(self.tokens) > RAW_TOKENS_HELD * min(1.0, self.largest / BLOCK_SIZE):
            yield from self.words()

    def words(self) -> Iterator[tuple[str, int]]:
        """Yield ``(word, count)`` for the tokens held, and let them go."""
        tokens, self.tokens = self.tokens, Counter()
        yield from words_of_tokens(tokens, *self.codec).items()


@dataclass(frozen=True)
class WordCountStep(FunctionStep):
    """The word count: ``map_lines``, ``sum_counts`` and ``word_and_total``, with each
    map task's raw tokens counted across its blocks (``_TaskTokens``)."""

    def map_task(self) -> MapFunctions:
        tokens = _TaskTokens()
        plain = super().map_task()
        return dataclasses.replace(plain, mapper=tokens.count, mapper_final=tokens.words)


def job(**options: Any) -> MapReduce:
    """Return the word count job; ``options`` go to ``MapReduce`` (workers, memory...)."""
    step = WordCountStep(map_lines, word_and_total, sum_counts, bulk=True)
    return MapReduce._for_steps((step,), **options)


def top_words(counts: Iterable[tuple[str, int]], top: int = 20) -> list[tuple[str, int]]:
    """Return the ``top`` most frequent words: count descending, then word ascending."""
    return heapq.nsmallest(top, counts, key=lambda pair: (-pair[1], pair[0]))


class TopWords:
    """The ``top`` most frequent words of the counts it sees (``see``), in bounded
    memory: an ``OutputTap``, so that each reduce task writing counts to an output
    hands back its own top words, and the driver merges them (``top_words``)."""

    def __init__(self, top: int = 20) -> None:
        self.top = top
        self.words: list[tuple[str, int]] = []

    def see(self, pair: tuple[str, int]) -> None:
        """Take note of one word's count."""
        self.words.append(pair)
        if len(self.words) > 4 * self.top + 1000:
            self.words = top_words(self.words, self.top)

    def summary(self) -> list[tuple[str, int]]:
        """The top words seen, most frequent first."""
        return top_words(self.words, self.top)


def format_top(pairs: list[tuple[str, int]], top: int = 20) -> str:
    """Format the top words as the recipe printed them."""
    lines = ["", f"TOP {top} WORDS BY FREQUENCY", ""]
    longest = max((len(word) for word, _ in pairs), default=0)
    lines += ["%-*s: %5s" % (longest + 1, word, count) for word, count in pairs]  # noqa: UP031
    return "\n".join(lines)
