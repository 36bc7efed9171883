"""One map task: records of a split through the mapper into a buffer, spilled by partition.

    split ─blocks─▶ mapper ─pairs─▶ buffer {key: [values]} ──full?──▶ combine ──▶ spill
                                                          (one run per bucket of each partition,
                                                           appended to the task's file)

The buffer groups values by key as they arrive, so each key is hashed once per
spill, not once per pair. When its estimated size passes the worker's budget the
combiner (if any) folds each key's values into one; if that is not enough, the
buffer is written out and emptied. A split of JSON lines or CSV rows parses each
record here, so a bad one is located like any other record.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing import current_process
from typing import Any

from .. import core
from .. import counters as C
from ..core.pure import pairs_of
from ..counters import counting_into
from ..errors import (
    InputError,
    JobDefinitionError,
    ShapeError,
    SimplemrError,
    WorkFolderError,
    printable,
    short_repr,
)
from ..io.batches import Stored
from ..io.filesystems import storage_options
from ..io.inputs import SKIP_RECORD, ResultsSplit, Split
from ..io.reading import input_stats
from ..job import JobSpec, MapFunctions, Pairs
from .partitioning import spread_by
from .ranges import RangePartitioner
from .segments import BUCKETS, MovedSegment, SegmentSource, SegmentWriter, pack_segment
from .table import GroupTable
from .task import (
    TaskContext,
    UserCodeError,
    call_hook,
    hook_output,
    progressed,
    scoped,
    user_errors,
    watch_records,
)

__all__ = ["MapOutput", "run_map_task", "run_results_map_task"]


@dataclass
class MapOutput:
    """What a map task hands back: its file, one segment of it per partition (or,
    once an executor ``moved`` them, where it keeps them, and no file), its counters."""

    path: str | None
    segments: list[SegmentSource | None]
    counters: dict[str, int] = field(default_factory=dict)
    #: Undecodable bytes replaced, by input file.
    decode_errors: dict[str, int] = field(default_factory=dict)
    #: Where the first records the mapper raised on were, and what it raised
    #: (with ``max_bad_records``).
    skipped: list[str] = field(default_factory=list)
    #: Bytes written for each partition (what the report's skew chart shows).
    partition_bytes: list[int] = field(default_factory=list)
    #: Input files skipped because they look binary.
    binary_skipped: list[str] = field(default_factory=list)

    def packed(self) -> list[bytes | None]:
        """Each partition's segment packed (``pack_segment``; None where a partition got
        nothing), to move elsewhere; its file is removed."""
        packed = [None if s is None else pack_segment(s.here(_no_path)) for s in self.segments]
        if self.path is not None:
            os.unlink(self.path)
        return packed

    def moved(self, parts: Sequence[Stored | None]) -> MapOutput:
        """This output with its partitions where an executor keeps what ``packed``
        made of them (None for none), and no file."""
        segments: list[SegmentSource | None] = [
            None if part is None else MovedSegment(part) for part in parts
        ]
        return dataclasses.replace(self, path=None, segments=segments)


def _no_path() -> str:
    raise AssertionError("a segment packed where it was written is a file already")


class _Buffer(GroupTable):
    """The map-side table of ``{key: [values]}`` and its spilling."""

    def __init__(
        self,
        job: JobSpec,
        functions: MapFunctions,
        writer: SegmentWriter,
        counters: dict[str, int],
        source: str,
    ) -> None:
        super().__init__(job.worker_budget)
        self.job = job
        self.functions = functions
        self.writer = writer
        self.counters = counters
        self.source = source  # what the task reads, for messages

    def relieve(self) -> None:
        """Make room: combine in place if that frees most of the buffer, else spill."""
        if self.functions.combine is not None and self.values > 2 * len(self.groups):
            self.combine()
            if self.estimate() < self.budget / 2:
                return
        self.spill()

    def fill(
        self, mapper: Callable[[Any], Pairs], records: Iterator[Any], cursor: core.MapCursor
    ) -> int:
        """Add the pairs ``mapper`` yields for each of ``records`` (see
        ``core.map_records``), making room whenever the budget is passed; return
        how many were added."""
        added = 0
        while True:
            count = core.map_records(mapper, records, self.groups, self.room, cursor)
            added += count
            if not self.took(count):
                return added
            progressed()
            if self.over_budget():
                _relieve(self)

    def add(self, pairs: Pairs, combine: bool = True) -> None:
        """Add the pairs a ``*_final`` hook yields, making room as for the mapper's;
        ``combine=False`` for pairs that must not go through the combiner."""
        added = 0
        records = iter((iter(pairs),))  # one record: the pairs themselves
        cursor = core.MapCursor()
        while True:
            count = core.map_records(_same, records, self.groups, self.room, cursor)
            added += count
            if not self.took(count):
                break
            if self.over_budget():
                if combine:
                    _relieve(self)
                else:
                    self.spill(combine=False)
        self.counters[C.MAP_RECORDS_OUT] += added

    def combine(self) -> None:
        combine = self.functions.combine
        combine_from = self.functions.combine_from
        assert combine is not None
        combined_in = combined_out = 0
        dropped = []
        groups = self.groups
        for key in core.crowded(groups, combine_from):
            values = groups[key]
            try:
                combined = combine(key, values)
            except user_errors() as error:
                raise UserCodeError("combiner", f"key {short_repr(key)}") from error
            combined_in += len(values)
            combined_out += len(combined)
            values[:] = combined
            if not combined:  # the combiner dropped the key: no reducer call for it
                dropped.append(key)
        for key in dropped:
            del self.groups[key]
        self.values -= combined_in - combined_out
        self.counters[C.COMBINE_RECORDS_IN] += combined_in
        self.counters[C.COMBINE_RECORDS_OUT] += combined_out

    def spill(self, combine: bool = True) -> None:
        if not self.groups:
            return
        if combine and self.functions.combine is not None:
            self.combine()
        runs = self._spread()
        before = self.writer.nbytes
        for slot, items in enumerate(runs):
            if items:
                self._write(slot, items)
        self.counters[C.MAP_SPILLS] += 1
        self.counters[C.MAP_SPILLED_BYTES] += self.writer.nbytes - before
        self.clear()

    def _spread(self) -> list[list[tuple[Any, list[Any]]]]:
        """The buffer's items in runs: run ``s`` is a bucket of partition ``s % partitions``."""
        partitioner = self.functions.partitioner
        if partitioner is not None:
            return spread_by(self.groups, self.job.partitions, partitioner)
        return core.spread(self.groups, self.job.partitions * BUCKETS)  # one hash a key

    def _write(self, slot: int, items: list[tuple[Any, list[Any]]]) -> None:
        try:
            self.writer.write(slot, items)
        except OSError as error:
            folder = os.path.dirname(self.writer.path)
            raise WorkFolderError.from_os_error(folder, error, self.writer.nbytes) from error
        except Exception as error:  # a key or value that cannot be pickled
            where = f"{self.source} (pickling its output)"
            raise UserCodeError("mapper", where) from error


