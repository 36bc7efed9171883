"""This process's control groups: the folders of their files, its own group first,
then each group above it (a limit set above holds below too, so a process's limit is
the tightest of them all).

    cgroup_folders("pids")  ->  [".../pids/jobs/one", ".../pids/jobs", ".../pids"]  (v1)
                                ["/sys/fs/cgroup/jobs/one", ..., "/sys/fs/cgroup"]  (v2)

``/proc/self/cgroup`` says which groups (one line a v1 hierarchy, ``0::path`` for
v2's one hierarchy); in a container, the container's group is the root it sees.
Where none can be read, there are none: no limit.
"""

from __future__ import annotations

import os

__all__ = ["cgroup_folders", "read_cgroup_file"]


def cgroup_folders(
    controller: str, membership: str = "/proc/self/cgroup", root: str = "/sys/fs/cgroup"
) -> list[str]:
    """The folders of this process's groups that may hold ``controller``'s files,
    its own group's first: v2's, and v1's hierarchy of that controller."""
    try:
        with open(membership) as lines:
            entries = [line.rstrip("\n").split(":", 2) for line in lines]
    except OSError:
        return []
    folders: list[str] = []
    for entry in entries:
        if len(entry) != 3:
            continue
        _, controllers, path = entry
        if controllers == "":
            top = root  # v2: one hierarchy, every controller
        elif controller in controllers.split(","):
            top = os.path.join(root, controller)
        else:
            continue
        parts = [part for part in path.split("/") if part]
        folders.extend(os.path.join(top, *parts[:end]) for end in range(len(parts), -1, -1))
    return folders


def read_cgroup_file(path: str) -> str | None:
    """The stripped text of a group's file, or None where it cannot be read."""
    try:
        with open(path) as file:
            return file.read().strip()
    except OSError:
        return None
