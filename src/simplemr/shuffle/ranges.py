"""Sorted output in parallel: the keys cut into ordered ranges, one a reduce task.

    sample tasks:  the first block of some splits ─▶ mapper ─▶ {key: pairs}  (a few)
    driver:        every sample ─▶ sorted ─▶ cut points at equal shares of the pairs
    map tasks:     key ─▶ reduce task bisect_left(cuts, key)  (a RangePartitioner)
    reduce tasks:  each sorts its own keys (within the budget) and writes its part

Partition ``p`` holds the keys above ``cuts[p - 1]`` up to ``cuts[p]``, so the parts
read in partition order are the sorted output, and no process merges them all. A key
that holds a share of the sampled pairs or more has a range, so a reduce task, to
itself. This is Hadoop's TotalOrderPartitioner fed by an input sampler, and Spark's
``sortByKey``.
"""

from __future__ import annotations

import bisect
import itertools
import operator
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..job import ValueOrder, ordered_by
from .sorting import unorderable_keys

__all__ = ["RangePartitioner", "cut_points"]


@dataclass(frozen=True)
class RangePartitioner:
    """The reduce task of a key: the range of ``cuts`` its sort key falls in (see the
    module), counted from the last with a descending ``order``."""

    cuts: tuple[Any, ...]
    order: ValueOrder = field(default_factory=ValueOrder)

    def __call__(self, key: Any, partitions: int) -> int:
        try:
            ascending = bisect.bisect_left(self.cuts, ordered_by(self.order, key))
        except TypeError as error:
            raise unorderable_keys(error) from None
        return partitions - 1 - ascending if self.order.reverse else ascending


def cut_points(samples: Iterable[list[tuple[Any, int]]], partitions: int) -> tuple[Any, ...]:
    """Up to ``partitions - 1`` keys cutting the sampled keys (each with how many pairs
    it had, in any number of samples) into ranges of about equal shares of the pairs.
    A key holding a share or more alone gets a range to itself; where the sample runs
    out, the last ranges get nothing."""
    counted = list(itertools.chain.from_iterable(samples))
    try:
        counted.sort(key=_first)
    except TypeError as error:
        raise unorderable_keys(error) from None
    merged = [(key, sum(map(_second, same))) for key, same in itertools.groupby(counted, _first)]
    share = sum(map(_second, merged)) / partitions
    cuts: list[Any] = []
    filled = 0
    for index, (key, count) in enumerate(merged):
        if len(cuts) >= partitions - 1:
            break
        if count >= share and filled:  # a hot key: end the range before it
            cuts.append(merged[index - 1][0])
            filled = 0
        filled += count
        if filled >= share and len(cuts) < partitions - 1:
            cuts.append(key)
            filled = 0
    return tuple(cuts)


_first = operator.itemgetter(0)
_second = operator.itemgetter(1)
