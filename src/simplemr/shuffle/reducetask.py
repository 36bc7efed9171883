"""One reduce task: group a partition's values by key within the budget, then reduce.

    bucket b of every map task's segment ─▶ group {key: [values]} ─▶ reducer ─▶ results file
    (a bucket at a time)                           │ over budget?
                                                   ├─ one key holds most of it: its values go
                                                   │  to an overflow file and stream back
                                                   └─ else: the bucket is split again on disk
                                                      by a salted hash, each piece in turn

Map tasks wrote each partition in buckets by the same stable hash, so a key lies in
one bucket and a partition many budgets large is grouped in pieces that fit without
being written again. Keys never need to be orderable: grouping is by hashing, in
memory or on disk.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import operator
import os
import shutil
import types
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import core
from .. import counters as C
from ..counters import counting_into
from ..errors import SimplemrError, WorkFolderError, short_repr
from ..io.batches import (
    ITEM_BATCH,
    LocalFile,
    Stored,
    collector_paused,
    dumps,
    read_pickles,
    write_batches,
)
from ..io.filesystems import storage_options
from ..io.workdir import create_private, open_own, remove_path
from ..job import JobSpec, ReduceFunctions, ValueOrder, ordered_by, seen_by
from .segments import (
    BATCH_VALUES,
    ReadProgress,
    Segment,
    SegmentSource,
    SegmentWriter,
    read_segment,
    read_segments,
)
from .sorting import sort_within_budget, sorted_values
from .table import GroupTable
from .task import (
    TaskContext,
    UserCodeError,
    call_hook,
    hook_output,
    progressed,
    record_spot,
    scoped,
    user_errors,
    watch_records,
)

__all__ = ["ReduceOutput", "group_within_budget", "run_reduce_task"]

_MAX_DEPTH = 6
_MIN_FANOUT = 8
_MAX_FANOUT = 64


@dataclass
class ReduceOutput:
    """What a reduce task hands back: where its results are (its file, or wherever
    an executor ``moved`` them), or, when it wrote them to the job's output, the part
    it wrote and its tap's summary; and its counters."""

    stored: Stored | None
    counters: dict[str, int] = field(default_factory=dict)
    part: str | None = None
    summary: Any = None

    def packed(self) -> list[bytes | None]:
        """Its results file's bytes (None when it wrote to the job's output), to move
        elsewhere; the file is removed."""
        if self.stored is None:
            return [None]
        with self.stored.open() as file:
            data = file.read()
        self.stored.discard()
        return [data]

    def moved(self, parts: Sequence[Stored | None]) -> ReduceOutput:
        """This output with its results where an executor keeps them."""
        [stored] = parts
        return dataclasses.replace(self, stored=stored)


class _Scratch:
    """Files a reduce task writes for itself: overflow values and re-split pieces."""

    def __init__(self, folder: str, counters: dict[str, int]) -> None:
        self.folder = folder
        self.counters = counters
        self._serial = itertools.count()

    def new_path(self, kind: str) -> str:
        if not os.path.isdir(self.folder):
            os.mkdir(self.folder, 0o700)
        return os.path.join(self.folder, f"{kind}-{next(self._serial)}")

    def wrote(self, nbytes: int) -> None:
        self.counters[C.REDUCE_SPILLED_BYTES] += nbytes

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class _Overflow:
    """The values of one hot key, kept on disk; iterating reads them back once."""

    def __init__(self, scratch: _Scratch) -> None:
        self.scratch = scratch
        self.path = scratch.new_path("overflow")
        self.nbytes = 0

    def extend(self, values: list[Any]) -> None:
        with create_private(self.path, append=True) as file:
            for start in range(0, len(values), BATCH_VALUES):
                data = dumps(values[start : start + BATCH_VALUES])
                file.write(data)
                self.nbytes += len(data)
                self.scratch.wrote(len(data))

    def __iter__(self) -> Iterator[Any]:
        with open_own(self.path) as file:
            for values in read_pickles(file, self.nbytes):
                progressed()
                yield from watch_records(iter(values))


#: How many keys a reduce task hands its reducer loop at a time.
GROUPS_CHUNK = 1024

#: ``(key, values)`` pairs, values a list or, for a key that overflowed, an iterable.
Groups = list[tuple[Any, Iterable[Any]]]


