"""Finding input files: paths, glob patterns and folders expanded, up front and in a
stable order, each problem an InputError naming the path before any work starts."""

from __future__ import annotations

import errno
import glob
import os
import stat
from collections.abc import Callable, Iterable

from ..errors import InputError
from .filesystems import expand_url, is_url

__all__ = ["describe_special", "expand_paths", "input_folders"]


def _is_hidden(name: str) -> bool:
    return name.startswith((".", "_"))


def expand_paths(
    paths: Iterable[str | os.PathLike[str]], not_regular: list[str] | None = None
) -> list[str]:
    """Return the files named by ``paths`` (files, globs, folders), in a stable order.

    Folders are walked recursively; names starting with ``.`` or ``_`` inside them
    (hidden files, ``_SUCCESS`` markers) are skipped. So are FIFOs, sockets and
    devices found in a folder or by a glob, which are listed in ``not_regular`` (one
    named directly is refused). Every problem is an InputError naming the path,
    raised here, before any work starts.
    """
    files: list[str] = []
    special = [] if not_regular is None else not_regular
    for raw in paths:
        path = os.fspath(raw)
        if is_url(path):
            found = expand_url(path, _is_hidden)
        elif is_pattern(path):
            matches = sorted(glob.glob(path, recursive=True))
            if not matches:
                raise InputError(f"no file matches the pattern {path!r}")
            found = []
            for match in matches:
                if os.path.isdir(match):
                    found.extend(_expand_one(match, special))
                elif _is_special(match):
                    special.append(match)
                else:
                    found.append(match)
            if not found and special:
                raise _only_special(f"the pattern {path!r} matches", special[-1])
        else:
            found = _expand_one(path, special)
        files.extend(found)
    if not files:
        raise InputError("no input files were given")
    return _readable_once(files)


def _readable_once(files: list[str]) -> list[str]:
    """``files`` without those named twice (``data/`` and ``data/*.txt``: each is read
    once), every local one checked readable (``_check_readable``).

    Two names are the same file when their real paths are; one ``stat`` a file finds
    the candidates (same device and inode), so real paths, which cost a system call a
    path component, are only worked out for those (hard links stay two files)."""
    unique: list[str] = []
    urls: set[str] = set()
    same_inode: dict[tuple[int, int], list[str]] = {}
    for path in files:
        if is_url(path):
            if path not in urls:
                urls.add(path)
                unique.append(path)
            continue
        info = _check_readable(path)
        earlier = same_inode.setdefault((info.st_dev, info.st_ino), [])
        real = os.path.realpath(path) if earlier else path
        if earlier and any(os.path.realpath(other) == real for other in earlier):
            continue
        earlier.append(path)
        unique.append(path)
    return unique


def _check_readable(path: str) -> os.stat_result:
    """Refuse a file that cannot be opened, saying why: a link to nothing, a loop of
    links, or no permission; return what ``stat`` says of it."""
    try:
        info = os.stat(path)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise InputError(f"cannot read {path!r}: it is a loop of symbolic links") from None
        if os.path.islink(path):
            raise InputError(
                f"cannot read {path!r}: it is a symbolic link to {os.readlink(path)!r}, "
                "which does not exist"
            ) from None
        raise InputError(f"cannot read {path!r}: {error.strerror}") from None
    if not os.access(path, os.R_OK):
        raise InputError(f"cannot read {path!r}: permission denied")
    return info


def is_pattern(path: str) -> bool:
    """Whether a local ``path`` is a glob pattern: it has ``*``, ``?`` or ``[`` and
    nothing has its exact name (``data[1].txt`` that exists is that file;
    ``glob.escape`` makes any name a pattern of itself alone)."""
    return glob.has_magic(path) and not os.path.lexists(path)


def input_folders(paths: Iterable[str]) -> list[str]:
    """The local folders among ``paths`` and their glob matches, as named; and every
    URL without a pattern (an object store cannot tell a folder from a prefix)."""
    folders: list[str] = []
    for path in paths:
        if is_url(path):
            if not glob.has_magic(path):
                folders.append(path)
            continue
        matches = glob.glob(path, recursive=True) if is_pattern(path) else [path]
        folders.extend(match for match in matches if os.path.isdir(match))
    return folders


def _walk(top: str, found: list[str], special: list[str]) -> int:
    """Add the files under ``top`` to ``found`` (FIFOs, sockets and devices to
    ``special``), in sorted order, a folder's own files before its subfolders', as
    ``os.walk`` would (links to folders are not followed); return how many hidden
    names were skipped. What a folder's listing says of each entry saves a ``stat``
    a file."""
    skipped = 0
    pending = [top]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as error:
            raise InputError(f"cannot read the folder {folder!r}: {error.strerror}") from None
        subfolders = []
        for entry in entries:
            if _is_hidden(entry.name):
                skipped += 1
            elif _looked_at(entry.is_dir):
                if not _looked_at(entry.is_symlink):
                    subfolders.append(entry.path)
            elif _looked_at(entry.is_file) or not os.path.exists(entry.path):
                found.append(entry.path)  # a link to nothing is refused by _check_readable
            else:
                special.append(entry.path)
        pending.extend(reversed(subfolders))  # the first subfolder is walked next
    return skipped


def _looked_at(kind: Callable[[], bool]) -> bool:
    """What a ``DirEntry``'s ``is_dir``, ``is_file`` or ``is_symlink`` says; False
    for an entry that cannot be looked at (a loop of links), as ``os.walk`` holds it."""
    try:
        return kind()
    except OSError:
        return False


def _is_special(path: str) -> bool:
    """Whether ``path`` exists but is neither a regular file nor a folder."""
    return os.path.exists(path) and not os.path.isfile(path) and not os.path.isdir(path)


def _only_special(what: str, example: str) -> InputError:
    return InputError(
        f"{what} nothing to read: {example!r} is {describe_special(example)}, and such "
        "files are skipped"
    )


def describe_special(path: str) -> str:
    """What kind of file that is not a regular one ``path`` is."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return "not a regular file"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file"


def _expand_one(path: str, special: list[str]) -> list[str]:
    if os.path.isdir(path):
        found: list[str] = []
        skipped = _walk(path, found, special)
        if not found and special:
            raise _only_special(f"the folder {path!r} has", special[-1])
        if not found and skipped:
            raise InputError(
                f"the folder {path!r} has nothing to read: "
                + ("its one name starts" if skipped == 1 else f"all {skipped} names in it start")
                + " with '.' or '_', and such names are skipped (hidden files, markers such "
                "as _SUCCESS); name such a file to read it"
            )
        if not found:
            raise InputError(f"the folder {path!r} has no files in it")
        return found
    if not os.path.exists(path):
        if os.path.islink(path):
            _check_readable(path)
        raise InputError(f"no such file or folder: {path!r}")
    if not os.path.isfile(path):
        raise InputError(f"{path!r} is {describe_special(path)}, not a regular file or a folder")
    return [path]