def run_results_map_task(
    job: JobSpec, step: int, label: str, sources: list[Any], context: TaskContext
) -> MapOutput:
    """Map the results of the step before: ``sources`` holds one reduce task's
    results file or bytes (in a list, so an executor may pass a handle there)."""
    return run_map_task(job, step, ResultsSplit(sources[0], label), context)


def run_ranged_map_task(
    job: JobSpec, step: int, split: Split, cuts: tuple[Any, ...], context: TaskContext
) -> MapOutput:
    """``run_map_task``, each key going to the reduce task of its range of ``cuts``
    (``ranges.RangePartitioner``: a sorted job's keys cut into ordered ranges)."""
    return run_map_task(job, step, split, context, RangePartitioner(cuts, job.sort_order))


def run_map_task(
    job: JobSpec,
    step: int,
    split: Split,
    context: TaskContext,
    partitioner: Callable[[Any, int], int] | None = None,
) -> MapOutput:
    """Run step ``step``'s mapper over ``split`` and write its partitioned output
    (by ``partitioner`` if given, else the step's own or the stable hash); return
    its segments."""
    counters = dict.fromkeys(
        (C.MAP_RECORDS_IN, C.MAP_RECORDS_OUT, C.MAP_SPILLS, C.MAP_SPILLED_BYTES,
         C.COMBINE_RECORDS_IN, C.COMBINE_RECORDS_OUT), 0
    )  # fmt: skip
    if job.verbose:  # the recipe's "PoolWorker-1 reading basics.rst", a line a file
        name = current_process().name
        parts = getattr(split, "parts", (split,))
        # One write, so that lines of workers writing at once never interleave.
        lines = (f"{name} reading {printable(part.describe())}\n" for part in parts)
        sys.stderr.write("".join(lines))
        sys.stderr.flush()
    skipped: list[str] = []
    try:
        writer = SegmentWriter(context.path(".seg"), job.partitions * BUCKETS)
    except OSError as error:
        raise WorkFolderError.from_os_error(context.workdir, error) from error
    try:
        with counting_into(counters), storage_options(job.storage_options), input_stats() as stats:
            functions = _for_split(job.steps[step].map_task(), split)
            if partitioner is not None:
                functions = dataclasses.replace(functions, partitioner=partitioner)
            with scoped(functions.scope, context):
                for role, hook in functions.setup:
                    call_hook(role, hook, split.describe())
                buffer = _Buffer(job, functions, writer, counters, split.describe())
                bulk = job.steps[step].bulk
                _map_split(job, functions, split, buffer, counters, skipped, bulk)
                _finish(functions, buffer, split.describe())
        input_name = getattr(split, "input_name", None)
        if input_name is not None:  # one of several named inputs: its records apart
            counters[f"{C.MAP_RECORDS_IN}.{input_name}"] = counters[C.MAP_RECORDS_IN]
        written = writer.close(job.partitions)
        sizes = [0 if segment is None else segment.nbytes for segment in written]
        segments: list[SegmentSource | None] = list(written)
        return MapOutput(
            writer.path,
            segments,
            counters,
            stats.decode_errors,
            skipped,
            sizes,
            stats.binary_skipped,
        )
    except OSError as error:  # reading input raises InputError: this is the work folder
        writer.discard()
        raise WorkFolderError.from_os_error(context.workdir, error, writer.nbytes) from error
    except BaseException:
        writer.discard()
        raise


