"""Mappers, reducers and combiners for the tests, in a module light enough for
worker processes to import quickly (no test framework imports)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import Any

from reference import as_multiset


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    y: str


def normal(key: Any) -> Any:
    """A key in a form whose repr is the same for every member of its equality
    class (``1``, ``1.0`` and ``True`` are one dict key, but repr differently)."""
    if isinstance(key, (bool, int, float)) and key == int(key):
        return int(key)
    if isinstance(key, tuple):
        return tuple(normal(item) for item in key)
    return key


# --- mappers: each takes one record ---------------------------------------------


def words_mapper(line: str) -> Iterator[tuple[str, int]]:
    for word in line.split():
        yield word, 1


def mixed_key_mapper(number: int) -> list[tuple[Any, Any]]:
    keys = [
        number % 3,
        float(number % 3),
        bool(number % 2),
        None,
        str(number % 5),
        str(number % 5).encode(),
        (number % 2, None, "t"),
        (float(number % 2), None, "t"),
        Point(number % 2, "p"),
    ]
    return [(keys[number % len(keys)], number), (keys[(number * 7) % len(keys)], -number)]


def letters_mapper(line: str) -> Iterator[tuple[int, str]]:
    for position, letter in enumerate(line):
        yield position % 4, letter


# --- reducers and combiners --------------------------------------------------------


def sum_reducer(key: Any, values: Iterable[int]) -> tuple[Any, int]:
    return normal(key), sum(values)


def sum_combiner(key: Any, values: Iterable[int]) -> int:
    return sum(values)


def sorted_values_reducer(key: Any, values: Iterable[Any]) -> tuple[Any, list[Any]]:
    return normal(key), sorted(values)


def joining_reducer(key: Any, values: Iterable[str]) -> tuple[Any, str]:
    # Not commutative: the result depends on the order the values arrive in, which
    # is unspecified, so results are compared with their letters sorted.
    return key, "".join(values)


def exploding_reducer(key: Any, values: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
    for value in values:
        yield normal(key), value


def max_combiner(key: Any, values: Iterable[int]) -> int:
    return max(values)


def max_reducer(key: Any, values: Iterable[int]) -> tuple[Any, int]:
    return normal(key), max(values)


def normalise_joined(results: Iterable[tuple[Any, str]]) -> list[str]:
    return as_multiset((key, sorted(text)) for key, text in results)