def group_within_budget(
    items: Iterable[tuple[Any, list[Any]]],
    budget: float,
    scratch: _Scratch,
    depth: int = 0,
    overflow: dict[Any, _Overflow] | None = None,
    progress: ReadProgress | None = None,
) -> Iterator[Groups]:
    """Yield chunks of ``(key, values)`` for every key of ``items``, holding about
    ``budget`` bytes.

    Equivalent, memory aside, to grouping every item's values into one dict of
    lists and yielding its items in chunks (a key that overflowed to disk gets an
    iterable of its values instead of a list). The items' lists become the table's
    (decoded batches, which nothing else holds): they are extended. ``progress``
    (what the reader of ``items`` has read of their bytes) sizes a split so that one
    level usually does.
    """
    overflow = {} if overflow is None else overflow
    table = GroupTable(budget)
    groups = table.groups
    items = iter(items)
    cursor: list[Any] = [None, []]  # the last item taken, for the size estimate
    while table.took(core.merge_items(groups, items, table.room, cursor)):
        progressed()
        key, values = cursor
        if not table.exceeded(len(groups), table.values, key, values[-1] if values else None):
            continue
        hot = max(groups, key=lambda k: len(groups[k]))
        if depth >= _MAX_DEPTH or len(groups[hot]) * table.estimator.value_cost > budget / 2:
            if hot not in overflow:
                overflow[hot] = _Overflow(scratch)
            overflow[hot].extend(groups[hot])
            table.values -= len(groups[hot])
            groups[hot] = []
            continue
        fanout = _fanout(table.estimate(), budget, progress)
        # Write pieces in batches that hold a fraction of the budget, not of the fan-out.
        flush_at = max(BATCH_VALUES, int(budget / 4 / table.estimator.value_cost))
        path, pieces = _split_again(groups, items, fanout, depth + 1, scratch, flush_at)
        for piece in pieces:
            if piece is not None:
                read = ReadProgress([piece])
                yield from group_within_budget(
                    read_segment(piece, read), budget, scratch, depth + 1, overflow, read
                )
        remove_path(path)
        return
    in_order: Iterator[tuple[Any, Iterable[Any]]] = iter(groups.items())
    while chunk := list(itertools.islice(in_order, GROUPS_CHUNK)):
        if overflow:
            chunk = [_with_overflow(key, values, overflow) for key, values in chunk]
        yield chunk


def _with_overflow(
    key: Any, values: Iterable[Any], overflow: dict[Any, _Overflow]
) -> tuple[Any, Iterable[Any]]:
    """A key's values: those that overflowed to disk first, if any, then the rest."""
    spilled = overflow.pop(key, None)
    return key, values if spilled is None else itertools.chain(spilled, values)


def _fanout(held_bytes: float, budget: float, progress: ReadProgress | None) -> int:
    """How many pieces to split a partition into, ``held_bytes`` of it in memory so
    far: each piece about two thirds of the budget, projecting the whole partition
    from the part of its bytes read (as if memory grows with bytes read; keys seen
    again add less); without that, cut generously, since the rest is unseen. One
    level does for a partition up to about 40 budgets; beyond, pieces split again."""
    if progress is not None and progress.fraction > 0:
        wanted = math.ceil(1.5 * held_bytes / progress.fraction / budget)
    else:
        wanted = int(4 * held_bytes / budget)
    return max(_MIN_FANOUT, min(_MAX_FANOUT, wanted))


def _drained(table: dict[Any, list[Any]]) -> Iterator[tuple[Any, list[Any]]]:
    """The table's items, each leaving the table as it is taken."""
    while table:
        yield table.popitem()


def _split_again(
    table: dict[Any, list[Any]],
    rest: Iterator[tuple[Any, list[Any]]],
    fanout: int,
    depth: int,
    scratch: _Scratch,
    flush_at: int,
) -> tuple[str, list[Segment | None]]:
    """Write the table and the rest of the items to ``fanout`` pieces by a salted
    hash, in one file, holding up to ``flush_at`` values before writing them out;
    return the file and each piece's segment of it."""
    salt = b"simplemr-resplit-%d" % depth
    writer = SegmentWriter(scratch.new_path("pieces"), fanout)
    pending: list[list[tuple[Any, list[Any]]]] = [[] for _ in range(fanout)]
    pending_values = 0

    def flush() -> None:
        for piece, piece_items in enumerate(pending):
            if piece_items:
                writer.write(piece, piece_items)
                piece_items.clear()

    for key, values in itertools.chain(_drained(table), rest):
        pending[core.partition_of(key, fanout, salt)].append((key, values))
        pending_values += len(values) + 1
        if pending_values >= flush_at:
            flush()
            pending_values = 0
    flush()
    scratch.wrote(writer.nbytes)
    return writer.path, writer.close()


