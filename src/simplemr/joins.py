"""Joining two named inputs on a key, reduce-side: ``simplemr.join``.

    left records  ─▶ (key, (0, record)) ─┐
                                         ├─▶ shuffle ─▶ values ordered by side ─▶ joined
    right records ─▶ (key, (1, record)) ─┘     (sort_values: the left side first)

Each input gets a mapper of its own (``NamedInputs``), which tags a record with its side
and keys it by that side's key function; a secondary sort on the tag hands the reducer a
key's left records first, so it holds those only and streams the right ones past them.
Put the smaller side on the left: a key's left records are what one reducer call holds.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .api import MapReduce
from .errors import JobDefinitionError

__all__ = ["HOW", "join"]

#: The joins ``join`` does: which unmatched records it keeps (with None for the other side).
HOW = ("inner", "left", "right", "outer")


def join(
    left_key: Callable[[Any], Any],
    right_key: Callable[[Any], Any],
    *,
    how: str = "inner",
    **options: Any,
) -> MapReduce:
    """A job joining the inputs ``"left"`` and ``"right"`` on their keys: run it as
    ``job.run({"left": ..., "right": ...})``. Each result is ``(key, left_record,
    right_record)``, for every pair of records whose keys are equal; with ``how``
    ``"left"``, ``"right"`` or ``"outer"``, a record of that side (of either, for
    ``"outer"``) that matched none comes too, with None for the other. ``options``
    go to ``MapReduce`` (``workers``, ``memory``, ``sort``...).

    Equivalent to ``[(k, l, r) for l in left for r in right if (k := left_key(l)) ==
    right_key(r)]``, plus the unmatched records ``how`` keeps, in any order.
    """
    if how not in HOW:
        raise JobDefinitionError(f"how must be one of {', '.join(map(repr, HOW))}; got {how!r}")
    for name, function in (("left_key", left_key), ("right_key", right_key)):
        if not callable(function):
            raise JobDefinitionError(f"{name} must be a function of a record, got {function!r}")
    for taken in ("sort_values", "reverse_values", "combiner"):
        if taken in options:
            raise JobDefinitionError(f"join orders and combines values itself: drop {taken}=")
    mappers = {
        "left": functools.partial(_tagged, LEFT, left_key),
        "right": functools.partial(_tagged, RIGHT, right_key),
    }
    reducer = functools.partial(_joined, how)
    return MapReduce(mappers, reducer, sort_values=_side, **options)


LEFT, RIGHT = 0, 1
_side = operator.itemgetter(0)


def _tagged(side: int, key_of: Callable[[Any], Any], record: Any) -> list[tuple[Any, Any]]:
    return [(key_of(record), (side, record))]


def _joined(how: str, key: Any, tagged: Iterable[tuple[int, Any]]) -> Iterator[Any]:
    """The joined results of one key, whose left records come first."""
    held: list[Any] = []
    matched = False
    for side, record in tagged:
        if side == LEFT:
            held.append(record)
            continue
        matched = True
        if held:
            for left in held:
                yield key, left, record
        elif how in ("right", "outer"):
            yield key, None, record
    if not matched and how in ("left", "outer"):
        for left in held:
            yield key, left, None
