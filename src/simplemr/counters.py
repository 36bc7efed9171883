"""Job counters: named integers that tasks count and the driver sums.

Each successful task attempt reports its own counters once; a failed attempt's
counters are dropped, so a re-run task never counts twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["BUILTIN_COUNTERS", "Counters"]

MAP_RECORDS_IN = "map.records_in"
MAP_RECORDS_OUT = "map.records_out"
MAP_SKIPPED = "map.skipped_records"
MAP_SPILLS = "map.spills"
MAP_SPILLED_BYTES = "map.spilled_bytes"
COMBINE_RECORDS_IN = "combine.records_in"
COMBINE_RECORDS_OUT = "combine.records_out"
REDUCE_RECORDS_IN = "reduce.records_in"
REDUCE_GROUPS = "reduce.groups"
REDUCE_RECORDS_OUT = "reduce.records_out"
REDUCE_SPILLED_BYTES = "reduce.spilled_bytes"
INPUT_BYTES = "input.bytes"
INPUT_DECODE_ERRORS = "input.decode_errors"
TASKS_MAP = "tasks.map"
TASKS_REDUCE = "tasks.reduce"
TASK_ATTEMPTS = "tasks.attempts"
TASK_RETRIES = "tasks.retries"
#: Prefix of the per-file decode error counts a map task hands back apart.
DECODE_ERRORS_IN = "input.decode_errors@"

#: Every built-in counter, in the order a summary shows them.
BUILTIN_COUNTERS = (
    INPUT_BYTES,
    INPUT_DECODE_ERRORS,
    MAP_RECORDS_IN,
    MAP_RECORDS_OUT,
    MAP_SKIPPED,
    COMBINE_RECORDS_IN,
    COMBINE_RECORDS_OUT,
    MAP_SPILLS,
    MAP_SPILLED_BYTES,
    REDUCE_RECORDS_IN,
    REDUCE_GROUPS,
    REDUCE_RECORDS_OUT,
    REDUCE_SPILLED_BYTES,
    TASKS_MAP,
    TASKS_REDUCE,
    TASK_ATTEMPTS,
    TASK_RETRIES,
)


class Counters(dict[str, int]):
    """A mapping of counter name to total; missing names read as 0.

    Every built-in counter is present (at 0 if nothing counted it), so
    ``counters["map.records_in"]`` always works.
    """

    def __init__(self, items: Mapping[str, int] | Iterable[tuple[str, int]] = ()) -> None:
        super().__init__(dict.fromkeys(BUILTIN_COUNTERS, 0))
        self.update(items)

    def __missing__(self, name: str) -> int:
        return 0

    def add(self, other: Mapping[str, int]) -> None:
        """Add every count of ``other`` to this one."""
        for name, amount in other.items():
            self[name] = self.get(name, 0) + amount
