"""Files of pickled batches: how every file the engine writes for itself is made
(spills, results, sorted runs, a hot key's overflow), and read back a batch at a
time. A file is a sequence of pickles, each a list; plain ``pickle.load`` reads them.
A batch of plain values (strings, numbers, tuples, lists...) is written in the
compact encoding of ``core/codec.py``, wrapped as such a pickle, where the compiled
core runs; any other batch by pickle itself.
"""

from __future__ import annotations

import contextlib
import gc
import io
import itertools
import pickle
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, Protocol

import cloudpickle

from .. import core
from .workdir import open_own, remove_path

__all__ = [
    "BUFFER",
    "ITEM_BATCH",
    "InMemory",
    "LocalFile",
    "Stored",
    "collector_paused",
    "dumps",
    "dumps_run",
    "load_batch",
    "read_batch_lists",
    "read_batches",
    "read_pickles",
    "write_batches",
]

#: The buffer size of a file of batches, read or written sequentially.
BUFFER = 1024 * 1024


class Stored(Protocol):
    """Bytes a task wrote, wherever they lie: a file of this machine (``LocalFile``),
    bytes in memory (``InMemory``), or another machine's memory that an executor
    serves as a stream, a window of them at a time."""

    def open(self) -> IO[bytes]:
        """A stream of the bytes, from the start."""
        ...

    def discard(self) -> None:
        """Free what holds the bytes, once nothing will read them again."""
        ...


@dataclass(frozen=True)
class LocalFile:
    """Bytes in a file of this machine, written by the engine for itself."""

    path: str

    def open(self) -> IO[bytes]:
        return open_own(self.path, buffering=BUFFER)

    def discard(self) -> None:
        remove_path(self.path)


@dataclass(frozen=True)
class InMemory:
    """Bytes held in memory (what an executor moved from another machine)."""

    data: bytes

    def open(self) -> IO[bytes]:
        return io.BytesIO(self.data)

    def discard(self) -> None:
        pass


class BytesRead(Protocol):
    """Where a reader counts the bytes it has used (``shuffle.segments.ReadProgress``)."""

    done: int


def dumps(obj: Any) -> bytes:
    """Pickle ``obj`` fast, or with cloudpickle when it holds what plain pickle
    cannot name: instances of classes from a job file or ``__main__`` that workers
    received by value. Plain ``pickle.load`` reads both.

    The fast way keeps no memo of the objects written: half the time for batches
    of small keys and values, whose objects are rarely shared. An object met twice
    is written twice (read back as two equal objects); one that holds itself is
    pickled the usual way.
    """
    if _encode_compactly is not None and type(obj) is list and len(obj) >= _COMPACT_FROM:
        compact = _encode_compactly(obj)
        if compact is not None:
            return compact
    try:
        return _dumps_without_memo(obj)
    except (ValueError, RecursionError):  # a cycle, or deep nesting: fast mode gives up
        pass
    except (pickle.PicklingError, AttributeError, TypeError):
        return cloudpickle.dumps(obj, pickle.HIGHEST_PROTOCOL)  # type: ignore[no-any-return]
    try:
        return pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, AttributeError, TypeError):
        return cloudpickle.dumps(obj, pickle.HIGHEST_PROTOCOL)  # type: ignore[no-any-return]


def dumps_run(items: list[tuple[Any, list[Any]]], batch_values: int) -> Iterator[bytes]:
    """A run of ``(key, [values])`` items as pickled batches of about ``batch_values``
    values each (``core.codec.run_batches``), to write one after the other: encoded
    compactly in one call where the compiled core runs and the values are plain (the
    encoding is several times smaller than the table it comes from, which the budget
    bounds), else ``dumps`` of one batch at a time."""
    if _encode_run is not None and len(items) >= _COMPACT_FROM:
        compact = _encode_run(items, batch_values)
        if compact is not None:
            yield compact
            return
    for batch in core.codec.run_batches(items, batch_values):
        yield dumps(batch)


#: The compact encoding, where it is compiled (in Python it would be slower than pickle).
_encode_compactly = core.encode_batch if core.compiled is not None else None
_encode_run = core.encode_run if core.compiled is not None else None
#: The fewest items a batch is encoded compactly from: below, pickle's head (15 bytes
#: against 44) matters more than its speed.
_COMPACT_FROM = 16


def _dumps_without_memo(obj: Any) -> bytes:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, pickle.HIGHEST_PROTOCOL)
    pickler.fast = True  # no memo: every object is written where it is met
    pickler.dump(obj)
    return buffer.getvalue()


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector off inside, and give it back as it was.

    For a bounded stretch of work that makes many objects a table keeps (decoded
    batches, a chunk of results): each collection would walk the whole table, and
    cost more than the work itself. A cycle made meanwhile waits for the next
    collection after it."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def load_batch(file: IO[bytes] | _Unpeekable) -> Any:
    """Read the next pickled batch of ``file``, with the cyclic garbage collector off
    (``collector_paused``): the batch's lists and tuples, kept by the table they go
    to, would otherwise set off collections that cost more than reading them."""
    with collector_paused():
        return pickle.load(file)


class _Unpeekable:
    """The reading methods of a file, without ``peek``. ``pickle.load`` on a file
    that has ``peek`` asks it for what lies ahead at every call, and a buffered file
    answers with a copy of all it holds (up to ``BUFFER`` bytes, again and again for
    the batches in one buffer); without it, the unpickler reads what it needs."""

    __slots__ = ("read", "readinto", "readline")

    def __init__(self, file: IO[bytes]) -> None:
        self.read = file.read
        self.readinto = file.readinto  # type: ignore[attr-defined]
        self.readline = file.readline


def read_pickles(
    file: IO[bytes], end: int | None = None, progress: BytesRead | None = None
) -> Iterator[Any]:
    """Yield each pickle of ``file`` in turn, from where it is to offset ``end`` (or
    its end), counting the bytes of each into ``progress`` once it has been used."""
    position = file.tell()
    reader = _Unpeekable(file)
    while end is None or position < end:
        try:
            batch = load_batch(reader)
        except EOFError:
            if end is None:
                return
            raise
        yield batch
        if progress is not None:  # once the batch is used: never ahead of the reader
            progress.done += file.tell() - position
        position = file.tell()


#: How many items a batch of a plain file of items (results, sorted runs) holds.
ITEM_BATCH = 1024


def write_batches(file: IO[bytes], items: Iterable[Any]) -> int:
    """Write ``items`` to ``file`` as pickled lists of ITEM_BATCH; return how many."""
    count = 0
    items = iter(items)
    while batch := list(itertools.islice(items, ITEM_BATCH)):
        file.write(dumps(batch))
        count += len(batch)
    return count


def read_batch_lists(source: Stored) -> Iterator[list[Any]]:
    """Yield each batch (a list of up to ITEM_BATCH items) of what ``write_batches``
    wrote, wherever it lies, one in memory at a time."""
    with source.open() as stream:
        yield from read_pickles(stream)


def read_batches(source: Stored) -> Iterator[Any]:
    """Every item of what ``write_batches`` wrote, a batch in memory at a time (chained
    in C: no Python step per item)."""
    return itertools.chain.from_iterable(read_batch_lists(source))
