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

To move to another machine, a segment is packed (``pack_segment``: a header of each
bucket's length, then the buckets in order); there, a ``MovedSegment`` holds it
wherever the executor keeps it, and a reduce task writes it to a file of its own
(``unpack_segment``) before it reads it: every reduce task reads segments of its own
machine, a bucket at a time, on every executor.

    SegmentWriter.write  one run of a partition's items   (the map task, each spill)
    read_segment         a partition's bucket, in order    (the reduce task)
    MapOutput.segments[p] = None                            (the driver, once p is reduced)
"""

from __future__ import annotations

import contextlib
import functools
import io
import itertools
import operator
import os
import pickle
import shutil
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, TypeAlias

from ..errors import WorkFolderError
from ..io.batches import BUFFER, Stored, dumps_run, read_pickles
from ..io.workdir import create_private, open_own, read_range

__all__ = [
    "BATCH_VALUES",
    "BUCKETS",
    "MovedSegment",
    "ReadProgress",
    "Segment",
    "SegmentSource",
    "SegmentWriter",
    "pack_segment",
    "read_segment",
    "read_segments",
    "unpack_segment",
]

#: About how many values one pickled batch holds.
BATCH_VALUES = 4096
#: Buckets per partition: a partition up to this many budgets needs no split on disk.
BUCKETS = 64


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

    def here(self, new_path: Callable[[], str]) -> Segment:
        """This segment, already a file of this machine."""
        return self

    @functools.cached_property
    def _by_bucket(self) -> dict[int, list[tuple[int, int]]]:
        # A reduce task asks for every bucket in turn: sort the ranges out once.
        found: dict[int, list[tuple[int, int]]] = {}
        for span, tag in zip(self.ranges, self.buckets, strict=True):
            found.setdefault(tag, []).append(span)
        return found


@dataclass(frozen=True)
class MovedSegment:
    """A segment packed (``pack_segment``) and kept wherever an executor keeps it."""

    stored: Stored

    def here(self, new_path: Callable[[], str]) -> Segment:
        """The segment, written to a new file of this machine (at ``new_path()``)."""
        return unpack_segment(self.stored, new_path())


#: A map task's partition as a reduce task is handed it.
SegmentSource: TypeAlias = Segment | MovedSegment

_second = operator.itemgetter(1)


class SegmentWriter:
    """Appends runs of batches for ``partitions`` partitions to one file."""

    def __init__(self, path: str, partitions: int) -> None:
        self.path = path
        self._file = create_private(path, buffering=BUFFER)  # closed in close()
        self._ranges: list[list[tuple[int, int]]] = [[] for _ in range(partitions)]
        self.nbytes = 0

    def write(self, partition: int, items: Iterable[tuple[Any, list[Any]]]) -> None:
        """Append ``items`` (key, list of values) to ``partition``, in batches of
        about BATCH_VALUES values."""
        start = self._file.tell()
        for data in dumps_run(items if type(items) is list else list(items), BATCH_VALUES):
            self._file.write(data)
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


def pack_segment(segment: Segment) -> bytes:
    """The bytes of ``segment`` to move to another machine, bucket by bucket, after a
    header that says the length of each range and its bucket: ``unpack_segment``
    makes them a segment again, read a bucket at a time like any other."""
    with open_own(segment.path, buffering=0) as file:
        data = [
            (bucket, read_range(file, segment.path, start, end - start))
            for bucket, (start, end) in sorted(
                zip(segment.buckets or itertools.repeat(0), segment.ranges, strict=False)
            )
        ]
    layout = [(bucket, len(part)) for bucket, part in data]
    tagged = bool(segment.buckets)
    return b"".join([pickle.dumps((tagged, layout)), *(part for _, part in data)])


def unpack_segment(packed: Stored, path: str) -> Segment:
    """Write what ``pack_segment`` made, wherever it is kept, to a new file at ``path``;
    return its segment. It is copied a buffer at a time: memory holds one, however
    large the partition."""
    with packed.open() as source:
        try:
            tagged, layout = pickle.load(source)
        except (EOFError, pickle.UnpicklingError, ValueError) as error:
            raise WorkFolderError(
                f"a map output moved to {path!r} came without its header ({error}): it "
                "was cut short on the way; run the job again"
            ) from None
        with create_private(path, buffering=0) as file:
            shutil.copyfileobj(source, file, BUFFER)
            written = file.tell()
    ranges, start = [], 0
    for _, nbytes in layout:
        ranges.append((start, start + nbytes))
        start += nbytes
    if written != start:
        raise WorkFolderError(
            f"a map output moved to {path!r} holds {written} bytes where its map task "
            f"wrote {start}: it was cut short on the way; run the job again"
        )
    buckets = tuple(bucket for bucket, _ in layout) if tagged else ()
    return Segment(path, tuple(ranges), start, buckets)


class ReadProgress:
    """How many of the bytes of some segments have been read: what lets a reduce
    task project, early, how large its whole partition will be."""

    def __init__(self, segments: Collection[Segment], bucket: int | None = None) -> None:
        self.total = sum(
            end - start for segment in segments for start, end in segment.bucket_ranges(bucket)
        )
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


def read_segment(
    segment: Segment, progress: ReadProgress | None = None, bucket: int | None = None
) -> Iterator[tuple[Any, list[Any]]]:
    """Yield the ``(key, [values])`` items of ``segment``, of one ``bucket`` or all, a
    batch in memory at a time, counting the bytes read into ``progress``."""
    return itertools.chain.from_iterable(_segment_batches(segment, progress, bucket))


def _segment_batches(
    segment: Segment, progress: ReadProgress | None, bucket: int | None
) -> Iterator[list[tuple[Any, list[Any]]]]:
    took = _as_read if progress is None else progress.took
    ranges = segment.bucket_ranges(bucket)
    try:
        with open_own(segment.path, buffering=BUFFER) as file:
            for start, end in ranges:
                if end - start < BUFFER:  # most of a bucket's ranges: read exactly
                    data = read_range(file, segment.path, start, end - start)
                    source: IO[bytes] = io.BytesIO(data)
                    start, end = 0, len(data)
                else:  # a large one (a hot key's), a buffer in memory at a time
                    file.seek(start)
                    source = file
                for batch in read_pickles(source, end, progress):
                    yield took(batch)
    except (EOFError, pickle.UnpicklingError) as error:
        raise WorkFolderError(
            f"{segment.path!r} in the work folder holds less than the job wrote there "
            f"({error}): something cut it short or changed it while the job ran; run the "
            "job again"
        ) from None


def _as_read(batch: list[tuple[Any, list[Any]]]) -> list[tuple[Any, list[Any]]]:
    return batch


def read_segments(
    segments: Iterable[Segment],
    progress: ReadProgress | None = None,
    bucket: int | None = None,
) -> Iterator[tuple[Any, list[Any]]]:
    """Yield the items of every segment (of one bucket of each) in turn."""
    return itertools.chain.from_iterable(
        read_segment(segment, progress, bucket) for segment in segments
    )