#: The most distinct keys a sample task hands back (those its block gave first).
SAMPLED_KEYS = 20_000


@dataclass
class SampleOutput:
    """What a sample task hands back: keys, each with how many pairs it gave. It has
    no data for an executor to move, and counts nothing."""

    keys: list[tuple[Any, int]]
    counters: dict[str, int] = field(default_factory=dict)

    def packed(self) -> list[bytes | None]:
        return []

    def moved(self, parts: Sequence[Stored | None]) -> SampleOutput:
        return self


def run_sample_task(job: JobSpec, step: int, split: Split, context: TaskContext) -> SampleOutput:
    """The keys step ``step``'s mapper gives for the first block of ``split``, each
    with how many pairs it gave, up to ``SAMPLED_KEYS`` of them: a sample of the
    keys for ``ranges.cut_points``. Nothing is written and nothing counted."""
    counters = dict.fromkeys((C.MAP_RECORDS_IN, C.MAP_RECORDS_OUT, C.MAP_SKIPPED), 0)
    sampler = _Sampler()
    with counting_into({}), storage_options(job.storage_options), input_stats():
        functions = _for_split(job.steps[step].map_task(), split)
        with scoped(functions.scope, context):
            for role, hook in functions.setup:
                call_hook(role, hook, split.describe())
            first = _FirstBlock(split)
            _map_split(job, functions, first, sampler, counters, [], job.steps[step].bulk)
    taken = itertools.islice(sampler.groups.items(), SAMPLED_KEYS)
    return SampleOutput([(key, len(values)) for key, values in taken])


