"""The driver: plan the splits, schedule map then reduce tasks, retry, sum counters, clean up.

    inputs ─plan─▶ splits ─map tasks─▶ segments (files in the work folder)
                                            │ partition p of every map task
                                            ▼
                                       reduce task p ─▶ results file p ─▶ ResultStream
                                            │                 │ (a job of several steps)
                                            │                 ▼
                                            │  the next step's map task p reads it as its split
                                            └─▶ or, for the last step of a job with an output
                                                folder: part p of it, committed once all are
                                                written (io/commit.py)

The driver only ever holds task handles and counters, never intermediate pairs.
Splits are planned lazily, with at most ``executor.capacity`` tasks in flight,
so a generator of a hundred million items is never in memory at once. An
attempt whose worker died is run again, up to ``max_attempts`` times; any other
failure ends the job at once. The work folder goes away however the job ends.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import shutil
import tempfile
import time
import weakref
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Any

from . import counters as C
from .counters import Counters
from .errors import (
    RemoteTraceback,
    SimplemrError,
    SortError,
    TaskFailedError,
    WorkerLostError,
    WorkFolderError,
)
from .events import JobReport, PhaseSpan, TaskEvent
from .executors import Completion, Executor, Task, TaskFailure
from .io.batches import ITEM_BATCH, read_batch_lists, read_batches
from .io.filesystems import storage_options
from .io.inputs import plan_splits
from .io.workdir import make_workdir, remove_path
from .job import JobSpec
from .memory import format_size
from .observe.progress import Progress
from .shuffle.maptask import SKIPPED_SHOWN, MapOutput, run_map_task, run_results_map_task
from .shuffle.reducetask import ReduceOutput, run_reduce_task
from .shuffle.sorting import merge_sorted
from .shuffle.task import TaskContext

__all__ = ["ResultStream", "run_job"]

_TaskSource = Iterator[tuple[Callable[..., Any], tuple[Any, ...], str]]


class ResultStream(JobReport, Iterator[Any]):
    """The results of a finished job, read from its reduce tasks' files as you iterate,
    and its ``JobReport``.

    The work folder stays until the stream is exhausted or closed (it is also a
    context manager), so results larger than memory can be consumed in a loop.
    """

    def __init__(
        self, paths: list[str], workdir: str, report: JobReport, ordered: bool = False
    ) -> None:
        super().__init__(**vars(report))
        self._paths = paths
        self._ordered = ordered
        # Removes the work folder when closed, collected, or at interpreter exit.
        self._cleanup = weakref.finalize(self, shutil.rmtree, workdir, ignore_errors=True)
        self._source = self._batches()
        self._items = itertools.chain.from_iterable(self._source)

    def _batches(self) -> Generator[list[Any], None, None]:
        try:
            for partition in self._partition_batches():
                yield from partition
        finally:
            self.close()

    def _partition_batches(self) -> Iterator[Iterator[list[Any]]]:
        if self._ordered:
            merged = merge_sorted(read_batches(path) for path in self._paths)
            results = (result for _key, result in merged)
            yield iter(lambda: list(itertools.islice(results, ITEM_BATCH)), [])
            return
        for path in self._paths:
            yield read_batch_lists(path)

    def partitions(self) -> Iterator[Iterator[Any]]:
        """Yield an iterator over each partition's results, in partition order
        (each consumed before the next); iterate either this or the stream.
        A sorted job's results come as one partition, merged in key order."""
        try:
            for partition in self._partition_batches():
                yield itertools.chain.from_iterable(partition)
        finally:
            self.close()

    def __iter__(self) -> Iterator[Any]:
        # The results themselves, a batch at a time, with no Python call per result.
        return self._items

    def __next__(self) -> Any:
        return next(self._items)

    def close(self) -> None:
        """Remove the work folder; results not yet read are gone."""
        self._cleanup()

    def __enter__(self) -> ResultStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._source.close()
        self.close()


