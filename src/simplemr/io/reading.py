"""Reading the bytes of an input file: opening a path or URL, decompressing
``.gz``, ``.bz2``, ``.xz`` and ``.zst`` (``io/compression.py``), decoding with
replacements counted by file, and telling binary files from text as grep does."""

from __future__ import annotations

import codecs
import contextlib
import contextvars
import lzma
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from .. import counters as C
from ..errors import JobDefinitionError
from .compression import codec_of, decompressing
from .filesystems import open_binary

__all__ = [
    "BINARY_SNIFF",
    "READ_ERRORS",
    "InputStats",
    "byte_splittable",
    "check_text_encoding",
    "decode_errors_counted",
    "error_handler",
    "errors_of",
    "input_stats",
    "looks_binary",
    "note_binary_skipped",
    "open_input",
    "replaced_so_far",
    "replacements_uncounted",
    "starts_binary",
]

_ERROR_HANDLER = "simplemr-count"
_replaced = threading.local()  # per thread: tasks may read splits in threads


def replaced_so_far() -> int:
    return getattr(_replaced, "count", 0)


def _count_and_replace(error: UnicodeError) -> tuple[str, int]:
    _replaced.count = replaced_so_far() + 1
    return "\ufffd", error.end  # type: ignore[attr-defined]


codecs.register_error(_ERROR_HANDLER, _count_and_replace)


@contextlib.contextmanager
def replacements_uncounted() -> Iterator[None]:
    """Decode without counting replacements (a file read again to say where a record
    was must not count its undecodable bytes twice)."""
    saved = replaced_so_far()
    try:
        yield
    finally:
        _replaced.count = saved


def error_handler(errors: str) -> str:
    """The codec error handler that does what ``errors`` says, counting replacements."""
    return _ERROR_HANDLER if errors == "replace" else errors


def errors_of(handler: str) -> str:
    """The ``errors`` that ``handler`` (an ``error_handler`` result) stands for."""
    return "replace" if handler == _ERROR_HANDLER else handler


@dataclass
class InputStats:
    """What reading a task's input met, file by file: the bytes replaced while
    decoding each file, and the files skipped for looking binary."""

    decode_errors: dict[str, int] = field(default_factory=dict)
    binary_skipped: list[str] = field(default_factory=list)


#: The statistics of the task reading in this thread (a Dask worker runs several).
_stats: contextvars.ContextVar[InputStats | None] = contextvars.ContextVar(
    "simplemr_input_stats", default=None
)


@contextlib.contextmanager
def input_stats() -> Iterator[InputStats]:
    """Gather, inside, what the reading of input meets, in the object given."""
    stats = InputStats()
    token = _stats.set(stats)
    try:
        yield stats
    finally:
        _stats.reset(token)


def note_binary_skipped(name: str) -> None:
    """Note that the file ``name`` is skipped for looking binary."""
    stats = _stats.get()
    if stats is not None:
        stats.binary_skipped.append(name)


@contextlib.contextmanager
def decode_errors_counted(counters: dict[str, int], name: str) -> Iterator[None]:
    """Count into ``counters`` the bytes replaced while decoding the file ``name``
    in this block, and note them for that file (``input_stats``)."""
    before = replaced_so_far()
    try:
        yield
    finally:
        replaced = replaced_so_far() - before
        if replaced:
            counters[C.INPUT_DECODE_ERRORS] = counters.get(C.INPUT_DECODE_ERRORS, 0) + replaced
            stats = _stats.get()
            if stats is not None:
                stats.decode_errors[name] = stats.decode_errors.get(name, 0) + replaced


@contextlib.contextmanager
def open_input(path: str) -> Iterator[IO[bytes]]:
    """Open a path or URL for reading bytes, decompressed as its name says."""
    with open_binary(path) as raw:
        codec = codec_of(path)
        if codec is None:
            yield raw
            return
        with decompressing(raw, codec, path) as decompressed:
            yield decompressed


#: What reading a file, compressed or not, may raise besides decoding errors.
READ_ERRORS = (OSError, EOFError, lzma.LZMAError, zlib.error)


#: Text codecs that are no encoding of files: they decode domain names, and refuse
#: the error handlers that count what they replace.
_NOT_FILE_ENCODINGS = frozenset({"idna", "punycode"})


def check_text_encoding(encoding: str) -> None:
    """Refuse, before any work starts, an encoding Python does not know, or one that
    is no encoding of text files (``rot13``, ``hex``, ``zlib``: bytes to bytes or
    text to text; ``idna``: domain names)."""
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise JobDefinitionError(
            f"unknown encoding {encoding!r}: name one Python knows, such as 'utf-8', "
            "'latin-1' or 'utf-16'"
        ) from None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_FILE_ENCODINGS:
        raise JobDefinitionError(
            f"{encoding!r} is not an encoding of text files: name one such as 'utf-8', "
            "'latin-1' or 'utf-16'"
        )


def byte_splittable(encoding: str) -> bool:
    """Whether a file in ``encoding`` can be cut at ``\\n``/``\\r`` bytes."""
    name = codecs.lookup(encoding).name
    return name in {"utf-8", "utf-8-sig", "ascii"} or name.startswith(("iso8859-", "cp125", "mac-"))


#: How much of a file is looked at to tell binary from text, as grep does.
BINARY_SNIFF = 8 * 1024


def looks_binary(path: str, encoding: str) -> bool:
    """Whether ``path`` (decompressed) holds a NUL byte in its first 8 KiB, in an
    encoding where text never does (UTF-8, Latin-1...; not UTF-16)."""
    if not byte_splittable(encoding):
        return False
    try:
        with open_input(path) as file:
            return starts_binary(file, encoding)
    except READ_ERRORS:
        return False  # reading the file says what is wrong, and where


def starts_binary(file: IO[bytes], encoding: str) -> bool:
    """``looks_binary`` for a file opened at its start (left there again): so that a
    file read anyway is not opened twice."""
    if not byte_splittable(encoding):
        return False
    binary = b"\0" in file.read(BINARY_SNIFF)
    file.seek(0)
    return binary
