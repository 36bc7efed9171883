"""The obvious sequential MapReduce that the engine is checked against."""

from __future__ import annotations

import types
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any


def reference_mapreduce(
    mapper: Callable[[Any], Iterable[tuple[Any, Any]]],
    reducer: Callable[[Any, Any], Any],
    records: Iterable[Any],
) -> list[Any]:
    """Map every record, group the values in a dict of lists, reduce each key."""
    groups: dict[Any, list[Any]] = defaultdict(list)
    for record in records:
        for key, value in mapper(record):
            groups[key].append(value)
    results: list[Any] = []
    for key, values in groups.items():
        result = reducer(key, iter(values))
        if isinstance(result, types.GeneratorType):
            results.extend(result)
        else:
            results.append(result)
    return results


def as_multiset(results: Iterable[Any]) -> list[str]:
    """Results as a sorted list of reprs: equal multisets give equal lists,
    whatever the results' types (they need not be orderable)."""
    return sorted(repr(result) for result in results)


def reference_pipeline(
    steps: list[tuple[Callable[[Any, Any], Iterable[Any]], Callable[[Any, Any], Iterable[Any]]]],
    records: Iterable[Any],
) -> list[Any]:
    """Run job-class steps one after another by hand: each ``(mapper, reducer)``
    yields pairs; the first mapper gets ``(None, record)``."""
    pairs: list[tuple[Any, Any]] = [(None, record) for record in records]
    for mapper, reducer in steps:
        groups: dict[Any, list[Any]] = defaultdict(list)
        for key, value in pairs:
            for out_key, out_value in mapper(key, value):
                groups[out_key].append(out_value)
        pairs = [pair for key, values in groups.items() for pair in reducer(key, iter(values))]
    return pairs
