"""Job counters: named integers that tasks count and the driver sums.

Each successful task attempt reports its own counters once; a failed attempt's
counters are dropped, so a re-run task never counts twice. User code counts with
``increment_counter(group, name)``, into the counters of the task running it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator, Mapping

__all__ = ["BUILTIN_COUNTERS", "Counters", "increment_counter"]

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


#: The groups of the built-in counters, which user counters may not use.
BUILTIN_GROUPS = frozenset(name.split(".")[0] for name in BUILTIN_COUNTERS)

_running = threading.local()  # per thread: a Dask worker may run tasks in several


@contextlib.contextmanager
def counting_into(counters: dict[str, int]) -> Iterator[None]:
    """Send ``increment_counter`` calls of this thread to ``counters`` while a task runs."""
    previous = getattr(_running, "counters", None)
    _running.counters = counters
    try:
        yield
    finally:
        _running.counters = previous


def increment_counter(group: str, name: str, amount: int = 1) -> None:
    """Add ``amount`` to the job counter ``"group.name"``, from inside a mapper,
    combiner, reducer or hook.

    The job's ``counters`` hold the sum over its tasks (a task run again counts
    once). Outside a running task, for instance when a mapper is called directly
    in a unit test, this does nothing.
    """
    if not isinstance(group, str) or not isinstance(name, str) or not group or not name:
        raise TypeError(f"a counter's group and name are strings, got {group!r} and {name!r}")
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"a counter's amount is an integer, got {amount!r}")
    if group.split(".")[0] in BUILTIN_GROUPS:
        raise ValueError(
            f"the counter group {group!r} is simplemr's own; choose another "
            f"(built-in groups: {', '.join(sorted(BUILTIN_GROUPS))})"
        )
    counters = getattr(_running, "counters", None)
    if counters is not None:
        key = f"{group}.{name}"
        counters[key] = counters.get(key, 0) + amount


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

    def user(self) -> dict[str, int]:
        """The counters user code incremented, by ``"group.name"``."""
        return {
            name: amount
            for name, amount in self.items()
            if name.split(".")[0] not in BUILTIN_GROUPS
        }
