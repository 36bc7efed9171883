"""Average and percentiles per key, in bounded memory: response times per endpoint.

The mapper turns each JSON line into a tiny summary: a count, a sum and a
quantile sketch of one value. The combiner and the reducer merge summaries, so
no task ever holds a key's raw values. The sketch keeps counts in buckets
spaced 2% apart on a log scale (DDSketch's idea): any quantile comes out within
2% of a true value, and its size depends on the spread of values, not their
number (at most 1,200 buckets between 1 microsecond and a day).

    simplemr run simplemr.examples.latency_stats:LatencyStats requests.jsonl
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from simplemr import Job

GAMMA = 1.02  # each bucket is 2% wider than the one before
LOG_GAMMA = math.log(GAMMA)
Summary = tuple[int, float, Counter[int]]  # count, sum, bucket -> count


def bucket_of(value: float) -> int:
    return math.ceil(math.log(value) / LOG_GAMMA) if value > 0 else -(10**9)


def merge(summaries: Iterable[Summary]) -> Summary:
    count, total, buckets = 0, 0.0, Counter[int]()
    for part_count, part_total, part_buckets in summaries:
        count += part_count
        total += part_total
        buckets.update(part_buckets)
    return count, total, buckets


def quantile(summary: Summary, q: float) -> float:
    """The value at quantile ``q`` (0 to 1), within 2% (0 for the zero bucket)."""
    count, _, buckets = summary
    rank = q * (count - 1)
    seen = 0
    for bucket in sorted(buckets):
        seen += buckets[bucket]
        if seen > rank:
            return 0.0 if bucket == -(10**9) else 2 * GAMMA**bucket / (GAMMA + 1)
    raise ValueError("quantile of an empty summary")


class LatencyStats(Job):
    """endpoint -> {"count", "mean", "p50", "p90", "p99"} of the "ms" field."""

    INPUT_FORMAT = "jsonl"
    OUTPUT_FORMAT = "jsonl"
    SORT = True

    def mapper(self, _: None, request: dict[str, Any]) -> Iterator[tuple[str, Summary]]:
        ms = float(request["ms"])
        yield request["endpoint"], (1, ms, Counter({bucket_of(ms): 1}))

    def combiner(
        self, endpoint: str, summaries: Iterable[Summary]
    ) -> Iterator[tuple[str, Summary]]:
        yield endpoint, merge(summaries)

    def reducer(
        self, endpoint: str, summaries: Iterable[Summary]
    ) -> Iterator[tuple[str, dict[str, float]]]:
        summary = merge(summaries)
        stats: dict[str, float] = {"count": summary[0], "mean": round(summary[1] / summary[0], 3)}
        for q in (50, 90, 99):
            stats[f"p{q}"] = round(quantile(summary, q / 100), 3)
        yield endpoint, stats


if __name__ == "__main__":
    LatencyStats.main()
