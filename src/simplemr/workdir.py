"""Work folders: private to the job, named by their owner, and never left for good.

A job's work folder (mode 0700) goes under ``tmp_dir``, ``$SIMPLEMR_TMPDIR`` or the
system's temp folder. Its name holds the driver's process ID and a tag of its host
(``simplemr-4242@1a2b3c4d-x8k2``), and so does an output's hidden temporary. A driver
killed with SIGKILL cannot clean up after itself; the next job that creates a work
folder there, or writes the same output, removes what such a driver left: folders and
temporaries of this host, of this user, whose process is gone.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import socket
import tempfile

from .errors import JobDefinitionError

__all__ = ["TMPDIR_VARIABLE", "is_stale", "make_workdir", "owner_tag", "remove_stale", "work_root"]

#: The environment variable that sets where work folders go.
TMPDIR_VARIABLE = "SIMPLEMR_TMPDIR"

_TAG = re.compile(r"(\d+)@([0-9a-f]{8})")


def _host() -> str:
    return hashlib.sha1(socket.gethostname().encode(), usedforsecurity=False).hexdigest()[:8]


def owner_tag() -> str:
    """``PID@HOST`` of this process, for the names of what it leaves on disk."""
    return f"{os.getpid()}@{_host()}"


def is_stale(name: str, path: str) -> bool:
    """Whether ``path``, whose name holds the owner tag found in ``name``, was left by
    a process of this host and this user that is gone."""
    match = _TAG.search(name)
    if match is None or match[2] != _host() or int(match[1]) == os.getpid():
        return False
    try:
        if os.lstat(path).st_uid != os.getuid():
            return False
        os.kill(int(match[1]), 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive (someone else's), or the path went meanwhile
        return False
    return False


def work_root(tmp_dir: str | None) -> tuple[str, str]:
    """Return where work folders go, and what chose it (for messages)."""
    if tmp_dir:
        return tmp_dir, "tmp_dir"
    if os.environ.get(TMPDIR_VARIABLE):
        return os.environ[TMPDIR_VARIABLE], f"${TMPDIR_VARIABLE}"
    return tempfile.gettempdir(), "the system's temp folder"


def make_workdir(tmp_dir: str | None, prefix: str = "simplemr-") -> str:
    """Create a private folder (mode 0700) under ``tmp_dir``, ``$SIMPLEMR_TMPDIR``
    or the system's temp folder, first removing the folders dead drivers left there."""
    root, origin = work_root(tmp_dir)
    remove_stale(root, prefix)
    try:
        return tempfile.mkdtemp(prefix=f"{prefix}{owner_tag()}-", dir=root)
    except OSError as error:
        raise JobDefinitionError(
            f"cannot create a work folder in {root!r} ({origin}): {error.strerror}"
        ) from None


def remove_stale(folder: str, prefix: str) -> None:
    """Remove what dead processes of this host and user left in ``folder`` under
    names starting with ``prefix``."""
    try:
        names = [name for name in os.listdir(folder) if name.startswith(prefix)]
    except OSError:
        return
    for name in names:
        path = os.path.join(folder, name)
        if not is_stale(name, path):
            continue
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(path)
