"""The memory budget: parsing it, its default, and estimating what objects take.

A job has one budget for its data. Each worker gets an equal share, which bounds
its map buffer and its reduce grouping; the interpreters come on top.

Sizes are estimated from the objects themselves (sampled ``sys.getsizeof``, an
object that many values share charged its share), never from bytes on disk: a
pickled batch is several times smaller than the same objects in memory.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any

__all__ = ["SizeEstimator", "check_interval", "default_budget", "format_size", "parse_size"]

MiB = 1024 * 1024
_UNITS = {
    "": 1, "b": 1,
    "k": 1000, "kb": 1000, "kib": 1024,
    "m": 1000**2, "mb": 1000**2, "mib": 1024**2,
    "g": 1000**3, "gb": 1000**3, "gib": 1024**3,
    "t": 1000**4, "tb": 1000**4, "tib": 1024**4,
}  # fmt: skip
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")

#: The smallest budget a worker may have (tiny budgets are for tests of spilling).
MIN_WORKER_BUDGET = 16 * 1024
#: The default budget per worker, capped so a laptop-sized job stays laptop-sized.
DEFAULT_WORKER_BUDGET = 96 * MiB


def parse_size(value: int | str) -> int:
    """Return a size in bytes from ``512MB``, ``1.5GiB``, ``"1000"`` or an int."""
    if isinstance(value, bool):
        raise TypeError(f"memory must be a size like '512MB' or a number of bytes, not {value!r}")
    if isinstance(value, int):
        size = value
    elif isinstance(value, str):
        match = _SIZE.match(value)
        unit = match.group(2).lower() if match else None
        if not match or unit not in _UNITS:
            raise ValueError(
                f"cannot read {value!r} as a size: use a number with an optional unit, "
                "e.g. '512MB', '2GiB' or '800000000'"
            )
        size = int(float(match.group(1)) * _UNITS[unit])
    else:
        raise TypeError(f"memory must be a size like '512MB' or a number of bytes, not {value!r}")
    if size <= 0:
        raise ValueError(f"memory must be positive, got {value!r}")
    return size


def format_size(size: float) -> str:
    """Return ``size`` bytes as a short human-readable string (``'1.5 MiB'``)."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(size) < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def physical_memory() -> int:
    """Return the machine's RAM in bytes (4 GiB if the system will not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 4 * 1024 * MiB


def default_budget(workers: int) -> int:
    """Return the default job budget: a quarter of RAM, at most 96 MiB a worker."""
    per_worker = min(DEFAULT_WORKER_BUDGET, physical_memory() // (4 * max(workers, 1)))
    return max(per_worker, MIN_WORKER_BUDGET) * max(workers, 1)


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

    Measuring every object would cost more than the work itself, so one key in
    ``every`` and one value in ``every`` is measured and the running averages
    are applied to the counts.
    """

    __slots__ = ("_key_bytes", "_key_samples", "_value_bytes", "_value_samples", "every")

    def __init__(self, every: int = 64) -> None:
        self.every = every
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
