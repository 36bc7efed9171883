"""Distributed sort: text lines ordered by a key field.

A sample of the keys cuts them into ordered ranges, one a reduce task; each reduce
task sorts its range (spilling sorted runs to disk when they do not fit its budget)
and writes it, so files far larger than memory sort in one pass of each phase, and
the parts of an output folder, in order, are the sorted lines. Lines with equal keys
keep no particular order. Numeric keys sort as numbers with ``--numeric``.

    simplemr run simplemr.examples.sort_lines:SortLines --field 2 data.tsv > sorted.tsv
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import Any

from simplemr import Job


class SortLines(Job):
    """The lines, ordered by their tab-separated field --field (from 1)."""

    OUTPUT_FORMAT = "value"  # the lines alone, not their keys
    SORT = True

    def configure_options(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--field", type=int, default=1, help="the key field, from 1 (1)")
        parser.add_argument("--numeric", action="store_true", help="compare keys as numbers")

    def mapper(self, _: None, line: str) -> Iterator[tuple[Any, str]]:
        fields = line.split("\t")
        if len(fields) < self.options.field:
            self.increment_counter("sort", "lines_without_key")
            return
        key: Any = fields[self.options.field - 1]
        if self.options.numeric:
            key = float(key)
        yield key, line


if __name__ == "__main__":
    SortLines.main()
