"""Ordering within a budget: results by key, for ``sort=True``, across partitions;
and each key's values, for ``sort_values=`` (a secondary sort).

    reduce task:  results ─▶ sorted runs (each fits the budget) ─▶ merged ─▶ results file
    driver:       results file of every partition ─▶ merged, a batch of each at a time
    reduce task:  a key's values held in memory ─▶ sorted in place ─▶ reducer
                  a key's values past the budget ─▶ sorted runs ─▶ merged ─▶ reducer

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

from ..errors import SortError, short_repr
from ..io.batches import LocalFile, read_batches, write_batches
from ..io.workdir import create_private
from ..job import ValueOrder
from .table import Budget
from .task import UserCodeError, user_errors

__all__ = ["merge_sorted", "sort_within_budget", "sorted_values", "unorderable_keys"]

_by_key = itemgetter(0)
_second = itemgetter(1)


def unorderable_keys(error: TypeError) -> SortError:
    """The error of ``sort=True`` for keys that ``<`` cannot order (``error`` says which)."""
    return SortError(
        f"sort=True needs keys that < can order, and these cannot be: {error}. Give keys "
        "of one orderable type: all str, all numbers, or tuples of those (not None, not dicts)"
    )


def _sorted_in_place(
    items: list[tuple[Any, Any]],
    reverse: bool = False,
    unorderable: Callable[[TypeError], SortError] = unorderable_keys,
) -> list[tuple[Any, Any]]:
    try:
        items.sort(key=_by_key, reverse=reverse)
    except TypeError as error:
        raise unorderable(error) from None
    return items


def merge_sorted(
    runs: Iterable[Iterable[tuple[Any, Any]]],
    reverse: bool = False,
    unorderable: Callable[[TypeError], SortError] = unorderable_keys,
) -> Iterator[tuple[Any, Any]]:
    """Merge runs of ``(key, result)`` each ordered by key (descending with
    ``reverse``) into one ordered run; on equal keys, earlier runs first.
    Equivalent to a stable sort of their chain."""
    merged = heapq.merge(*runs, key=_by_key, reverse=reverse)
    while True:
        try:
            item = next(merged)
        except StopIteration:
            return
        except TypeError as error:
            raise unorderable(error) from None
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
    reverse: bool = False,
    unorderable: Callable[[TypeError], SortError] = unorderable_keys,
) -> Iterator[tuple[Any, Any]]:
    """Yield ``(key, result)`` items ordered by key, holding about ``budget`` bytes;
    sorted runs that outgrow it go to files named by ``new_path()``, and ``wrote``
    hears how many bytes each took. Keys that ``<`` cannot order raise
    ``unorderable(the TypeError)``.

    Equivalent, memory aside, to ``sorted(items, key=lambda item: item[0],
    reverse=reverse)``.
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
            runs.append(_write_run(_sorted_in_place(held, reverse, unorderable), new_path()))
            wrote(os.path.getsize(runs[-1]))
            held = []
            next_check = budget_of_runs.every
    _sorted_in_place(held, reverse, unorderable)
    if not runs:
        yield from held
        return
    runs_read = (read_batches(LocalFile(path)) for path in runs)
    yield from merge_sorted([*runs_read, held], reverse, unorderable)


def sorted_values(
    key: Any,
    values: Iterable[Any],
    order: ValueOrder,
    budget: float,
    new_path: Callable[[], str],
    wrote: Callable[[int], None] = lambda nbytes: None,
) -> Iterable[Any]:
    """The values of ``key`` in ``order``: a list (every value held already) sorted
    in place, any other iterable (values past the budget, from disk) sorted within
    ``budget`` as ``sort_within_budget`` sorts, lazily. Values that cannot be ordered
    raise a ``SortError`` naming ``key`` and the two types.

    Equivalent, memory aside, to ``sorted(values, key=order.key, reverse=order.reverse)``.
    """

    def unorderable(error: TypeError) -> SortError:
        return SortError(
            f"sort_values needs values that < can order, and those of key {short_repr(key)} "
            f"cannot be: {error}"
        )

    if type(values) is list:
        try:
            values.sort(key=order.key, reverse=order.reverse)
        except TypeError as error:
            raise unorderable(error) from None
        except user_errors() as error:  # in the key function
            raise UserCodeError("sort_values function", f"key {short_repr(key)}") from error
        return values
    by = order.key or _itself
    keyed = ((by(value), value) for value in values)
    ordered = sort_within_budget(keyed, budget, new_path, wrote, order.reverse, unorderable)
    return map(_second, ordered)


def _itself(value: Any) -> Any:
    return value
