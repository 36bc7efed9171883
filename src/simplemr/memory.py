"""The memory budget and sizes: reading them (``512MB``), writing them, the
budget's default from the machine's RAM, and a process's peak memory.

A job has one budget for its data. Each worker gets an equal share, which bounds
its map buffer and its reduce grouping; the interpreters come on top. How a table
is measured against its share is ``shuffle/table.py``'s.
"""

from __future__ import annotations

import os
import re
import resource
import sys

from .cgroups import cgroup_folders, read_cgroup_file

__all__ = [
    "available_memory",
    "cgroup_memory_limits",
    "default_budget",
    "format_size",
    "parse_size",
    "peak_rss",
    "physical_memory",
]

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


#: A cgroup limit at least this large means "no limit" (cgroup v1 writes 2**63 - 4096).
_UNLIMITED = 1 << 60


def cgroup_memory_limits(
    membership: str = "/proc/self/cgroup", root: str = "/sys/fs/cgroup"
) -> list[int]:
    """The memory limits of this process's cgroups, its own and those above it, in
    bytes: cgroup v2's ``memory.max`` and cgroup v1's ``memory.limit_in_bytes``
    (``membership`` says which cgroups, ``root`` where they are mounted; see
    ``cgroups``). Empty where none limits memory."""
    found = []
    for folder in cgroup_folders("memory", membership, root):
        for name in ("memory.max", "memory.limit_in_bytes"):  # v2, v1
            text = read_cgroup_file(os.path.join(folder, name))
            if text is not None and text.isdigit() and int(text) < _UNLIMITED:
                found.append(int(text))  # not "max" (v2's no limit)
    return found


def available_memory() -> int:
    """The memory this process's tree may use: the machine's RAM, or less where a
    memory cgroup limits it (a container's, a systemd slice's)."""
    return min([physical_memory(), *cgroup_memory_limits()])


def default_budget(workers: int) -> int:
    """Return the default job budget: a quarter of the memory the job may use (the
    RAM, or a memory cgroup's limit), at most 96 MiB a worker."""
    per_worker = min(DEFAULT_WORKER_BUDGET, available_memory() // (4 * max(workers, 1)))
    return max(per_worker, MIN_WORKER_BUDGET) * max(workers, 1)


def peak_rss() -> int:
    """This process's peak resident memory so far, in bytes: on Linux its own memory's
    high-water mark (``VmHWM``), since ``ru_maxrss`` also counts what the process that
    started it held when it forked (a large test runner, a benchmark)."""
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux counts KiB
