"""The engine's per-pair and per-key loops, in plain Python.

Each function fills or splits a ``{key: [values]}`` table and stops after
``limit`` values, so that its caller can check the table's size against the
budget between calls (``shuffle/table.py``). ``_speedups.c`` is their compiled twin,
and this module is the reference it is tested against (``simplemr.core`` picks one).

    map_records(mapper, records, table, n, cursor)  ==  for record in records:
                                                            for k, v in mapper(record):
                                                                table.setdefault(k, []).append(v)
                                                        (stopping after n pairs, resumable)
    merge_items(table, items, n, cursor)            ==  for k, vs in items:
                                                            table.setdefault(k, []).extend(vs)
    spread(table, slots)[s]  ==  [(k, vs) for k, vs in table.items() if partition_of(k, slots) == s]
    crowded(table, n)        ==  [k for k, vs in table.items() if len(vs) >= n]
    reduce_groups(f, groups, spot, out)             ==  for k, vs in groups:
                                                            out.append(f(k, iter(vs)))
                                                        (stopping at a result that is a generator)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from types import GeneratorType
from typing import Any

from ..errors import ShapeError, short_repr
from .partition import canonical_key, partition_of

__all__ = [
    "MapCursor",
    "PairShapeError",
    "crowded",
    "line_endings",
    "map_records",
    "merge_items",
    "pair",
    "pairs_of",
    "reduce_groups",
    "spread",
    "utf8_valid",
]


class PairShapeError(ShapeError):
    """A mapper gave something other than ``(key, value)`` pairs."""

    def __init__(self, how: str, what: Any) -> None:
        super().__init__(
            "the mapper must return or yield (key, value) pairs, such as "
            f"[(key, value)]; it {how} {_shown(what)}"
        )


def _shown(what: Any) -> str:
    if what is None:
        return "None"
    text = short_repr(what)
    kind = type(what).__name__
    if isinstance(what, (tuple, list)):
        kind = f"{kind} of {len(what)}"
    article = "an" if kind[0] in "aeiou" else "a"
    return f"{text}, {article} {kind}"


def pair(item: Any) -> tuple[Any, Any]:
    """``item`` as ``(key, value)``: a 2-tuple, or any other two things
    (``key, value = item``), but never a string or bytes of two (``"ab"`` would be
    ``("a", "b")``, the silent result of ``lambda line: line.split()``); else
    ``PairShapeError``."""
    if isinstance(item, (str, bytes, bytearray)):
        raise PairShapeError("yielded", item)
    try:
        key, value = item
    except (TypeError, ValueError) as error:
        raise PairShapeError("yielded", item) from error
    return key, value


def pairs_of(output: Any) -> Any:
    """An iterator over a mapper's ``output``; ``PairShapeError`` if it has none
    (an int, None: not pairs)."""
    try:
        return iter(output)
    except TypeError as error:
        raise PairShapeError("returned", output) from error


class MapCursor:
    """Where a map task is in its records, kept by ``map_records`` between calls:
    how many records it has ``taken``, the last ``record`` taken (what an error
    names), and that record's ``pairs`` not yet added (None when none are left). The
    compiled ``map_records`` keeps the same three fields."""

    __slots__ = ("pairs", "record", "taken")

    def __init__(self) -> None:
        self.taken = 0
        self.record: Any = None
        self.pairs: Iterator[Any] | None = None

    def __repr__(self) -> str:
        return f"MapCursor(taken={self.taken}, record={self.record!r}, pairs={self.pairs!r})"


def map_records(
    mapper: Callable[[Any], Iterable[tuple[Any, Any]]],
    records: Iterable[Any],
    table: dict[Any, list[Any]],
    limit: int,
    cursor: MapCursor,
) -> int:
    """Call ``mapper`` on each record of ``records`` and add each pair it yields to
    ``table``, until ``limit`` pairs are added or the records run out; return how
    many were added (fewer than ``limit``: the records ran out). ``cursor`` lets the
    next call go on where this one stopped, and names the record the mapper raised on.
    """
    _check_limit(limit)
    records = iter(records)
    added = 0
    get = table.get
    pairs = cursor.pairs
    cursor.pairs = None
    try:
        while True:
            if pairs is None:
                record = next(records, _END)
                if record is _END:
                    return added
                cursor.taken += 1
                cursor.record = record
                pairs = pairs_of(mapper(record))
            for item in pairs:
                if type(item) is tuple and len(item) == 2:
                    key, value = item
                else:
                    key, value = pair(item)
                values = get(key)
                if values is None:
                    table[key] = [value]
                else:
                    values.append(value)
                added += 1
                if added >= limit:
                    cursor.pairs = pairs
                    return added
            pairs = None
    except BaseException:
        cursor.pairs = None
        raise


_END = object()


def merge_items(
    table: dict[Any, list[Any]],
    items: Iterable[tuple[Any, list[Any]]],
    limit: int,
    cursor: list[Any],
) -> int:
    """Add the values of each ``(key, values)`` of ``items`` to ``table`` under
    their key (every NaN one key: ``canonical_key``), until ``limit`` values are
    added or the items run out; return how many were added. ``cursor`` receives
    the last ``[key, values]`` taken (what the size estimate samples)."""
    _check_limit(limit)
    added = 0
    get = table.get
    last = None
    for last in items:
        key, values = last
        current = get(key)
        if current is None and type(key) is not str:
            # A new key, or a NaN: every NaN object must be one key.
            canonical = canonical_key(key)
            if canonical is not key:
                key = canonical
                current = get(key)
        if current is None:
            table[key] = values
        else:
            current.extend(values)
        added += len(values)
        if added >= limit:
            break
    if last is not None:
        cursor[:] = last
    return added


def _check_limit(limit: int) -> None:
    if limit < 1:
        raise ValueError("limit must be at least 1")


def spread(
    table: dict[Any, list[Any]], slots: int, salt: bytes = b""
) -> list[list[tuple[Any, list[Any]]]]:
    """The table's items in ``slots`` runs by ``partition_of(key, slots, salt)``,
    each run in the table's order."""
    runs: list[list[tuple[Any, list[Any]]]] = [[] for _ in range(slots)]
    for key, values in table.items():
        runs[partition_of(key, slots, salt)].append((key, values))
    return runs