def run_reduce_task(
    job: JobSpec,
    step: int,
    partition: int,
    segments: list[SegmentSource],
    context: TaskContext,
) -> ReduceOutput:
    """Group partition ``partition`` of every map output of step ``step``, reduce
    it, and write the results (in key order for the last step of a sorted job), to
    the job's output for the last step of a job that has one. A segment made on
    another machine is first written here."""
    counters = dict.fromkeys(
        (C.REDUCE_RECORDS_IN, C.REDUCE_GROUPS, C.REDUCE_RECORDS_OUT, C.REDUCE_SPILLED_BYTES), 0
    )
    scratch = _Scratch(context.path(".scratch"), counters)
    last = step == len(job.steps) - 1
    committer = job.output if last else None
    path = context.path(".out")
    where = f"partition {partition + 1}"
    try:
        with counting_into(counters), storage_options(job.storage_options):
            functions = job.steps[step].reduce_task()
            with scoped(functions.scope, context):
                for role, hook in functions.setup:
                    call_hook(role, hook, where)
                sorted_step = job.sort and last
                results = _reduced(job, functions, segments, scratch, counters, where, sorted_step)
                if committer is not None:
                    if sorted_step:  # in key order across parts: written without keys
                        results = map(operator.itemgetter(1), results)
                    tap = job.output_tap() if job.output_tap is not None else None
                    if tap is not None:
                        results = seen_by(tap, results)
                    part, counters[C.REDUCE_RECORDS_OUT] = committer.write_part(
                        partition, context.attempt, results
                    )
                    return ReduceOutput(None, counters, part, tap and tap.summary())
                with create_private(path, buffering=1024 * 1024) as out:
                    counters[C.REDUCE_RECORDS_OUT] = write_batches(out, results)
    except OSError as error:
        remove_path(path)
        raise WorkFolderError.from_os_error(context.workdir, error) from error
    except BaseException:
        remove_path(path)
        raise
    finally:
        scratch.remove()
    return ReduceOutput(LocalFile(path), counters)


def _reduced(
    job: JobSpec,
    functions: ReduceFunctions,
    segments: list[SegmentSource],
    scratch: _Scratch,
    counters: dict[str, int],
    where: str,
    in_key_order: bool,
) -> Iterator[Any]:
    """The results of a partition's groups (each key's values in the step's order, if
    it asks for one); ``in_key_order``: as ``(sort key, result)``, sorted."""
    groups = _grouped(segments, job.worker_budget, scratch, counters)
    if functions.value_order is not None:
        groups = _in_value_order(groups, functions.value_order, job, scratch)
    if in_key_order and job.sort_order.key is not None:
        functions = _ordered_by_sort_key(functions, job)
    results = _results(functions, groups, counters, where, keyed=in_key_order)
    if not in_key_order:
        return results
    return sort_within_budget(
        results,
        job.worker_budget,
        lambda: scratch.new_path("sorted"),
        scratch.wrote,
        job.sort_order.reverse,
    )


def _grouped(
    segments: list[SegmentSource],
    budget: float,
    scratch: _Scratch,
    counters: dict[str, int],
) -> Iterator[Groups]:
    """Group a partition a bucket at a time (a key lies in one bucket): each map
    task's segment is a file of this machine, or one moved from elsewhere, first
    written here (so that every executor groups alike, and gives the same output)."""
    local = [segment.here(lambda: scratch.new_path("fetched")) for segment in segments]
    tagged = all(segment.buckets for segment in local)
    buckets = sorted({tag for segment in local for tag in segment.buckets}) if tagged else [None]
    for bucket in buckets:
        progress = ReadProgress(local, bucket)
        items = read_segments(local, progress, bucket)
        yield from group_within_budget(items, budget, scratch, progress=progress)
        counters[C.REDUCE_RECORDS_IN] += progress.values


def _ordered_by_sort_key(functions: ReduceFunctions, job: JobSpec) -> ReduceFunctions:
    """``functions`` whose results are ordered by the job's ``sort_key`` of their key."""
    result_key = functions.sort_key

    def sort_key(key: Any, result: Any) -> Any:
        return ordered_by(job.sort_order, result_key(key, result))

    return dataclasses.replace(functions, sort_key=sort_key)


