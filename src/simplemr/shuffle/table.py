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

from typing import Any

from ..memory import SizeEstimator, check_interval

__all__ = ["Budget", "GroupTable"]


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
