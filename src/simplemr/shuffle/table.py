"""The budgeted table: ``{key: [values]}`` filled in steps, its size checked between.

Every table the engine holds (a map task's buffer, a reduce task's group, a sort's
run) grows the same way: a kernel (``core.map_records``, ``core.merge_items``)
adds up to ``every`` values, then the table samples what it holds and says whether
its estimated size has passed the budget; what to do then (combine, spill, send a
hot key to disk, split again, write a sorted run) is the caller's. Checking every
``every`` values rather than every value is what keeps the check free.

    table = GroupTable(budget)
    while table.took(fill(table.groups, source, table.room, ...)):
        if table.over_budget():
            relieve(table)
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["Budget", "GroupTable", "SizeEstimator", "check_interval", "deep_size"]


def check_interval(budget: float) -> int:
    """How many values to add to a table between two estimates of its size:
    often enough that a small budget is not overshot, rarely enough to cost nothing."""
    return int(max(16, min(4096, budget // 4096)))


def deep_size(obj: Any) -> float:
    """Return an estimate of the bytes ``obj`` holds, following tuples and lists
    two levels down (enough for keys and values of MapReduce jobs).

    An inner object that many others also refer to at the moment it is sampled (a
    file name in every value of a file, a small int) is charged only its share, so
    that data sharing one object is not counted as holding a copy each.
    """
    size: float = sys.getsizeof(obj)
    if type(obj) in (tuple, list):
        for item in obj:
            size += _share_of(item)
            if type(item) in (tuple, list):
                for inner in item:
                    size += _share_of(inner)
    return size


#: From how many holders an object counts as shared. Not 2: a mapper's temporaries
#: (the list a line was split into, paused at ``yield``) hold a value's parts for a
#: moment; sharing worth discounting means hundreds of holders, or billions (immortal).
SHARED_FROM = 32


def _share_of(obj: Any) -> float:
    holders = sys.getrefcount(obj) - _PASSING_REFERENCES
    size = sys.getsizeof(obj)
    return size / holders if holders >= SHARED_FROM else size


def _references(obj: Any) -> int:
    return sys.getrefcount(obj)  # called as _share_of calls getrefcount: same depth


def _passing_references() -> int:
    """References that looking at an item adds (loop variable, argument...): what
    ``_share_of`` sees beyond the one holder of an object nothing else refers to."""
    for item in (object(),):
        return _references(item) - 1
    raise AssertionError("unreachable")


_PASSING_REFERENCES = _passing_references()


# What a dict entry holding a new key and its list of values costs, beyond the
# key and values themselves: the dict slot (amortised) and an empty list.
_ENTRY_OVERHEAD = 104
_POINTER = 8


class SizeEstimator:
    """Estimates the memory of a ``{key: [values]}`` table from samples.

    Measuring every object would cost more than the work itself, so one key and
    one value are measured at each check of the budget (``Budget.every`` values
    apart) and the running averages are applied to the counts. Sizes come from
    the objects themselves (``sys.getsizeof``, an object that many values share
    charged its share), never from bytes on disk: a pickled batch is several times
    smaller than the same objects in memory.
    """

    __slots__ = ("_key_bytes", "_key_samples", "_value_bytes", "_value_samples")

    def __init__(self) -> None:
        self._key_bytes = 0.0
        self._key_samples = 0
        self._value_bytes = 0.0
        self._value_samples = 0

    def sample_key(self, key: Any) -> None:
        self._key_bytes += deep_size(key) + _ENTRY_OVERHEAD
        self._key_samples += 1

    def sample_value(self, value: Any) -> None:
        self._value_bytes += deep_size(value) + _POINTER
        self._value_samples += 1

    @property
    def key_cost(self) -> float:
        return self._key_bytes / self._key_samples if self._key_samples else 160.0

    @property
    def value_cost(self) -> float:
        return self._value_bytes / self._value_samples if self._value_samples else 64.0

    def estimate(self, keys: int, values: int) -> float:
        """Return the estimated bytes of a table of ``keys`` keys and ``values`` values."""
        return keys * self.key_cost + values * self.value_cost


class Budget:
    """A budget in bytes, how often to check it, and the estimate it is checked by."""

    __slots__ = ("budget", "estimator", "every")

    def __init__(self, budget: float) -> None:
        self.budget = budget
        self.every = check_interval(budget)
        self.estimator = SizeEstimator()

    def exceeded(self, keys: int, values: int, key: Any, value: Any) -> bool:
        """Sample ``key`` and ``value`` (one of the table's); whether a table of
        ``keys`` keys and ``values`` values is estimated past the budget."""
        self.estimator.sample_key(key)
        self.estimator.sample_value(value)
        return self.estimator.estimate(keys, values) > self.budget


class GroupTable(Budget):
    """``groups``, a ``{key: [values]}`` dict, and ``values``, how many it holds."""

    __slots__ = ("groups", "room", "values")

    def __init__(self, budget: float) -> None:
        super().__init__(budget)
        self.groups: dict[Any, list[Any]] = {}
        self.values = 0
        #: How many values may be added before the next check is due.
        self.room = self.every

    def took(self, count: int) -> bool:
        """Count ``count`` values just added; whether a check of the budget is due
        (a fill that stopped short of ``room`` ran out of input)."""
        self.values += count
        self.room -= count
        if self.room > 0:
            return False
        self.room = self.every
        return True

    def estimate(self) -> float:
        """The table's estimated size in bytes."""
        return self.estimator.estimate(len(self.groups), self.values)

    def over_budget(self) -> bool:
        """Sample the key added last (and its last value); whether the table is
        estimated past the budget."""
        if not self.groups:
            return False
        key = next(reversed(self.groups))
        values = self.groups[key]
        return self.exceeded(len(self.groups), self.values, key, values[-1] if values else None)

    def clear(self) -> None:
        """Empty the table (its size estimate keeps what it learned)."""
        self.groups = {}
        self.values = 0