class _Sampler:
    """Where a sample task's pairs go: a table of every key's values, unbounded (it
    maps one block)."""

    def __init__(self) -> None:
        self.groups: dict[Any, list[Any]] = {}

    def fill(
        self, mapper: Callable[[Any], Pairs], records: Iterator[Any], cursor: core.MapCursor
    ) -> int:
        return core.map_records(mapper, records, self.groups, sys.maxsize, cursor)


class _FirstBlock:
    """A split read only as far as its first block (what a sample task maps); in all
    else, the split itself."""

    def __init__(self, split: Split) -> None:
        self._split = split

    def blocks(
        self, counters: dict[str, int], line_limit: int | None = None
    ) -> Iterator[Sequence[Any]]:
        return itertools.islice(self._split.blocks(counters, line_limit), 1)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._split, name)


def _for_split(functions: MapFunctions, split: Split) -> MapFunctions:
    """``functions`` with the mapper of the input ``split`` belongs to, where the step
    has one for each named input."""
    mappers = functions.input_mappers
    name = getattr(split, "input_name", None)
    if mappers is None or name is None:
        return functions
    if name not in mappers:
        raise JobDefinitionError(
            f"the input {name!r} has no mapper: the job's mappers are for "
            f"{', '.join(map(repr, mappers))}"
        )
    return dataclasses.replace(functions, mapper=mappers[name])


def _reads_raw_bytes(split: Split) -> bool:
    """Whether the bytes of ``split``'s blocks are bytes of its files, as the input's
    size counts them: not where a file is read decompressed (``whole``)."""
    return not any(getattr(part, "whole", True) for part in getattr(split, "parts", (split,)))


def _bytes_of(block: Any) -> int:
    """The input bytes of a block, where it has them (a text block: its raw lines)."""
    data = getattr(block, "data", None)
    return len(data) if isinstance(data, bytes) else 0


def _finish(functions: MapFunctions, buffer: _Buffer, where: str) -> None:
    """Add what the ``*_final`` hooks yield, and spill what is left."""
    if functions.mapper_final is not None:
        buffer.add(hook_output("mapper_final", functions.mapper_final, where))
    if functions.combiner_final is None:
        buffer.spill()
        return
    if functions.combine is not None:
        buffer.combine()
    buffer.add(hook_output("combiner_final", functions.combiner_final, where), combine=False)
    buffer.spill(combine=False)


class SpillError(SimplemrError):
    """The engine failed while spilling the map buffer (not the mapper's fault)."""


def _relieve(buffer: _Buffer) -> None:
    try:
        buffer.relieve()
    except SimplemrError:
        raise
    except Exception as error:
        raise SpillError(
            f"spilling the map buffer failed: {type(error).__name__}: {error}"
        ) from error


#: How many skipped records a task describes; the rest are only counted.
SKIPPED_SHOWN = 10


def _map_split(
    job: JobSpec,
    functions: MapFunctions,
    split: Split,
    buffer: _Buffer | _Sampler,
    counters: dict[str, int],
    skipped: list[str],
    bulk: bool,
) -> None:
    mapper = functions.mapper
    parse = getattr(split, "parse", None)
    skipping = job.max_bad_records > 0 and not bulk
    block_number = 0
    cursor = core.MapCursor()
    spot: _Spot | None = None  # where a wrapper that follows the records is
    try:
        raw = _reads_raw_bytes(split)
        for block_number, block in enumerate(split.blocks(counters, job.worker_budget)):
            progressed(_bytes_of(block) if raw else 0)
            cursor = core.MapCursor()
            records: Iterator[Any]
            if bulk:
                whole = block if parse is None else _parsed(split, parse, block_number, block)
                records = iter((whole,))
                mapping = mapper
            else:
                records = watch_records(iter(block))  # a text block is split into lines
                mapping = mapper
                if parse is not None or skipping:
                    spot = _Spot()
                    skip = _skipper(job, split, counters, skipped, block_number, spot)
                    records = _followed(split, parse, block_number, records, spot, skip)
                    if skipping:
                        mapping = _skipping(mapper, skip)
            counters[C.MAP_RECORDS_IN] += len(block)  # known once split, counted if not
            counters[C.MAP_RECORDS_OUT] += buffer.fill(mapping, records, cursor)
    except SimplemrError:  # the input's or the engine's own, already clear
        raise
    except user_errors() as error:
        if bulk:
            where = f"{split.describe()}, block {block_number + 1}"
        elif spot is not None:
            where = split.locate(block_number, spot.index, spot.record)
        else:
            where = split.locate(block_number, cursor.taken - 1, cursor.record)
        raise UserCodeError("mapper", where) from error


