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
