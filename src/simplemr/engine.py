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
attempt whose worker died, or that raised one of the job's ``retry_exceptions``, is
run again, up to ``max_attempts`` times; any other failure ends the job at once. The
work folder goes away however the job ends.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import operator
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
from .events import JobReport, PhaseSpan, TaskEvent, attach_report
from .executors import Completion, Executor, Task, TaskFailure
from .io.batches import (
    ITEM_BATCH,
    LocalFile,
    Stored,
    collector_paused,
    read_batch_lists,
    read_batches,
)
from .io.filesystems import storage_options
from .io.inputs import plan_splits
from .io.workdir import make_workdir, remove_path
from .job import JobSpec, ordered_by
from .memory import format_size
from .observe.progress import Progress
from .resume import StepStore
from .shuffle.maptask import (
    SKIPPED_SHOWN,
    MapOutput,
    run_map_task,
    run_ranged_map_task,
    run_results_map_task,
    run_sample_task,
)
from .shuffle.ranges import cut_points
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
        self,
        paths: list[str],
        workdir: str,
        report: JobReport,
        ordered: bool = False,
        collected: dict[int, list[Any]] | None = None,
        ranged: bool = False,
        reverse: bool = False,
    ) -> None:
        super().__init__(**vars(report))
        self._paths = paths
        self._ordered = ordered
        self._ranged = ranged
        self._reverse = reverse
        self._collected = collected or {}  # partitions read already, by number
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
        if self._ordered and not self._ranged:
            merged = merge_sorted(
                (read_batches(LocalFile(path)) for path in self._paths), self._reverse
            )
            results = (result for _key, result in merged)
            yield iter(lambda: list(itertools.islice(results, ITEM_BATCH)), [])
            return
        for partition, path in enumerate(self._paths):
            collected = self._collected.pop(partition, None)
            if collected is not None:
                yield iter((collected,))
            elif self._ordered:  # ordered ranges, one a partition: their results, in turn
                yield (list(map(_second, batch)) for batch in read_batch_lists(LocalFile(path)))
            else:
                yield read_batch_lists(LocalFile(path))

    def partitions(self) -> Iterator[Iterator[Any]]:
        """Yield an iterator over each partition's results, in partition order
        (each consumed before the next); iterate either this or the stream.
        A sorted job's results come in key order: partitions of ordered ranges, or
        (where its keys were not cut into ranges) one partition, merged."""
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
        done: Callable[[int, Any], None] | None = None,
    ) -> list[Any]:
        """Run every task of ``source``; return their results in task order.
        ``done(index, result)`` hears of each task that succeeded, once the workers
        it freed have their next tasks (so the driver's work there leaves none idle)."""
        results: dict[int, Any] = {}
        in_flight: dict[int, tuple[Task, str]] = {}
        settled: list[int] = []  # succeeded, not yet told to done
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
            if done is not None:
                for index in settled:
                    done(index, results[index])
            settled.clear()
            if not in_flight:
                return [results[index] for index in range(planned)]
            completion = self.executor.next_completed()
            succeeded = self._settle(completion, in_flight, results, total)
            if succeeded is not None:
                settled.append(succeeded)

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
            self._record(completion, "retried" if failure.transient else "lost")
            self.counters[C.TASK_RETRIES] += 1
            backoff = retry_backoff(context.attempt) if failure.transient else 0.0
            retry = Task(task.function, task.args, context.next_attempt(backoff))
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


def retry_backoff(attempt: int) -> float:
    """Seconds to wait before running again a task whose attempt ``attempt`` (from 1)
    raised one of the job's ``retry_exceptions``: 0.1, then doubling, at most 2."""
    return float(min(0.1 * 2 ** (attempt - 1), 2.0))


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


_second = operator.itemgetter(1)


def _map_tasks(step: int, splits: Iterator[Any]) -> _TaskSource:
    for split in splits:
        yield run_map_task, (step, split), split.describe()


def _ranged_map_tasks(step: int, splits: Iterable[Any], cuts: tuple[Any, ...]) -> _TaskSource:
    for split in splits:
        yield run_ranged_map_task, (step, split, cuts), split.describe()


#: How many splits a sorted job samples the keys of (the first block of each), spread
#: over twice as many of its first splits.
SAMPLED_SPLITS = 16


