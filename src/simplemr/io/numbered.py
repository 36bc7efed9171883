"""Numbered lines: text records that carry their file and line number.

    input_files(paths, "numbered")  ─▶  records ("name", 1, "first line"), ("name", 2, ...)

A large file is still read in parallel, as byte ranges like plain lines: while
planning, one pass over the file counts the lines that start before each range
(``bytes.count`` runs at gigabytes a second, so this costs a fraction of reading the
file once more), and each range numbers its own lines from there. Lines are the
same as ``text_files``'s (``\\n``, ``\\r\\n`` or a lone ``\\r`` ends one).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .. import core
from ..errors import InputError
from .filesystems import open_binary
from .reading import READ_ERRORS
from .textfiles import CombinedSplit, TextFiles, TextSplit

__all__ = ["NumberedSplit", "lines_before", "numbered_splits"]

_CHUNK = 16 * 1024 * 1024


def lines_before(path: str, offsets: Sequence[int]) -> list[int]:
    """For each of the ascending ``offsets``, how many lines of ``path`` start
    before it: ``1 +`` the line endings that lie wholly before ``offset - 1``, for
    the line that starts at 0 (a ``\\r`` just before ``offset - 1`` whose ``\\n`` is
    at ``offset - 1`` ends its line at ``offset`` itself, so does not count)."""
    counts: list[int] = []
    endings = position = 0
    last_was_cr = False
    with open_binary(path) as file:
        for offset in offsets:
            if offset <= 0:
                counts.append(0)
                continue
            target = offset - 1
            while position < target:
                chunk = file.read(min(_CHUNK, target - position))
                if not chunk:
                    break
                endings += core.line_endings(chunk)
                if last_was_cr and chunk.startswith(b"\n"):
                    endings -= 1  # a "\r\n" cut between two reads counted twice
                last_was_cr = chunk.endswith(b"\r")
                position += len(chunk)
            before = endings
            if last_was_cr and position == target and _byte_at(file, position) == b"\n":
                before -= 1
            counts.append(1 + before)
    return counts


def _byte_at(file: Any, position: int) -> bytes:
    """The byte at ``position`` of ``file``, read without moving on."""
    here = file.tell()
    file.seek(position)
    found: bytes = file.read(1)
    file.seek(here)
    return found


@dataclass(frozen=True)
class NumberedSplit:
    """A split's lines as ``(file name, line number, line)`` records; ``first_lines``
    holds, for each file it reads, how many of the file's lines come before."""

    inner: TextSplit | CombinedSplit
    first_lines: tuple[int, ...]

    @property
    def parts(self) -> tuple[TextSplit, ...]:
        return self.inner.parts if isinstance(self.inner, CombinedSplit) else (self.inner,)

    def blocks(
        self, counters: dict[str, int], line_limit: int | None = None
    ) -> Iterator[Sequence[tuple[str, int, str]]]:
        for part, first in zip(self.parts, self.first_lines, strict=True):
            number = first + 1
            name = itertools.repeat(part.name)
            for block in part.blocks(counters, line_limit):
                lines = list(block)
                yield list(zip(name, range(number, number + len(lines)), lines, strict=False))
                number += len(lines)

    def describe(self) -> str:
        return self.inner.describe()

    def locate(self, block_number: int, index: int, record: Any) -> str:
        # Every record says where it is.
        return f"{record[0]}, line {record[1]}"


def numbered_splits(files: TextFiles, workers: int) -> Iterator[NumberedSplit]:
    """``files``'s splits, each with the line numbers its files' lines start from."""
    ranges: list[TextSplit] = []  # the byte ranges of one file, in order
    for split in files.splits(workers):
        if (
            isinstance(split, TextSplit)
            and not split.whole
            and split.end - split.start < split.size
        ):
            if ranges and ranges[0].path != split.path:
                yield from _numbered(ranges)
                ranges = []
            ranges.append(split)
            continue
        yield from _numbered(ranges)
        ranges = []
        parts = split.parts if isinstance(split, CombinedSplit) else (split,)
        yield NumberedSplit(split, (0,) * len(parts))
    yield from _numbered(ranges)


def _numbered(ranges: list[TextSplit]) -> Iterator[NumberedSplit]:
    if not ranges:
        return
    first = ranges[0]
    try:
        counts = lines_before(first.path, [split.start for split in ranges])
    except READ_ERRORS as error:
        raise InputError(f"cannot read {first.name!r}: {error}") from None
    for split, count in zip(ranges, counts, strict=True):
        yield NumberedSplit(split, (count,))