def _in_value_order(
    chunks: Iterable[Groups], order: ValueOrder, job: JobSpec, scratch: _Scratch
) -> Iterator[Groups]:
    """Each chunk with each key's values in ``order`` (``sorting.sorted_values``): a
    key's values held in memory sorted as they are; those past the budget sorted in
    runs of half of it (the other half holds the chunk's groups)."""
    budget = job.worker_budget / 2

    def new_path() -> str:
        return scratch.new_path("values")

    for chunk in chunks:
        yield [
            (key, sorted_values(key, values, order, budget, new_path, scratch.wrote))
            for key, values in chunk
        ]


def _results(
    functions: ReduceFunctions,
    chunks: Iterable[Groups],
    counters: dict[str, int],
    where: str,
    keyed: bool,
) -> Iterator[Any]:
    """Every result of every group, then the final ones; ``keyed``: each as
    ``(sort key, result)``, for a step whose results are sorted.

    Equivalent to ``chain.from_iterable(reduce(key, iter(values)) for each group)``,
    computed a chunk of groups at a time, so that a key costs one call of the
    reducer and nothing else in Python.
    """
    results = itertools.chain.from_iterable(_result_lists(functions, chunks, counters, keyed))
    if functions.final is None:
        return results
    final = hook_output("reducer_final", functions.final, where)
    if keyed:
        final = ((functions.sort_key(None, result), result) for result in final)
    return itertools.chain(results, final)


def _result_lists(
    functions: ReduceFunctions, chunks: Iterable[Groups], counters: dict[str, int], keyed: bool
) -> Iterator[list[Any]]:
    """The results of each chunk of groups, as lists of bounded length (a reducer
    that yields streams its results ``ITEM_BATCH`` at a time), with the garbage
    collector waiting while a chunk is reduced (``collector_paused``)."""
    for chunk in chunks:
        progressed()
        counters[C.REDUCE_GROUPS] += len(chunk)
        keys = iter(chunk)
        try:
            with collector_paused():
                yield from _reduce_chunk(functions, keys, keyed)
        except SimplemrError:
            raise
        except user_errors() as error:
            # The key that failed is the one taken last: its place is what the
            # iterator has left, which costs nothing per key to know.
            key = chunk[len(chunk) - operator.length_hint(keys) - 1][0]
            raise UserCodeError("reducer", f"key {short_repr(key)}") from error


def _reduce_chunk(
    functions: ReduceFunctions, keys: Iterator[tuple[Any, Iterable[Any]]], keyed: bool
) -> Iterator[list[Any]]:
    # The watchdog follows the keys, and the values of a key that has more than one,
    # so that a reducer slowly reading many values is seen to move.
    spot = record_spot()
    spot[0] = keys
    if keyed or not functions.returns_one:
        yield from _reduce_each(functions, keys, keyed, spot)
        return
    out: list[Any] = []
    while (stream := core.reduce_groups(functions.reduce, keys, spot, out)) is not None:
        if out:
            yield out
            out = []
        yield from _batched(stream)  # a generator may read the values as it yields
        spot[0] = keys
    if out:
        yield out


def _reduce_each(
    functions: ReduceFunctions,
    keys: Iterator[tuple[Any, Iterable[Any]]],
    keyed: bool,
    spot: list[Any],
) -> Iterator[list[Any]]:
    """``_reduce_chunk`` a key at a time in Python: for results with a sort key, and
    for reducers that yield (each call's results streamed as they come)."""
    reduce, single, sort_key = functions.reduce, functions.returns_one, functions.sort_key
    out: list[Any] = []
    for key, values in keys:
        if type(values) is list and len(values) == 1:
            result = reduce(key, iter(values))
        else:
            spot[0] = followed = iter(values)
            result = reduce(key, followed)
        if single and type(result) is not types.GeneratorType:
            out.append((sort_key(key, result), result) if keyed else result)
        else:
            if out:
                yield out
                out = []
            results = iter(result)
            if keyed:
                results = ((sort_key(key, item), item) for item in results)
            yield from _batched(results)
        spot[0] = keys
    if out:
        yield out


def _batched(results: Iterable[Any]) -> Iterator[list[Any]]:
    """``results`` in lists of up to ``ITEM_BATCH``, read as they are needed."""
    results = iter(results)
    while batch := list(itertools.islice(results, ITEM_BATCH)):
        yield batch
