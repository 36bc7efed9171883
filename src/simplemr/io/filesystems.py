"""Where input files are: this machine's folders, or any filesystem fsspec knows.

A path with a scheme (``s3://bucket/logs/``, ``gs://...``, ``hdfs://...``,
``file:///data/x.txt``; ``memory://...`` in the inline executor only) is read
through fsspec, when it is installed (with the package for the scheme: s3fs,
gcsfs...); any other path is a local one. Both offer what splitting and reading
need: listing, sizes, and files that seek, so a large remote file is read in
byte ranges like a local one.
"""

from __future__ import annotations

import contextlib
import contextvars
import glob
import os
import types
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any

from ..errors import InputError

__all__ = [
    "current_storage_options",
    "expand_url",
    "filesystem_of",
    "is_url",
    "open_binary",
    "parse_storage_option",
    "size_of",
    "storage_options",
]

#: Options for every URL's filesystem (``endpoint_url``, ``anon``...), set for the task
#: or job running in this thread: a Dask worker runs tasks of different jobs, with
#: different credentials, in threads of one process.
_options: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "simplemr_storage_options", default=types.MappingProxyType({})
)


@contextlib.contextmanager
def storage_options(options: Mapping[str, Any]) -> Iterator[None]:
    """Open every URL inside with fsspec ``options`` (a job's ``storage_options``),
    over what fsspec's own configuration and the environment say. Only this thread
    (this context) sees them."""
    saved = _options.get()
    _options.set(types.MappingProxyType(dict(options)))
    try:
        yield
    finally:
        _options.set(saved)


def current_storage_options() -> Mapping[str, Any]:
    """The storage options URLs are opened with here and now (read-only)."""
    return _options.get()


def parse_storage_option(text: str) -> tuple[str, Any]:
    """``key=value`` as a key and a value: JSON where it parses (``true``, ``3``,
    ``{"region_name": "eu-west-1"}``), else the text itself."""
    import json

    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"a storage option is key=value, got {text!r}")
    try:
        return key.strip(), json.loads(value)
    except ValueError:
        return key.strip(), value


def is_url(path: str) -> bool:
    """Whether ``path`` names a file by URL (``scheme://...``)."""
    return "://" in path


def filesystem_of(url: str, verb: str = "read") -> tuple[Any, str]:
    """The fsspec filesystem of ``url``, and the path within it; ``InputError`` if
    there is none, saying what cannot be done (``verb``) with it."""
    scheme = url.split("://", 1)[0]
    try:
        import fsspec
    except ImportError:
        raise InputError(
            f"{url!r} is a URL, which needs fsspec: pip install fsspec"
            f" (and the package for {scheme}://, such as s3fs or gcsfs)"
        ) from None
    try:
        return fsspec.core.url_to_fs(url, **_options.get())  # type: ignore[no-any-return]
    except (ImportError, ValueError, TypeError) as error:
        raise InputError(f"cannot {verb} {url!r}: {error}") from None


def open_binary(path: str) -> IO[bytes]:
    """Open a local path or a URL for reading bytes (seekable)."""
    if not is_url(path):
        return open(path, "rb")
    filesystem, inner = filesystem_of(path)
    return filesystem.open(inner, "rb")  # type: ignore[no-any-return]


def size_of(path: str) -> int:
    """The size in bytes of a local file or of a file named by URL."""
    if not is_url(path):
        return os.path.getsize(path)
    return url_stat(path)[0]


#: What stores say of an object that changes when it is written again, in the order
#: tried: a version, a generation, an entity tag, a time of change.
_VERSION_KEYS = ("VersionId", "generation", "ETag", "etag", "mtime", "LastModified", "updated")


def url_version(path: str) -> str:
    """What identifies the current content of the object a URL names (its version, or
    entity tag, or time of change, as its store says, read afresh); "" if it says
    nothing of the kind."""
    return url_stat(path)[1]


def url_stat(path: str) -> tuple[int, str]:
    """The size of the object a URL names, and its ``url_version``: one request."""
    filesystem, inner = filesystem_of(path)
    try:
        filesystem.invalidate_cache(inner)
        info = filesystem.info(inner)
    except OSError as error:
        raise InputError(f"cannot read {path!r}: {error}") from None
    if info.get("size") is None:
        raise InputError(f"{path!r} does not say its size, so it cannot be split; copy it first")
    size = int(info["size"])
    for key in _VERSION_KEYS:
        if info.get(key) is not None:
            return size, f"{key}={info[key]} size={size}"
    return size, ""


def expand_url(url: str, hidden: Callable[[str], bool]) -> list[str]:
    """The files a URL names: itself, a glob's matches, or a folder's files (walked
    recursively, skipping names ``hidden`` says are hidden), as URLs, in order. A
    name with ``*``, ``?`` or ``[`` is a pattern only where nothing has that name."""
    filesystem, inner = filesystem_of(url)
    try:
        if filesystem.exists(inner):  # an object named data[1].txt is that object
            matches = [inner]
        elif glob.has_magic(inner):
            matches = sorted(filesystem.glob(inner))
            if not matches:
                raise InputError(f"no file matches the pattern {url!r}")
        else:
            raise InputError(f"no such file or folder: {url!r}")
        files: list[str] = []
        for match in matches:
            if not filesystem.isdir(match):
                files.append(match)
                continue
            found = [
                path
                for path in sorted(filesystem.find(match))
                if not any(hidden(part) for part in path[len(match) :].split("/") if part)
            ]
            if not found:
                raise InputError(f"the folder {url!r} has no files in it")
            files.extend(found)
    except OSError as error:
        raise InputError(f"cannot list {url!r}: {error}") from None
    return [filesystem.unstrip_protocol(path) for path in files]