class _Scheduler:
    """Runs one phase's tasks on the executor, retrying attempts whose worker died."""

    def __init__(
        self,
        executor: Executor,
        workdir: str,
        *,
        max_attempts: int,
        counters: Counters,
        progress: Progress,
        max_bad_records: int,
        steps: int,
        started: float,
    ) -> None:
        self.executor = executor
        self.workdir = workdir
        self.max_attempts = max_attempts
        self.counters = counters
        self.progress = progress
        self.max_bad_records = max_bad_records
        self.steps = steps
        self.started = started
        #: Every attempt settled so far, in the order they ended.
        self.events: list[TaskEvent] = []
        self._skipped: dict[tuple[int, int], list[str]] = {}  # by step and map task

    def run_phase(
        self,
        step: int,
        phase: str,
        source: _TaskSource,
        total: int | None,
        done: Callable[[int], None] | None = None,
    ) -> list[Any]:
        """Run every task of ``source``; return their results in task order.
        ``done(index)`` hears of each task that succeeded."""
        results: dict[int, Any] = {}
        in_flight: dict[int, tuple[Task, str]] = {}
        planned = 0
        exhausted = False
        while True:
            while not exhausted and len(in_flight) < self.executor.capacity:
                try:
                    function, args, described = next(source)
                except StopIteration:
                    exhausted = True
                    total = planned
                    break
                context = TaskContext(phase, planned, attempt=1, workdir=self.workdir, step=step)
                task = Task(function, args, context)
                in_flight[planned] = (task, described)
                self.executor.submit(task)
                planned += 1
            if not in_flight:
                return [results[index] for index in range(planned)]
            completion = self.executor.next_completed()
            settled = self._settle(completion, in_flight, results, total)
            if settled is not None and done is not None:
                done(settled)

    def _settle(
        self,
        completion: Completion,
        in_flight: dict[int, tuple[Task, str]],
        results: dict[int, Any],
        total: int | None,
    ) -> int | None:
        """Take note of an attempt that ended; return its task's number if it succeeded."""
        context = completion.context
        current = in_flight.get(context.index)
        if current is None or current[0].context != context:
            return None  # not an attempt this run is waiting for
        task, described = current
        self.counters[C.TASK_ATTEMPTS] += 1
        failure = completion.failure
        if failure is None:
            self._record(completion, "done")
            del in_flight[context.index]
            results[context.index] = completion.result
            self.counters.add(completion.result.counters)
            self._count_skipped(context, completion.result)
            self.progress.task_done(context.phase, completion.result.counters)
            return context.index
        full = isinstance(failure.original, WorkFolderError)
        written = _folder_bytes(self.workdir) if full else 0  # before this attempt's go
        context.remove_files()
        if failure.retryable and context.attempt < self.max_attempts:
            self._record(completion, "lost")
            self.counters[C.TASK_RETRIES] += 1
            retry = Task(task.function, task.args, context.next_attempt())
            in_flight[context.index] = (retry, described)
            self.executor.submit(retry)
            return None
        self._record(completion, "failed")
        error = _task_error(context, total, described, failure, self.steps)
        if written:
            error.args = (f"{error}; the job had written {format_size(written)} there so far",)
        raise error

    def _record(self, completion: Completion, outcome: str) -> None:
        context, attempt, result = completion.context, completion.attempt, completion.result
        finished = attempt.finished or time.time()
        self.events.append(
            TaskEvent(
                context.step + 1,
                context.phase,
                context.index + 1,
                context.attempt,
                attempt.worker or "?",
                max(0.0, (attempt.started or finished) - self.started),
                max(0.0, finished - self.started),
                outcome,
                dict(getattr(result, "counters", None) or {}),
                tuple(getattr(result, "partition_bytes", None) or ()),
                attempt.peak_rss,
            )
        )

    @property
    def skipped(self) -> list[str]:
        """The first skipped records, in input order."""
        ordered = (self._skipped[index] for index in sorted(self._skipped))
        return [record for records in ordered for record in records][:SKIPPED_SHOWN]

    def _count_skipped(self, context: TaskContext, result: Any) -> None:
        """Keep the skipped records; fail once the job has skipped too many."""
        if getattr(result, "skipped", None):
            self._skipped[context.step, context.index] = result.skipped
        total = self.counters[C.MAP_SKIPPED]
        if total > self.max_bad_records:
            raise TaskFailedError(
                f"the mapper raised on {total} records, more than "
                f"max_bad_records={self.max_bad_records}; the first: {self.skipped[0]}"
            )


def _folder_bytes(folder: str) -> int:
    """The bytes of every file under ``folder``."""
    total = 0
    for parent, _, names in os.walk(folder):
        for name in names:
            with contextlib.suppress(OSError):
                total += os.path.getsize(os.path.join(parent, name))
    return total


def _task_error(
    context: TaskContext, total: int | None, described: str, failure: TaskFailure, steps: int
) -> SimplemrError:
    label = f"{context.phase} task {context.index + 1}" + (f" of {total}" if total else "")
    if steps > 1:
        label = f"step {context.step + 1} of {steps}, {label}"
    error: SimplemrError
    if failure.kind == "internal" and isinstance(failure.original, SortError):
        error = SortError(f"{label} ({described}): {failure.original}")  # the keys' fault
    elif failure.kind == "lost":
        error = WorkerLostError(
            f"{label} ({described}) failed after {context.attempt} attempt"
            f"{'s' if context.attempt > 1 else ''}: {failure.message}"
        )
    else:
        where = failure.where or described
        error = TaskFailedError(
            f"{label} failed on {where}: {failure.message}", original=failure.original
        )
    if failure.traceback:
        error.__cause__ = RemoteTraceback(failure.traceback)
    return error


def _map_tasks(step: int, splits: Iterator[Any]) -> _TaskSource:
    for split in splits:
        yield run_map_task, (step, split), split.describe()


def _reduce_tasks(step: int, map_outputs: list[MapOutput], partitions: int) -> _TaskSource:
    for partition in range(partitions):
        segments = [out.segments[partition] for out in map_outputs]
        present = [segment for segment in segments if segment is not None]
        yield run_reduce_task, (step, partition, present), f"partition {partition + 1}"


