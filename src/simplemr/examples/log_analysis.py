"""Web server logs: the top paths, status codes per hour, and bytes sent per client.

Reads Apache and Nginx "combined" format lines. One pass computes three reports,
each under a key of its own (``["path", ...]``, ``["status", ...]``,
``["bytes", ...]``); a second step turns the path totals into a top list. Lines
that are not in the format are counted (``log.malformed``) and skipped.

    simplemr run simplemr.examples.log_analysis:LogReport access.log* -o report.jsonl
"""

from __future__ import annotations

import argparse
import heapq
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from simplemr import Job, Step

COMBINED = re.compile(
    r'(?P<client>\S+) \S+ \S+ \[(?P<time>[^\]]+)\] "(?:\S+) (?P<path>\S+)[^"]*" '
    r'(?P<status>\d{3}) (?P<size>\d+|-)(?: "[^"]*" "[^"]*")?'
)

#: A report's key: its name, then what it is of (a path, an hour and a status, a client).
Key = tuple[str, ...]


class LogReport(Job):
    """["path", "TOP"] -> [[path, hits], ...]; ["status", hour, code] -> hits;
    ["bytes", client] -> bytes sent."""

    OUTPUT_FORMAT = "jsonl"
    SORT = True

    def configure_options(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--top", type=int, default=10, help="how many paths (10)")

    def steps(self) -> list[Step]:
        return [
            Step(mapper=self.parse, combiner=self.total, reducer=self.total),
            Step(mapper=self.route, reducer=self.report),
        ]

    def parse(self, _: None, line: str) -> Iterator[tuple[Key, int]]:
        match = COMBINED.match(line)
        if match is None:
            self.increment_counter("log", "malformed")
            return
        when = datetime.strptime(match["time"], "%d/%b/%Y:%H:%M:%S %z")
        yield ("path", match["path"].split("?")[0]), 1
        yield ("status", when.strftime("%Y-%m-%dT%H:00%z"), match["status"]), 1
        size = match["size"]
        yield ("bytes", match["client"]), 0 if size == "-" else int(size)

    def total(self, key: Key, amounts: Iterable[int]) -> Iterator[tuple[Key, int]]:
        yield key, sum(amounts)

    def route(self, key: Key, total: int) -> Iterator[tuple[Key, Any]]:
        if key[0] == "path":
            yield ("path", "TOP"), (total, key[1])
        else:
            yield key, total

    def report(self, key: Key, values: Iterable[Any]) -> Iterator[tuple[Key, Any]]:
        if key == ("path", "TOP"):
            top = heapq.nsmallest(self.options.top, values, key=lambda v: (-v[0], v[1]))
            yield key, [[path, hits] for hits, path in top]
        else:
            yield key, sum(values)


if __name__ == "__main__":
    LogReport.main()
