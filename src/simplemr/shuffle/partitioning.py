"""Which reduce task gets a key: the stable hash of its canonical bytes, or the
step's own partitioner.

A spill cuts the map buffer into ``partitions * BUCKETS`` runs; run ``s`` is bucket
``s // partitions`` of partition ``s % partitions`` (``segments.py``). By default
both come from one stable hash (``core.spread``). A partitioner chooses the
partition; the bucket, which only splits a reduce task's work, still comes from the
stable hash, so a key's values meet in one bucket whichever map task spilled them.

    spread_by(table, n, f)[b * n + p]  ==  [(k, vs) for k, vs in table.items()
                                            if f(k, n) == p and partition_of(k, BUCKETS) == b]
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from .. import core
from ..errors import ShapeError, SimplemrError, short_repr
from .segments import BUCKETS
from .task import UserCodeError, user_errors

__all__ = ["Partitioner", "spread_by"]

#: ``partitioner(key, partitions)``: the reduce task of ``key``, from 0.
Partitioner = Callable[[Any, int], int]


def spread_by(
    table: dict[Any, list[Any]], partitions: int, partitioner: Partitioner
) -> list[list[tuple[Any, list[Any]]]]:
    """The table's items in ``partitions * BUCKETS`` runs, each key in the partition
    ``partitioner`` chooses (checked: an int in ``range(partitions)``), each run in
    the table's order."""
    runs: list[list[tuple[Any, list[Any]]]] = [[] for _ in range(partitions * BUCKETS)]
    bucket_of = core.partition_of
    for key, values in table.items():
        chosen = _chosen(partitioner, key, partitions)
        runs[bucket_of(key, BUCKETS) * partitions + chosen].append((key, values))
    return runs


def _chosen(partitioner: Partitioner, key: Any, partitions: int) -> int:
    try:
        chosen = partitioner(key, partitions)
        if not _is_partition(chosen, partitions):
            raise PartitionerError(key, chosen, partitions)
    except SimplemrError:  # the engine's own partitioner's, already clear
        raise
    except user_errors() as error:
        raise UserCodeError("partitioner", f"key {short_repr(key)}") from error
    return chosen if type(chosen) is int else operator.index(chosen)


def _is_partition(chosen: Any, partitions: int) -> bool:
    """Whether ``chosen`` is an int (or an integer such as numpy's, never a bool) in
    ``range(partitions)``."""
    if type(chosen) is int:
        return 0 <= chosen < partitions
    if isinstance(chosen, bool) or not hasattr(type(chosen), "__index__"):
        return False
    return 0 <= operator.index(chosen) < partitions


class PartitionerError(ShapeError):
    """A partitioner returned something other than a reduce task's number."""

    def __init__(self, key: Any, chosen: Any, partitions: int) -> None:
        super().__init__(
            f"the partitioner must return the reduce task of a key, an int in "
            f"range({partitions}); for key {short_repr(key)} it returned {short_repr(chosen)}"
        )
