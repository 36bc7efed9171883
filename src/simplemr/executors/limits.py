"""What this machine lets a local job start: cores, open files, processes and threads.

Each limit is checked before any worker starts, so that a job asking for more is
refused in one line naming the limit and the most workers it allows, instead of
failing halfway with "Too many open files" or a fork server's traceback.
"""

from __future__ import annotations

import os
import resource

from ..cgroups import cgroup_folders, read_cgroup_file
from ..errors import JobDefinitionError

__all__ = ["MAX_WORKERS_PER_CORE", "available_cores", "check_machine_allows"]


def check_machine_allows(workers: int) -> None:
    """Refuse ``workers`` local workers where this machine cannot run them: more than
    ``MAX_WORKERS_PER_CORE`` a core, more than ``ulimit -n`` leaves open files for, or
    more than a pids cgroup leaves processes and threads for."""
    ceiling = MAX_WORKERS_PER_CORE * available_cores()
    if workers > ceiling:
        raise JobDefinitionError(
            f"workers={workers} is more processes than this machine can run: it has "
            f"{available_cores()} cores; ask for at most {ceiling} "
            f"({MAX_WORKERS_PER_CORE} a core), or fewer"
        )
    _check_open_files(workers)
    _check_processes(workers)


#: The most workers a core: more only share it, each with its own memory, pipes and
#: files, until the machine gives out (a user asking for 100,000 meant something else).
MAX_WORKERS_PER_CORE = 16


#: Open files the driver holds for each worker (its pipe, its process's sentinel, the
#: progress it shares), and for itself besides (its inputs, outputs, the fork server).
FILES_PER_WORKER = 3
FILES_OF_THE_DRIVER = 32


def _check_open_files(workers: int) -> None:
    """Refuse, before any starts, more workers than this process may open files for
    (``ulimit -n``): else one fails to start with "Too many open files" halfway."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = FILES_OF_THE_DRIVER + FILES_PER_WORKER * workers
    if soft != resource.RLIM_INFINITY and needed > soft:
        most = max(0, (soft - FILES_OF_THE_DRIVER) // FILES_PER_WORKER)
        raise JobDefinitionError(
            f"workers={workers} needs about {needed} open files, and this process may have "
            f"{soft} (ulimit -n): ask for at most {most} workers, or raise the limit"
        )


#: Tasks (processes and threads) each worker runs: itself, its watch on the driver,
#: its heartbeat; and besides them, the fork server and the resource tracker.
TASKS_PER_WORKER = 3
TASKS_BESIDES = 4


def _check_processes(workers: int) -> None:
    """Refuse, before any starts, more workers than this process's pids cgroup lets
    start (a container's limit on processes and threads): else the fork server
    fails halfway, with a traceback of its own."""
    room = _pids_room()
    if room is None:
        return
    left, where = room
    needed = TASKS_BESIDES + TASKS_PER_WORKER * workers
    if needed > left:
        most = max(0, (left - TASKS_BESIDES) // TASKS_PER_WORKER)
        raise JobDefinitionError(
            f"workers={workers} needs about {needed} more processes and threads, and the "
            f"pids limit of {where} leaves {left}: ask for at most {most} workers"
        )


def _pids_room() -> tuple[int, str] | None:
    """How many more processes and threads this process's pids cgroup (v1 or v2),
    or any above it, lets start, and which limit that is; None without a limit."""
    tightest: tuple[int, str] | None = None
    for folder in cgroup_folders("pids"):
        limit = os.path.join(folder, "pids.max")
        maximum = read_cgroup_file(limit)
        used = read_cgroup_file(os.path.join(folder, "pids.current"))
        if maximum is None or used is None or not (maximum.isdigit() and used.isdigit()):
            continue  # "max": no limit here
        left = int(maximum) - int(used)
        if tightest is None or left < tightest[0]:
            tightest = (left, limit)
    return tightest


def available_cores() -> int:
    """Return the number of cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
