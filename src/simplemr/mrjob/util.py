"""``mrjob.util``: the helpers job files import from it."""

from __future__ import annotations

import contextlib
import logging
import os
import random
import shlex
import shutil
import sys
import tarfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from typing import IO, Any

__all__ = [
    "cmd_line",
    "expand_path",
    "file_ext",
    "log_to_null",
    "log_to_stream",
    "random_identifier",
    "safeeval",
    "save_current_environment",
    "save_cwd",
    "save_sys_path",
    "save_sys_std",
    "shlex_split",
    "strip_microseconds",
    "to_lines",
    "unarchive",
    "unique",
    "which",
    "zip_dir",
]


def cmd_line(args: Iterable[Any]) -> str:
    """The arguments as one shell command line, each quoted as the shell needs."""
    return " ".join(shlex.quote(str(arg)) for arg in args)


def shlex_split(s: str) -> list[str]:
    """Split a command line into its arguments, as the shell would."""
    return shlex.split(s)


def expand_path(path: str | None) -> str | None:
    """``~`` and ``$VARIABLES`` expanded in ``path`` (None stays None)."""
    if path is None:
        return None
    return os.path.expanduser(os.path.expandvars(path))


def file_ext(filename: str) -> str:
    """The extension of a file name from its first dot on (``'.tar.gz'``), or ``''``."""
    name = os.path.basename(filename).lstrip(".")
    dot = name.find(".")
    return "" if dot == -1 else name[dot:]


def log_to_null(name: str | None = None) -> None:
    """Send the logger ``name``'s messages nowhere."""
    logging.getLogger(name).addHandler(logging.NullHandler())


def log_to_stream(
    name: str | None = None,
    stream: IO[str] | None = None,
    format: str | None = None,
    level: int | None = None,
    debug: bool = False,
) -> None:
    """Send the logger ``name``'s messages to ``stream`` (standard error)."""
    level = level or (logging.DEBUG if debug else logging.INFO)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(format or "%(message)s"))
    logger = logging.getLogger(name)
    logger.setLevel(level)
    logger.addHandler(handler)


def random_identifier() -> str:
    """Sixteen random hexadecimal digits, for names that must not collide."""
    return f"{random.randrange(16**16):016x}"


_SAFE_NAMES: dict[str, Any] = {
    "__builtins__": {},
    "True": True,
    "False": False,
    "None": None,
    "set": set,
    "frozenset": frozenset,
    "range": range,
    "xrange": range,
}


def safeeval(
    expr: str | bytes, globals: dict[str, Any] | None = None, locals: dict[str, Any] | None = None
) -> Any:
    """Evaluate a Python literal such as a ``repr()`` of basic values, with no builtins
    but ``True``, ``False``, ``None``, ``set`` and ``range`` (so ``open()`` fails)."""
    names = dict(_SAFE_NAMES)
    names.update(globals or {})
    return eval(expr, names, locals)


@contextlib.contextmanager
def save_current_environment() -> Iterator[None]:
    """Restore ``os.environ`` as it was when the block ends."""
    saved = os.environ.copy()
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def save_cwd() -> Iterator[None]:
    """Return to the current folder when the block ends."""
    saved = os.getcwd()
    try:
        yield
    finally:
        os.chdir(saved)


@contextlib.contextmanager
def save_sys_std() -> Iterator[None]:
    """Restore ``sys.stdin``, ``sys.stdout`` and ``sys.stderr`` when the block ends."""
    saved = (sys.stdin, sys.stdout, sys.stderr)
    try:
        yield
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved


@contextlib.contextmanager
def save_sys_path() -> Iterator[None]:
    """Restore ``sys.path`` when the block ends."""
    saved = list(sys.path)
    try:
        yield
    finally:
        sys.path[:] = saved


def strip_microseconds(delta: timedelta) -> timedelta:
    """``delta`` without its fraction of a second."""
    return timedelta(delta.days, delta.seconds)


def to_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The lines of a stream given as chunks of bytes, each with its ``\\n`` (the last
    may lack one)."""
    pending = b""
    for chunk in chunks:
        if not chunk:
            continue
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        for line in lines:
            yield line + b"\n"
    if pending:
        yield pending


def unique(items: Iterable[Any]) -> Iterator[Any]:
    """``items`` in order, each only the first time it comes."""
    seen: set[Any] = set()
    for item in items:
        if item not in seen:
            seen.add(item)
            yield item


def unarchive(archive_path: str, dest: str) -> None:
    """Unpack a ``.zip``, ``.tar``, ``.tar.gz`` or ``.tar.bz2`` archive into ``dest``,
    and nowhere else: a member whose name or link leads outside it (an absolute name,
    ``..``) raises ``ValueError`` naming it, before anything is written."""
    os.makedirs(dest, exist_ok=True)
    if not tarfile.is_tarfile(archive_path):
        shutil.unpack_archive(archive_path, dest)  # zipfile keeps every member inside
        return
    with tarfile.open(archive_path) as archive:
        members = archive.getmembers()
        for member in members:
            _check_inside(dest, member)
        if hasattr(tarfile, "data_filter"):  # Python 3.10.12, 3.11.4 and later
            archive.extractall(dest, members, filter="data")
        else:
            archive.extractall(dest, members)


def _check_inside(dest: str, member: tarfile.TarInfo) -> None:
    """Refuse a tar member that would be written, or would point, outside ``dest``."""
    root = os.path.realpath(dest)

    def inside(path: str) -> bool:
        return os.path.commonpath([root, os.path.realpath(path)]) == root

    target = os.path.join(root, member.name)
    if os.path.isabs(member.name) or not inside(target):
        raise ValueError(f"its member {member.name!r} would be written outside its folder")
    if member.issym() or member.islnk():
        linked = member.linkname
        base = os.path.dirname(target) if member.issym() else root
        if os.path.isabs(linked) or not inside(os.path.join(base, linked)):
            raise ValueError(f"its member {member.name!r} links outside its folder: {linked!r}")
    if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
        raise ValueError(f"its member {member.name!r} is a device or a pipe")


def which(cmd: str, path: str | None = None) -> str | None:
    """The path of the program ``cmd`` found on ``path`` (``$PATH``), or None."""
    return shutil.which(cmd, path=path)


def zip_dir(
    dir: str, out_path: str, filter: Callable[[str], bool] | None = None, prefix: str = ""
) -> None:
    """Zip the files under ``dir`` into ``out_path`` (those ``filter`` accepts),
    named relative to ``dir`` under ``prefix``."""
    with zipfile.ZipFile(out_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for root, _, names in os.walk(dir):
            for name in names:
                path = os.path.join(root, name)
                relative = os.path.relpath(path, dir)
                if filter is None or filter(relative):
                    archive.write(path, os.path.join(prefix, relative))