def _sample_tasks(step: int, splits: list[Any]) -> _TaskSource:
    """Sample tasks for up to ``SAMPLED_SPLITS`` splits spread over the input."""
    every = max(1, -(-len(splits) // SAMPLED_SPLITS))
    for split in splits[::every]:
        yield run_sample_task, (step, split), split.describe()


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
    collect: bool = False,
    step_output: str | None = None,
    resume: bool = False,
) -> ResultStream:
    """Run ``job`` over ``inputs`` on ``executor``; return a stream of its results.

    ``progress`` hears of every finished task. The built-in counters are summed
    over the job's steps. A job that fails raises with what it did until then
    (``events.report_of``). ``collect`` says the caller will hold every result in
    memory: they are read as each reduce task ends, while the others run. With
    ``step_output`` every step's results but the last are kept in that folder, and
    with ``resume`` the steps whose kept results this job made are skipped
    (``resume.py``).
    """
    with storage_options(job.storage_options):
        store = None if step_output is None else StepStore.open(step_output, job, inputs, resume)
        first, previous = store.resumed() if store is not None and resume else (0, [])
        splits = plan_splits(inputs, executor.workers, chunksize)
        payload = job.to_bytes()
        run = _JobRun(job, executor, max_attempts, progress or Progress(), collect)
        run.resumed_steps = first
        try:
            run.start(tmp_dir)
            with executor:
                executor.start(payload)
                total_bytes = getattr(inputs, "total_bytes", None) if first == 0 else None
                for step in range(first, len(job.steps)):
                    previous = run.step(step, splits, previous, total_bytes)
                    total_bytes = None  # a later step reads results: their size is unknown
                    if store is not None and step < len(job.steps) - 1:
                        store.keep(step, previous, executor)
                return run.finish(previous)
        except BaseException as error:
            run.abort(error)
            raise


class _JobRun:
    """One run of a job: its work folder, its scheduler, what it has counted and
    timed so far; it runs step after step, then finishes or aborts."""

    def __init__(
        self,
        job: JobSpec,
        executor: Executor,
        max_attempts: int,
        progress: Progress,
        collect: bool = False,
    ) -> None:
        self.job = job
        self.executor = executor
        self.max_attempts = max_attempts
        self.progress = progress
        self.counters = Counters()
        self.decode_errors: dict[str, int] = {}
        self.binary_skipped: set[str] = set()
        self.started = time.time()
        self.phases: list[PhaseSpan] = []
        self.running: tuple[int, str, float] | None = None  # step, phase, since
        self.workdir: str | None = None
        self.scheduler: _Scheduler | None = None
        #: Whether the caller will hold every result in memory (``run()``): then the
        #: last step's results are read as each reduce task ends (unsorted, unwritten).
        self.collect = collect and not job.sort and job.output is None
        self.collected: dict[int, list[Any]] = {}  # by partition
        #: The steps skipped for results kept by an earlier run (``resume.py``).
        self.resumed_steps = 0

    def start(self, tmp_dir: str | None) -> None:
        """Make the work folder and the scheduler; set the output up."""
        self.workdir = make_workdir(tmp_dir)
        if self.job.output is not None:
            self.job.output.setup()
        self.scheduler = _Scheduler(
            self.executor,
            self.workdir,
            max_attempts=self.max_attempts,
            counters=self.counters,
            progress=self.progress,
            max_bad_records=self.job.max_bad_records,
            steps=len(self.job.steps),
            started=self.started,
        )

    def step(
        self,
        step: int,
        splits: Iterator[Any],
        previous: list[ReduceOutput],
        total_bytes: int | None,
    ) -> list[ReduceOutput]:
        """Run step ``step``'s map tasks (over ``splits``, or the step before's
        results ``previous``; ``total_bytes`` of input, if known), then its reduce
        tasks; return their outputs."""
        assert self.scheduler is not None
        steps = len(self.job.steps)
        of_step = f" (step {step + 1} of {steps})" if steps > 1 else ""
        self.progress.phase_started("map" + of_step, None, total_bytes, self.executor.reading)
        self._phase(step, "map")
        if step == 0 and self.job.sorted_by_ranges:
            # Sampled from the first splits only: those of a generator hold its items.
            head = list(itertools.islice(splits, 2 * SAMPLED_SPLITS))
            cuts = self._cut_points(step, head)
            tasks = _ranged_map_tasks(step, itertools.chain(head, splits), cuts)
        elif step == 0:
            tasks = _map_tasks(step, splits)
        else:
            tasks = _results_map_tasks(step, previous)
        map_outputs: list[MapOutput] = self.scheduler.run_phase(step, "map", tasks, None)
        for reduced_before in previous:  # read: not needed now
            if reduced_before.stored is not None:
                reduced_before.stored.discard()
        self.progress.phase_started("reduce" + of_step, self.job.partitions, None)
        self._phase(step, "reduce")
        collecting = self.collect and step == steps - 1
        reduced: list[ReduceOutput] = self.scheduler.run_phase(
            step,
            "reduce",
            _reduce_tasks(step, map_outputs, self.job.partitions),
            self.job.partitions,
            done=functools.partial(self._reduced, map_outputs, collecting),
        )
        self._phase_done()
        self.counters[C.TASKS_MAP] += len(map_outputs)
        self.counters[C.TASKS_REDUCE] += len(reduced)
        _remove_files(output.path for output in map_outputs)
        for output in map_outputs:
            for source, count in output.decode_errors.items():
                self.decode_errors[source] = self.decode_errors.get(source, 0) + count
            self.binary_skipped.update(output.binary_skipped)
        return reduced

    def _cut_points(self, step: int, splits: list[Any]) -> tuple[Any, ...]:
        """Keys cutting step ``step``'s keys into ordered ranges of about equal
        shares, one a reduce task, from a sample of a few splits (``shuffle/ranges.py``)."""
        assert self.scheduler is not None
        if self.job.partitions == 1:
            return ()  # one range: nothing to cut
        samples = self.scheduler.run_phase(step, "sample", _sample_tasks(step, splits), None)
        order = self.job.sort_order
        sort_keys = (
            [(ordered_by(order, key), count) for key, count in sample.keys] for sample in samples
        )
        return cut_points(sort_keys, self.job.partitions)

    def _reduced(
        self, map_outputs: list[MapOutput], collecting: bool, partition: int, output: ReduceOutput
    ) -> None:
        """A reduce task is done: let go of what it read, and, when the caller wants
        every result in memory, read its results now, while other tasks still run."""
        _release(map_outputs, partition)
        if collecting and isinstance(output.stored, LocalFile):
            with collector_paused():  # every object read is kept (see api.run)
                self.collected[partition] = list(read_batches(output.stored))

    def _phase(self, step: int, phase: str) -> None:
        self._phase_done()
        self.running = (step, phase, time.time())

    def _phase_done(self) -> None:
        if self.running is not None:
            step, phase, since = self.running
            now = time.time()
            self.phases.append(PhaseSpan(step + 1, phase, since - self.started, now - self.started))
            self.running = None

    def finish(self, last: list[ReduceOutput]) -> ResultStream:
        """Commit the output, or bring the results files here; the results' stream."""
        assert self.workdir is not None
        if self.job.output is not None:
            parts = self.job.output.commit([output.part for output in last])
            paths = []
        else:
            parts = []
            paths = [_local_copy(self.executor, output.stored, self.workdir) for output in last]
        self.progress.close()
        self._phase_done()
        report = self.report()
        report.output_parts = parts
        report.summaries = [output.summary for output in last] if self.job.output_tap else []
        job = self.job
        return ResultStream(
            paths, self.workdir, report, job.sort, self.collected, job.sorted_by_ranges,
            job.sort_order.reverse,
        )  # fmt: skip

    def report(self, outcome: str = "succeeded", reason: str = "") -> JobReport:
        """What the job did so far (its phases: those that ended)."""
        scheduler = self.scheduler
        return JobReport(
            counters=self.counters,
            decode_errors=self.decode_errors,
            skipped=scheduler.skipped if scheduler is not None else [],
            events=scheduler.events if scheduler is not None else [],
            phases=self.phases,
            binary_skipped=sorted(self.binary_skipped),
            resumed_steps=self.resumed_steps,
            outcome=outcome,
            reason=reason,
        )

    def abort(self, error: BaseException) -> None:
        """Abort the output and remove the work folder; once tasks could run, let
        ``error`` carry what the job did (a job refused before is no run to report)."""
        if self.job.output is not None and self.workdir is not None:
            self.job.output.abort()
        self.progress.close()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
        if self.scheduler is not None:
            self._phase_done()  # the phase it ended in, until now
            outcome = "failed" if isinstance(error, Exception) else "interrupted"
            attach_report(error, self.report(outcome, str(error) or type(error).__name__))


def _release(map_outputs: list[MapOutput], partition: int) -> None:
    """Let go of every map output's part of ``partition``, now reduced: an executor
    that holds them elsewhere frees them at once, not at the end of the phase."""
    for output in map_outputs:
        output.segments[partition] = None


def _remove_files(paths: Iterable[str | None]) -> None:
    """Free the disk of files no task will read again (outputs kept elsewhere than
    in files are the executor's to free)."""
    for path in paths:
        if path is not None:
            remove_path(path)


def _local_copy(executor: Executor, stored: Stored | None, workdir: str) -> str:
    """The path of a results file in the work folder, fetching it from the executor
    when it kept it elsewhere (one partition in memory at a time)."""
    assert stored is not None  # a job without an output: each reduce task kept results
    if isinstance(stored, LocalFile):
        return stored.path
    fd, path = tempfile.mkstemp(prefix="results-", dir=workdir)
    with os.fdopen(fd, "wb") as file:
        file.write(executor.fetch(stored))
    return path
