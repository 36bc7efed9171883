"""The spill format: batches of ``(key, [values])`` items in a task's own file.

A map task writes one file. Each time its buffer spills, every partition's items
are appended as one run of pickled batches, so partition ``p`` of the task is a
list of byte ranges in the file: a ``Segment``. A reduce task reads its
partition's segment of every map task. Batches are bounded in values, so a key
with millions of values is written (and later read) a batch at a time.

    file:  [p0 run][p1 run][p2 run] [p0 run][p1 run][p2 run]   (two spills)
    Segment(p1) = ranges (run of spill 1, run of spill 2)

Each partition is written in ``BUCKETS`` buckets by the same stable hash, one run
per bucket per spill, each range tagged with its bucket: a reduce task groups its
partition a bucket at a time, so a partition many times its budget is already cut
into pieces without writing it again (``Segment.bucket_ranges``).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import io
import itertools
import operator
import os
import pickle
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import cloudpickle

from ..io.workdir import create_private, open_own

__all__ = [
    "BATCH_VALUES",
    "BUCKETS",
    "ReadProgress",
    "Segment",
    "SegmentWriter",
    "dumps",
    "load_batch",
    "load_segment",
    "read_batch_lists",
    "read_batches",
    "read_segment",
    "write_batches",
]

#: About how many values one pickled batch holds.
BATCH_VALUES = 4096
#: Buckets per partition: a partition up to this many budgets needs no split on disk.
BUCKETS = 64
_BUFFER = 1024 * 1024


@dataclass(frozen=True)
class Segment:
    """Where one partition of one task's output lies: byte ranges of a file, and
    the bucket of each (none: one bucket)."""

    path: str
    ranges: tuple[tuple[int, int], ...]
    nbytes: int
    buckets: tuple[int, ...] = ()

    def bucket_ranges(self, bucket: int | None) -> list[tuple[int, int]]:
        """The ranges of one bucket (``None``: all of them)."""
        if bucket is None or not self.buckets:
            return list(self.ranges)
        return self._by_bucket.get(bucket, [])

    @functools.cached_property
    def _by_bucket(self) -> dict[int, list[tuple[int, int]]]:
        # A reduce task asks for every bucket in turn: sort the ranges out once.
        found: dict[int, list[tuple[int, int]]] = {}
        for span, tag in zip(self.ranges, self.buckets, strict=True):
            found.setdefault(tag, []).append(span)
        return found


_second = operator.itemgetter(1)

#: The longest list of values for which a spill is cut into batches by item count.
_SHORT = 16


def _batches(items: Iterable[tuple[Any, list[Any]]]) -> Iterator[list[tuple[Any, list[Any]]]]:
    """Group items into batches of about BATCH_VALUES values, cutting long lists."""
    items = items if isinstance(items, list) else list(items)
    longest = max(map(len, map(_second, items)), default=0)
    if longest <= _SHORT:  # every list short (distinct keys, combined values): slice
        step = max(1, BATCH_VALUES // (longest + 1))
        for start in range(0, len(items), step):
            yield items[start : start + step]
        return
    batch: list[tuple[Any, list[Any]]] = []
    size = 0
    for key, values in items:
        if len(values) > BATCH_VALUES:
            for start in range(0, len(values), BATCH_VALUES):
                if batch:
                    yield batch
                    batch, size = [], 0
                yield [(key, values[start : start + BATCH_VALUES])]
            continue
        batch.append((key, values))
        size += len(values) + 1
        if size >= BATCH_VALUES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def dumps(obj: Any) -> bytes:
    """Pickle ``obj`` fast, or with cloudpickle when it holds what plain pickle
    cannot name: instances of classes from a job file or ``__main__`` that workers
    received by value. Plain ``pickle.load`` reads both."""
    try:
        return pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, AttributeError, TypeError):
        return cloudpickle.dumps(obj, pickle.HIGHEST_PROTOCOL)  # type: ignore[no-any-return]


def load_batch(file: IO[bytes]) -> Any:
    """Read the next pickled batch of ``file``, with the cyclic garbage collector off:
    the batch's lists and tuples, kept by the table they go to, would otherwise set
    off collections that cost more than reading them. (Collection resumes after each
    batch, so a cycle inside one waits for the next collection.)"""
    if not gc.isenabled():
        return pickle.load(file)
    gc.disable()
    try:
        return pickle.load(file)
    finally:
        gc.enable()


class SegmentWriter:
    """Appends runs of batches for ``partitions`` partitions to one file."""

    def __init__(self, path: str, partitions: int) -> None:
        self.path = path
        self._file = create_private(path, buffering=_BUFFER)  # closed in close()
        self._ranges: list[list[tuple[int, int]]] = [[] for _ in range(partitions)]
        self.nbytes = 0

    def write(self, partition: int, items: Iterable[tuple[Any, list[Any]]]) -> None:
        """Append ``items`` (key, list of values) to ``partition``."""
        start = self._file.tell()
        for batch in _batches(items):
            self._file.write(dumps(batch))
        end = self._file.tell()
        if end > start:
            self._ranges[partition].append((start, end))
            self.nbytes += end - start

    def close(self, partitions: int | None = None) -> list[Segment | None]:
        """Close the file and return each partition's segment (None if empty). With
        ``partitions``, the writer's slots are buckets, slot ``s`` of partition
        ``s % partitions``, and each segment tags its ranges with their bucket."""
        self._file.close()
        count = len(self._ranges) if partitions is None else partitions
        spans: list[list[tuple[int, int, int]]] = [[] for _ in range(count)]
        for slot, ranges in enumerate(self._ranges):
            spans[slot % count].extend((start, end, slot) for start, end in ranges)
        segments: list[Segment | None] = []
        for partition in spans:
            partition.sort()
            spanned = tuple((start, end) for start, end, _ in partition)
            tags = tuple(slot for _, _, slot in partition) if partitions is not None else ()
            nbytes = sum(end - start for start, end in spanned)
            segments.append(Segment(self.path, spanned, nbytes, tags) if spanned else None)
        return segments

    def discard(self) -> None:
        """Close and delete the file (a failed attempt leaves nothing behind)."""
        with contextlib.suppress(OSError):  # flushing may fail as the writing did
            self._file.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


def load_segment(segment: Segment) -> bytes:
    """The bytes of ``segment``, for an executor that keeps task outputs in memory;
    ``read_segment`` reads them as it reads the segment."""
    with open_own(segment.path) as file:
        parts = []
        for start, end in segment.ranges:
            file.seek(start)
            parts.append(file.read(end - start))
    return b"".join(parts)


class ReadProgress:
    """How many of the bytes of some segments have been read: what lets a reduce
    task project, early, how large its whole partition will be."""

    def __init__(self, segments: Collection[Segment | bytes], bucket: int | None = None) -> None:
        self.total = sum(_nbytes(segment, bucket) for segment in segments)
        self.done = 0
        #: How many values the items read so far hold.
        self.values = 0

    def took(self, batch: list[tuple[Any, list[Any]]]) -> list[tuple[Any, list[Any]]]:
        """Count the values of a batch of items just read; return the batch."""
        self.values += sum(map(len, map(_second, batch)))
        return batch

    @property
    def fraction(self) -> float:
        """The part read so far, from 0 to 1 (1 for no bytes at all)."""
        return self.done / self.total if self.total else 1.0


def _nbytes(segment: Segment | bytes, bucket: int | None) -> int:
    if isinstance(segment, bytes):
        return len(segment)
    return sum(end - start for start, end in segment.bucket_ranges(bucket))


def _pickles_in(data: bytes, progress: ReadProgress | None) -> Iterator[Any]:
    """Yield each pickle of ``data`` in turn."""
    stream = io.BytesIO(data)
    while stream.tell() < len(data):
        start = stream.tell()
        yield load_batch(stream)
        if progress is not None:  # once the batch is used: never ahead of the reader
            progress.done += stream.tell() - start


def read_segment(
    segment: Segment | bytes, progress: ReadProgress | None = None, bucket: int | None = None
) -> Iterator[tuple[Any, list[Any]]]:
    """Yield the ``(key, [values])`` items of ``segment`` (or of its loaded bytes,
    which hold every bucket), of one ``bucket`` or all, a batch in memory at a time,
    counting the bytes read into ``progress``."""
    took = _as_read if progress is None else progress.took
    if isinstance(segment, bytes):
        for batch in _pickles_in(segment, progress):
            yield from took(batch)
        return
    if bucket is not None and segment.buckets:
        # A bucket's ranges are small and scattered: read each exactly, not a
        # buffer's worth around it.
        with open_own(segment.path, buffering=0) as raw:
            for start, end in segment.bucket_ranges(bucket):
                for batch in _pickles_in(os.pread(raw.fileno(), end - start, start), progress):
                    yield from took(batch)
        return
    with open_own(segment.path, buffering=_BUFFER) as file:
        for start, end in segment.ranges:
            file.seek(start)
            position = start
            while position < end:
                yield from took(load_batch(file))
                if progress is not None:  # once the batch is used: never ahead of the reader
                    progress.done += file.tell() - position
                position = file.tell()


def _as_read(batch: list[tuple[Any, list[Any]]]) -> list[tuple[Any, list[Any]]]:
    return batch


def read_segments(
    segments: Iterable[Segment | bytes],
    progress: ReadProgress | None = None,
    bucket: int | None = None,
) -> Iterator[tuple[Any, list[Any]]]:
    """Yield the items of every segment (of one bucket of each) in turn."""
    for segment in segments:
        yield from read_segment(segment, progress, bucket)


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


def read_batch_lists(source: str | bytes) -> Iterator[list[Any]]:
    """Yield each batch (a list of up to ITEM_BATCH items) of a file ``write_batches``
    wrote, or of its bytes, one in memory at a time."""
    if isinstance(source, bytes):
        yield from _pickles_in(source, None)
        return
    with open_own(source, buffering=_BUFFER) as file:
        while True:
            try:
                batch = load_batch(file)
            except EOFError:
                return
            yield batch


def read_batches(source: str | bytes) -> Iterator[Any]:
    """Yield every item of a file ``write_batches`` wrote (or of its bytes), a batch
    in memory at a time."""
    for batch in read_batch_lists(source):
        yield from batch