@dataclass
class _Spot:
    """The record of a block handed out last, and its index: what an error names."""

    index: int = -1
    record: Any = None


def _same(pairs: Pairs) -> Pairs:
    return pairs


def _followed(
    split: Split,
    parse: Callable[[Any], Any] | None,
    block_number: int,
    records: Iterator[Any],
    spot: _Spot,
    skip: Callable[[BaseException], None] | None,
) -> Iterator[Any]:
    """The records, parsed if ``parse``, with ``spot`` holding the index and the
    raw record of the one handed out last (what an error message names); with
    ``skip``, a record that cannot be parsed is skipped, else it fails the task."""
    for index, record in enumerate(records):
        spot.index = index
        spot.record = record
        if parse is None:
            yield record
            continue
        try:
            parsed = parse(record)
        except ValueError as error:
            if skip is None:
                raise _unparsable(split, (block_number, index, record), error) from None
            skip(error)
            continue
        if parsed is not SKIP_RECORD:
            yield parsed


def _skipper(
    job: JobSpec,
    split: Split,
    counters: dict[str, int],
    skipped: list[str],
    block_number: int,
    spot: _Spot,
) -> Callable[[BaseException], None] | None:
    """With ``max_bad_records``, what skips the record at ``spot`` for an error."""
    if job.max_bad_records == 0:
        return None

    def skip(error: BaseException) -> None:
        _skip(job, split, counters, skipped, (block_number, spot.index, spot.record), error)

    return skip


def _skipping(
    mapper: Callable[[Any], Pairs], skip: Callable[[BaseException], None] | None
) -> Callable[[Any], Pairs]:
    """``mapper`` in Hadoop's skip mode: a record it raises on adds nothing (output
    of the wrong shape is the mapper's bug, not a bad record: it fails the task)."""
    assert skip is not None

    def mapping(record: Any) -> Pairs:
        try:
            return list(pairs_of(mapper(record)))
        except ShapeError:
            raise
        except user_errors() as error:
            skip(error)
            return ()

    return mapping


def _unparsable(split: Split, position: tuple[int, int, Any], error: ValueError) -> InputError:
    return InputError(f"cannot parse the record: {error}", where=split.locate(*position))


def _parsed(
    split: Split, parse: Callable[[Any], Any], block_number: int, block: Sequence[Any]
) -> list[Any]:
    records = []
    for index, record in enumerate(block):
        try:
            parsed = parse(record)
        except ValueError as error:
            raise _unparsable(split, (block_number, index, record), error) from None
        if parsed is not SKIP_RECORD:
            records.append(parsed)
    return records


def _skip(
    job: JobSpec,
    split: Split,
    counters: dict[str, int],
    skipped: list[str],
    position: tuple[int, int, Any],
    error: BaseException,
) -> None:
    """Count a bad record, or fail when this task alone has more than allowed."""
    counters[C.MAP_SKIPPED] = counters.get(C.MAP_SKIPPED, 0) + 1
    if counters[C.MAP_SKIPPED] > job.max_bad_records:
        limit = f"one bad record more than max_bad_records={job.max_bad_records} in this task"
        raise UserCodeError("mapper", f"{split.locate(*position)} ({limit})") from error
    if len(skipped) < SKIPPED_SHOWN:
        where = split.locate(*position)
        skipped.append(f"{where}: {type(error).__name__}: {error}")
