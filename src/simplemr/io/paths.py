"""Finding input files: paths, glob patterns and folders expanded, up front and in a
stable order, each problem an InputError naming the path before any work starts."""

from __future__ import annotations

import errno
import glob
import os
import stat
from collections.abc import Iterable

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
        elif glob.has_magic(path):
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
    files = _without_repeats(files)
    for path in files:
        if not is_url(path):
            _check_readable(path)
    return files


def _check_readable(path: str) -> None:
    """Refuse a file that cannot be opened, saying why: a link to nothing, a loop of
    links, or no permission."""
    try:
        os.stat(path)
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


def input_folders(paths: Iterable[str]) -> list[str]:
    """The local folders among ``paths`` and their glob matches, as named; and every
    URL without a pattern (an object store cannot tell a folder from a prefix)."""
    folders: list[str] = []
    for path in paths:
        if is_url(path):
            if not glob.has_magic(path):
                folders.append(path)
            continue
        matches = glob.glob(path, recursive=True) if glob.has_magic(path) else [path]
        folders.extend(match for match in matches if os.path.isdir(match))
    return folders


def _without_repeats(files: list[str]) -> list[str]:
    """Drop files named twice (``data/`` and ``data/*.txt``): each is read once."""
    seen: set[str] = set()
    unique = []
    for path in files:
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            unique.append(path)
    return unique


def _walk_error(error: OSError) -> None:
    raise InputError(f"cannot read the folder {error.filename!r}: {error.strerror}")


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
        found = []
        skipped = 0
        for folder, subfolders, names in os.walk(path, onerror=_walk_error):
            skipped += sum(map(_is_hidden, subfolders)) + sum(map(_is_hidden, names))
            subfolders[:] = sorted(d for d in subfolders if not _is_hidden(d))
            for name in sorted(names):
                full = os.path.join(folder, name)
                if _is_hidden(name):
                    continue
                if _is_special(full):
                    special.append(full)
                else:
                    found.append(full)
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