def crowded(table: dict[Any, list[Any]], least: int) -> list[Any]:
    """The keys of ``table`` that hold at least ``least`` values, in the table's
    order: the ones worth a combiner's call, found without a Python step per key."""
    return [key for key, values in table.items() if len(values) >= least]


def reduce_groups(
    reduce: Callable[[Any, Iterator[Any]], Any],
    groups: Iterator[tuple[Any, Iterable[Any]]],
    spot: list[Any],
    out: list[Any],
) -> Iterator[Any] | None:
    """Append ``reduce(key, iter(values))`` to ``out`` for each ``(key, values)`` of
    ``groups``; return None once they run out, or the first result that is a
    generator (its group taken), for the caller to stream before it calls again.

    ``spot[0]``, ``groups`` on entry, is what a watchdog follows: the iterator of a
    key's values while a key with more than one is reduced (and while the generator
    returned streams), else ``groups``, whose length hint moves a key at a time.
    """
    for key, values in groups:
        followed = iter(values)
        many = type(values) is not list or len(values) != 1
        if many:
            spot[0] = followed
        result = reduce(key, followed)
        if type(result) is GeneratorType:
            return result
        if many:
            spot[0] = groups
        out.append(result)
    return None


def line_endings(data: bytes) -> int:
    """How many line endings ``data`` holds: ``\\n``, ``\\r\\n`` or a lone ``\\r``."""
    endings = data.count(b"\n")
    if b"\r" in data:
        endings += data.count(b"\r") - data.count(b"\r\n")
    return endings


def utf8_valid(data: bytes) -> bool:
    """Whether ``data`` decodes as UTF-8 without error (``data.decode("utf-8")``)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
