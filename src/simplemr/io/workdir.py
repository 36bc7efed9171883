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
import os
import re
import shutil
import stat
import tempfile
import zlib
from typing import BinaryIO

from ..errors import JobDefinitionError, WorkFolderError

__all__ = [
    "TMPDIR_VARIABLE",
    "check_root",
    "create_private",
    "is_stale",
    "make_workdir",
    "open_own",
    "owner_gone",
    "owner_tag",
    "read_range",
    "remove_path",
    "remove_stale",
    "work_root",
]

#: The environment variable that sets where work folders go.
TMPDIR_VARIABLE = "SIMPLEMR_TMPDIR"

_TAG = re.compile(r"(\d+)@([0-9a-f]{8})")


def _host() -> str:
    """This host, and this process's PID namespace (containers sharing a folder see
    each other's process IDs as gone), in eight hex digits."""
    try:
        namespace = str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        namespace = ""
    seen = f"{os.uname().nodename}/{namespace}".encode()
    return f"{zlib.crc32(seen):08x}"  # a name, not a secret: no hash library to load


def owner_tag() -> str:
    """``PID@HOST`` of this process, for the names of what it leaves on disk."""
    return f"{os.getpid()}@{_host()}"


def owner_gone(tag: str) -> bool:
    """Whether the process an owner tag (``owner_tag``) names ran on this host and PID
    namespace, and has ended."""
    match = _TAG.fullmatch(tag)
    if match is None or match[2] != _host() or int(match[1]) == os.getpid():
        return False
    try:
        os.kill(int(match[1]), 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, someone else's
        return False
    return False


def is_stale(name: str, path: str) -> bool:
    """Whether ``path``, whose name holds the owner tag found in ``name`` (the part of
    the name after its prefix), was left by a process of this host, PID namespace and
    user that is gone."""
    match = _TAG.search(name)
    if match is None:
        return False
    try:
        if os.lstat(path).st_uid != os.getuid():
            return False
    except OSError:  # the path went meanwhile
        return False
    return owner_gone(match[0])


def work_root(tmp_dir: str | None) -> tuple[str, str]:
    """Return where work folders go, and what chose it (for messages)."""
    if tmp_dir:
        return tmp_dir, "tmp_dir"
    if os.environ.get(TMPDIR_VARIABLE):
        return os.environ[TMPDIR_VARIABLE], f"${TMPDIR_VARIABLE}"
    return tempfile.gettempdir(), "the system's temp folder"


def make_workdir(tmp_dir: str | None, prefix: str = "simplemr-") -> str:
    """Create a private folder (mode 0700) under ``tmp_dir``, ``$SIMPLEMR_TMPDIR``
    or the system's temp folder, first removing the folders dead drivers left there.
    Its path is absolute: a task that changes its directory still finds it."""
    root, origin = work_root(tmp_dir)
    check_root(root, origin)
    remove_stale(root, prefix)
    try:
        return os.path.abspath(tempfile.mkdtemp(prefix=f"{prefix}{owner_tag()}-", dir=root))
    except OSError as error:
        raise JobDefinitionError(
            f"cannot create a work folder in {root!r} ({origin}): {error.strerror}"
        ) from None


def check_root(root: str, origin: str) -> None:
    """Refuse a folder other users can write in without the sticky bit: any of them
    could rename the job's private folder and put one of their own in its place. (A
    folder writable by the user's own primary group, as a umask of 002 makes them,
    is taken as the user's.)"""
    try:
        info = os.stat(root)
    except OSError:
        return  # creating the work folder says what is wrong
    mode = info.st_mode
    shared_group = mode & stat.S_IWGRP and info.st_gid != os.getgid()
    if (mode & stat.S_IWOTH or shared_group) and not mode & stat.S_ISVTX:
        raise JobDefinitionError(
            f"cannot use {root!r} ({origin}) for a work folder: other users can write in it "
            "and it has no sticky bit, so they could replace the job's files; choose a "
            "folder only you can write in (or one with the sticky bit, as /tmp has)"
        )


def create_private(path: str, buffering: int = -1, append: bool = False) -> BinaryIO:
    """Open a new file of the work folder for writing, readable by its owner only
    (mode 0600 whatever the umask), never through a symbolic link."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | (os.O_APPEND if append else os.O_TRUNC)
    return os.fdopen(os.open(path, flags, 0o600), "ab" if append else "wb", buffering=buffering)


def read_range(file: BinaryIO, path: str, start: int, size: int) -> bytes:
    """All ``size`` bytes of ``file`` (at ``path``) from offset ``start``, however many reads that
    takes (Linux gives at most about 2 GiB a read); a file that ends sooner was cut
    short or changed while the job read it, and is never taken as whole."""
    parts = []
    got = 0
    while got < size:
        part = os.pread(file.fileno(), min(size - got, _MOST_READ), start + got)
        if not part:
            raise WorkFolderError(
                f"{path!r} in the work folder ends at byte {start + got}, where the "
                f"job wrote {start + size}: something cut it short or changed it while the "
                "job ran (another program, a full or failing disk); run the job again"
            )
        parts.append(part)
        got += len(part)
    return parts[0] if len(parts) == 1 else b"".join(parts)


#: The most bytes asked of one read.
_MOST_READ = 1 << 30


def open_own(path: str, buffering: int = -1) -> BinaryIO:
    """Open a file of the work folder for reading, if this user owns it: what is read
    from there is unpickled, so a file planted by anyone else is never read."""
    file = os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb", buffering=buffering)
    if os.fstat(file.fileno()).st_uid != os.getuid():
        file.close()
        raise WorkFolderError(
            f"{path!r} in the work folder belongs to another user; simplemr reads only "
            "the files it wrote itself"
        )
    return file


def remove_stale(folder: str, prefix: str) -> None:
    """Remove what dead processes of this host and user left in ``folder`` under
    names starting with ``prefix``."""
    try:
        names = [name for name in os.listdir(folder) if name.startswith(prefix)]
    except OSError:
        return
    for name in names:
        path = os.path.join(folder, name)
        if is_stale(name[len(prefix) :], path):
            remove_path(path)


def remove_path(path: str) -> None:
    """Remove the file or folder at ``path`` if there is one (a link, not what it
    points to), as far as it can be removed."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            os.unlink(path)