def _results_map_tasks(step: int, reduce_outputs: list[ReduceOutput]) -> _TaskSource:
    """Map tasks of step ``step`` over the results of the step before, one a partition."""
    for partition, output in enumerate(reduce_outputs):
        label = f"step {step} results, partition {partition + 1}"
        yield run_results_map_task, (step, label, [output.stored]), label


def run_job(
    job: JobSpec,
    inputs: Any,
    executor: Executor,
    *,
    max_attempts: int = 4,
    tmp_dir: str | None = None,
    chunksize: int | None = None,
    progress: Progress | None = None,
) -> ResultStream:
    """Run ``job`` over ``inputs`` on ``executor``; return a stream of its results.

    ``progress`` hears of every finished task. The built-in counters are summed
    over the job's steps.
    """
    with storage_options(job.storage_options):
        return _run_job(job, inputs, executor, max_attempts, tmp_dir, chunksize, progress)


def _run_job(
    job: JobSpec,
    inputs: Any,
    executor: Executor,
    max_attempts: int,
    tmp_dir: str | None,
    chunksize: int | None,
    progress: Progress | None,
) -> ResultStream:
    splits = plan_splits(inputs, executor.workers, chunksize)
    payload = job.to_bytes()
    counters = Counters()
    progress = progress or Progress()
    workdir = make_workdir(tmp_dir)
    steps = len(job.steps)
    decode_errors: dict[str, int] = {}
    binary_skipped: set[str] = set()
    started = time.time()
    phases: list[PhaseSpan] = []

    def phase_done(step: int, phase: str, since: float) -> float:
        now = time.time()
        phases.append(PhaseSpan(step + 1, phase, since - started, now - started))
        return now

    try:
        if job.output is not None:
            job.output.setup()
        with executor:
            executor.start(payload)
            scheduler = _Scheduler(
                executor,
                workdir,
                max_attempts=max_attempts,
                counters=counters,
                progress=progress,
                max_bad_records=job.max_bad_records,
                steps=steps,
                started=started,
            )
            previous: list[ReduceOutput] = []
            for step in range(steps):
                of_step = f" (step {step + 1} of {steps})" if steps > 1 else ""
                input_bytes = getattr(inputs, "total_bytes", None) if step == 0 else None
                progress.phase_started("map" + of_step, None, input_bytes)
                since = time.time()
                tasks = (
                    _map_tasks(step, splits) if step == 0 else _results_map_tasks(step, previous)
                )
                map_outputs: list[MapOutput] = scheduler.run_phase(step, "map", tasks, None)
                since = phase_done(step, "map", since)
                _remove_files(output.stored for output in previous)  # read: not needed now
                progress.phase_started("reduce" + of_step, job.partitions, None)
                previous = scheduler.run_phase(
                    step,
                    "reduce",
                    _reduce_tasks(step, map_outputs, job.partitions),
                    job.partitions,
                    done=functools.partial(_release, map_outputs),
                )
                phase_done(step, "reduce", since)
                counters[C.TASKS_MAP] += len(map_outputs)
                counters[C.TASKS_REDUCE] += len(previous)
                _remove_files(output.path for output in map_outputs)
                for output in map_outputs:
                    for source, count in output.decode_errors.items():
                        decode_errors[source] = decode_errors.get(source, 0) + count
                    binary_skipped.update(output.binary_skipped)
                del map_outputs  # an executor holding the segments elsewhere may now free them
            if job.output is not None:
                parts = job.output.commit([output.part for output in previous])
                paths = []
            else:
                parts = []
                paths = [_local_copy(executor, output.stored, workdir) for output in previous]
            progress.close()
        report = JobReport(
            counters=counters,
            decode_errors=decode_errors,
            skipped=scheduler.skipped,
            events=scheduler.events,
            phases=phases,
            binary_skipped=sorted(binary_skipped),
            output_parts=parts,
            summaries=[output.summary for output in previous] if job.output_tap else [],
        )
        return ResultStream(paths, workdir, report, ordered=job.sort)
    except BaseException:
        if job.output is not None:
            job.output.abort()
        progress.close()
        shutil.rmtree(workdir, ignore_errors=True)
        raise


def _release(map_outputs: list[MapOutput], partition: int) -> None:
    """Let go of every map output's part of ``partition``, now reduced: an executor
    that holds them elsewhere frees them at once, not at the end of the phase."""
    for output in map_outputs:
        output.segments[partition] = None


def _remove_files(paths: Iterable[Any]) -> None:
    """Free the disk of files no task will read again (outputs kept elsewhere than
    in files are the executor's to free)."""
    for path in paths:
        if isinstance(path, str):
            remove_path(path)


def _local_copy(executor: Executor, stored: Any, workdir: str) -> str:
    """The path of a results file in the work folder, fetching it from the executor
    when it kept it elsewhere (one partition in memory at a time)."""
    if isinstance(stored, str):
        return stored
    fd, path = tempfile.mkstemp(prefix="results-", dir=workdir)
    with os.fdopen(fd, "wb") as file:
        file.write(executor.fetch(stored))
    return path
