"""Ordering results by key, for ``sort=True``: within a budget, across partitions.

    reduce task:  results ─▶ sorted runs (each fits the budget) ─▶ merged ─▶ results file
    driver:       results file of every partition ─▶ merged, a batch of each at a time

Each reduce task writes its results in key order, spilling sorted runs to disk
when they outgrow the budget, and the driver merges the partitions' files as
they are read, so neither side ever holds more than a budget of results.
The sort and the merges are stable, but the order in which a reduce task produces
results for equal keys is not specified, so neither is their order in the output.
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter
from typing import Any

from ..errors import SortError
from ..io.batches import LocalFile, read_batches, write_batches
from ..io.workdir import create_private
from .table import Budget

__all__ = ["merge_sorted", "sort_within_budget"]

_by_key = itemgetter(0)


def _unorderable(error: TypeError) -> SortError:
    return SortError(
        f"sort=True needs keys that < can order, and these cannot be: {error}. Give keys "
        "of one orderable type: all str, all numbers, or tuples of those (not None, not dicts)"
    )


def _sorted_in_place(items: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    try:
        items.sort(key=_by_key)
    except TypeError as error:
        raise _unorderable(error) from None
    return items


def merge_sorted(runs: Iterable[Iterable[tuple[Any, Any]]]) -> Iterator[tuple[Any, Any]]:
    """Merge runs of ``(key, result)`` each ordered by key into one ordered run;
    on equal keys, earlier runs first. Equivalent to a stable sort of their chain."""
    merged = heapq.merge(*runs, key=_by_key)
    while True:
        try:
            item = next(merged)
        except StopIteration:
            return
        except TypeError as error:
            raise _unorderable(error) from None
        yield item


def _write_run(items: list[tuple[Any, Any]], path: str) -> str:
    with create_private(path, buffering=1024 * 1024) as file:
        write_batches(file, items)
    return path


def sort_within_budget(
    items: Iterable[tuple[Any, Any]],
    budget: float,
    new_path: Callable[[], str],
    wrote: Callable[[int], None] = lambda nbytes: None,
) -> Iterator[tuple[Any, Any]]:
    """Yield ``(key, result)`` items ordered by key, holding about ``budget`` bytes;
    sorted runs that outgrow it go to files named by ``new_path()``, and ``wrote``
    hears how many bytes each took.

    Equivalent, memory aside, to ``sorted(items, key=lambda item: item[0])``.
    """
    runs: list[str] = []
    held: list[tuple[Any, Any]] = []
    budget_of_runs = Budget(budget)
    next_check = budget_of_runs.every
    for item in items:
        held.append(item)
        if len(held) < next_check:
            continue
        next_check = len(held) + budget_of_runs.every
        if budget_of_runs.exceeded(len(held), len(held), item[0], item[1]):
            runs.append(_write_run(_sorted_in_place(held), new_path()))
            wrote(os.path.getsize(runs[-1]))
            held = []
            next_check = budget_of_runs.every
    _sorted_in_place(held)
    if not runs:
        yield from held
        return
    yield from merge_sorted([*(read_batches(LocalFile(path)) for path in runs), held])
