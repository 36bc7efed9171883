"""Sending a job's code to workers by value, with its file names and source lines kept.

A job's functions and classes travel with cloudpickle, so a worker never imports the
user's ``__main__`` or job file to find them. cloudpickle renames the file of every
code object it ships to ``<dynamic-code>``; a traceback from a worker would then show
neither the user's file nor the failing line. This pickler ships code objects whole
(``marshal``, as a ``.pyc`` file holds them) with the source lines of their file,
which a worker that cannot read that file (a notebook cell, an interactive session, a
job file on another host) hands to ``linecache``, so its tracebacks quote them. A
file's lines travel once per pickle, however many of its functions go.

``loads(dumps(obj))`` behaves as ``cloudpickle.loads(cloudpickle.dumps(obj))``.
"""

from __future__ import annotations

import io
import linecache
import marshal
import os
import pickle
import types
from collections import ChainMap
from typing import Any, ClassVar

import cloudpickle

__all__ = ["dumps", "loads"]

loads = cloudpickle.loads


def dumps(obj: Any) -> bytes:
    """Pickle ``obj`` with cloudpickle, keeping every shipped code object's file name."""
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buffer.getvalue()


def _reduce_code(code: types.CodeType) -> tuple[Any, tuple[Any, ...]]:
    filename = code.co_filename
    # linecache hands out its one list of a file's lines, so pickling memoizes it.
    lines = linecache.getlines(filename) or None
    return _load_code, (marshal.dumps(code), filename, lines)


def _load_code(data: bytes, filename: str, lines: list[str] | None) -> types.CodeType:
    """Rebuild a shipped code object, making its source lines known to ``linecache``
    when they came along (``linecache.checkcache`` keeps entries without a modification
    time, as it does for an interactive session's)."""
    if lines and not os.path.isfile(filename):
        linecache.cache[filename] = (sum(map(len, lines)), None, lines, filename)
    code = marshal.loads(data)
    assert isinstance(code, types.CodeType)
    return code


class _Pickler(cloudpickle.Pickler):  # type: ignore[misc]
    dispatch_table: ClassVar[ChainMap[Any, Any]] = ChainMap(
        {types.CodeType: _reduce_code}, cloudpickle.Pickler.dispatch_table
    )
