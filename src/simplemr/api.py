"""``MapReduce``: the job API, one object holding the functions and where to run them."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .engine import ResultStream, run_job
from .errors import JobDefinitionError, check_positive_int
from .events import JobReport
from .executors import DEFAULT_TASK_TIMEOUT, Executor, make_executor
from .executors.limits import available_cores
from .io.batches import collector_paused
from .io.commit import TaskCommitter, write_output
from .io.compression import output_codec
from .io.filesystems import storage_options as filesystem_options
from .io.inputs import NamedInputs, input_locations
from .io.output import check_target, output_kind, resolve_line_format
from .job import (
    FunctionStep,
    JobSpec,
    OutputTap,
    StepSpec,
    checked_sort_order,
    checked_value_order,
    seen_by,
)
from .memory import MIN_WORKER_BUDGET, default_budget, format_size, parse_size
from .observe.progress import Progress, TerminalProgress
from .signals import stopping_on_signals

__all__ = ["DEFAULT_TASK_TIMEOUT", "JobResult", "MapReduce", "available_cores"]


@dataclass
class JobResult(JobReport):
    """A finished job: ``results`` (what the reducer returned, one per key, or every
    item a generator reducer yielded), ``counters`` (see ``simplemr.counters``) and
    the rest of its ``JobReport``."""

    results: list[Any] = field(default_factory=list)

    @classmethod
    def of(cls, results: list[Any], report: JobReport) -> JobResult:
        """The result of a job whose run said ``report``."""
        return cls(results=results, **vars(report.report()))

    def __iter__(self) -> Iterator[Any]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)


class MapReduce:
    """A MapReduce job: ``mapper``, ``reducer``, optional ``combiner``, and where it runs.

    - ``mapper(record)`` returns or yields ``(key, value)`` pairs (or ``mapper`` is
      a dict of mappers, one for each input of a dict of named inputs given to
      ``run``: ``{"orders": ..., "customers": ...}``). With ``bulk=True``
      it is called with a list of records at once (a block of about 2 MiB of
      lines, or a chunk of items) and yields pairs for all of them.
    - ``reducer(key, values)`` gets one key and an iterator over all its values, in
      no particular order, and returns the key's result; if it is a generator, each
      item it yields is a result.
    - ``combiner(key, values)`` returns one value standing for ``values``; it may
      be applied zero, one or many times to any subset of a key's values, before
      the reducer sees them, so it must be associative and commutative in effect
      (a sum, a max, a merged sketch), and return the kind of value the mapper emits.
      The reducer passed as the combiner too must then return a value, not a pair.
    - ``partitioner(key, partitions)`` returns the reduce task of ``key``, an int in
      ``range(partitions)``; by default, a stable hash of the key chooses it.
    - ``sort_values=True`` hands the reducer each key's values in their own order,
      ``sort_values=function`` in the order of ``function(value)``; descending with
      ``reverse_values=True`` (within the memory budget, however many values).

    Keys are any hashable, picklable values (they need not be orderable). The
    functions may be lambdas or closures. ``workers`` defaults to the cores
    available, ``partitions`` (reduce tasks) to twice the workers, ``memory``
    (the job's data budget, all workers together, e.g. ``"512MB"``) to a quarter
    of RAM and at most 96 MiB a worker. ``executor`` is ``"local"`` (worker
    processes, the default), ``"inline"`` (this process), or an ``Executor``.

    With ``sort=True`` the results come in key order (the reducer's key; keys
    must then be orderable), or in the order of ``sort_key(key)``, descending with
    ``reverse=True``: the keys are cut into ordered ranges from a sample, one a
    reduce task, and the partitions read in turn.

    A task whose worker dies is run again, up to ``max_attempts`` attempts; so is
    one that makes no progress (no record read, no pairs emitted, no key reduced)
    for ``task_timeout`` seconds (10 minutes; 0 or None: no limit; local workers
    only), whose worker is killed: a stopped process, or code stuck on one record; and
    one that raises an exception of ``retry_exceptions`` (``(OSError,)`` for a flaky
    store: raised by the task's code, or under the error reading its input), after a
    short wait (0.1 s, doubling each time). Any other exception fails the job at once. With
    ``max_bad_records=N`` a record the mapper raises on is skipped and counted
    (``map.skipped_records``, and the first ten in ``JobResult.skipped``), up to N
    in the whole job; one more fails the job.
    """

    def __init__(
        self,
        mapper: Callable[[Any], Any] | Mapping[str, Callable[[Any], Any]],
        reducer: Callable[[Any, Any], Any],
        combiner: Callable[[Any, Any], Any] | None = None,
        *,
        workers: int | None = None,
        partitions: int | None = None,
        memory: int | str | None = None,
        executor: str | Executor | None = None,
        bulk: bool = False,
        sort: bool = False,
        max_attempts: int = 4,
        max_bad_records: int = 0,
        tmp_dir: str | None = None,
        start_method: str | None = None,
        task_timeout: float | None = DEFAULT_TASK_TIMEOUT,
        partitioner: Callable[[Any, int], int] | None = None,
        sort_values: bool | Callable[[Any], Any] = False,
        reverse_values: bool = False,
        sort_key: Callable[[Any], Any] | None = None,
        reverse: bool = False,
        retry_exceptions: Iterable[type[BaseException]] = (),
    ) -> None:
        order = checked_value_order(sort_values, reverse_values)
        step = FunctionStep(mapper, reducer, combiner, bool(bulk), partitioner, order)
        self._configure(
            (step,), workers=workers, partitions=partitions, memory=memory, executor=executor,
            sort=sort, max_attempts=max_attempts, max_bad_records=max_bad_records,
            tmp_dir=tmp_dir, start_method=start_method, task_timeout=task_timeout,
            sort_key=sort_key, reverse=reverse, retry_exceptions=retry_exceptions,
        )  # fmt: skip

    @classmethod
    def _for_steps(cls, steps: Sequence[StepSpec], **options: Any) -> MapReduce:
        """A job of several steps (what ``simplemr.Job`` runs); the same options."""
        job = cls.__new__(cls)
        job._configure(tuple(steps), **options)
        return job

    def _configure(
        self,
        steps: tuple[StepSpec, ...],
        *,
        workers: int | None = None,
        partitions: int | None = None,
        memory: int | str | None = None,
        executor: str | Executor | None = None,
        sort: bool = False,
        max_attempts: int = 4,
        max_bad_records: int = 0,
        tmp_dir: str | None = None,
        start_method: str | None = None,
        task_timeout: float | None = DEFAULT_TASK_TIMEOUT,
        sort_key: Callable[[Any], Any] | None = None,
        reverse: bool = False,
        retry_exceptions: Iterable[type[BaseException]] = (),
    ) -> None:
        sort_order = checked_sort_order(sort, sort_key, reverse)
        retried = _checked_exceptions(retry_exceptions)
        if workers is not None:
            check_positive_int("workers", workers)
        if task_timeout is not None and (
            isinstance(task_timeout, bool)
            or not isinstance(task_timeout, (int, float))
            or task_timeout < 0
        ):
            raise JobDefinitionError(
                f"task_timeout must be a number of seconds, 0 or None for no limit; "
                f"got {task_timeout!r}"
            )
        self.executor = make_executor(executor, workers, start_method, task_timeout)
        try:
            workers = self.executor.workers
            partitions, budget = _checked_options(
                steps, workers, partitions, memory, tmp_dir, max_bad_records
            )
            self.max_attempts = check_positive_int("max_attempts", max_attempts)
        except BaseException:
            self.executor.shutdown(cancel=True)  # a client it connected, say
            raise
        self.job = JobSpec(
            steps, partitions, budget // workers, max_bad_records, bool(sort),
            sort_order=sort_order, retry_exceptions=retried,
        )  # fmt: skip
        self.workers = workers
        self.partitions = partitions
        self.memory = budget
        self.tmp_dir = tmp_dir

    def stream(
        self,
        inputs: Any,
        *,
        chunksize: int | None = None,
        progress: bool | Progress = False,
        verbose: bool = False,
        storage_options: Mapping[str, Any] | None = None,
        step_output: str | os.PathLike[str] | None = None,
        resume: bool = False,
    ) -> ResultStream:
        """Run the job over ``inputs`` and return an iterator over its results.

        ``inputs`` is an iterable of records, or ``simplemr.text_files(...)``.
        The job has finished when this returns; results are read from disk as you
        iterate, and the work folder is removed when the iterator is exhausted or
        closed (use it in a ``with`` block to be sure). ``progress=True`` draws a
        bar per phase on stderr; ``verbose=True`` says there which worker reads what.
        ``storage_options`` go to the fsspec filesystem of every URL (``s3://...``)
        the job reads or writes, on the driver and the workers. With ``step_output``
        (a local folder, empty or of an earlier run) the results of every step but the
        last are kept there, ``_SUCCESS`` last; with ``resume=True`` the steps whose
        kept results this same job made (the same code, options and inputs) are
        skipped, and ``resumed_steps`` says how many.
        """
        job = dataclasses.replace(
            self.job, verbose=verbose, storage_options=dict(storage_options or {})
        )
        inputs, chunksize = self._named(inputs, chunksize)
        return self._stream(job, inputs, chunksize, progress, False, step_output, resume)

    def _stream(
        self,
        job: JobSpec,
        inputs: Any,
        chunksize: int | None,
        progress: bool | Progress,
        collect: bool = False,
        step_output: str | os.PathLike[str] | None = None,
        resume: bool = False,
    ) -> ResultStream:
        if resume and step_output is None:
            raise JobDefinitionError("resume goes with step_output, the folder of kept steps")
        if progress is True:
            progress = TerminalProgress()
        with stopping_on_signals(redeliver=True):
            return run_job(
                job,
                inputs,
                self.executor,
                max_attempts=self.max_attempts,
                tmp_dir=self.tmp_dir,
                chunksize=chunksize,
                progress=progress or None,
                collect=collect,
                step_output=None if step_output is None else os.fspath(step_output),
                resume=resume,
            )

    def _named(self, inputs: Any, chunksize: int | None) -> tuple[Any, int | None]:
        """``inputs`` (and ``chunksize``) as the job reads them: a dict, several named
        inputs (``NamedInputs``), checked against the names of the step's mappers."""
        names = getattr(self.job.steps[0], "input_names", None)
        if isinstance(inputs, NamedInputs):  # made by the caller
            given = list(inputs.sources)
        elif isinstance(inputs, Mapping):
            inputs, chunksize = NamedInputs(inputs, chunksize), None
            given = list(inputs.sources)
        else:
            given = None
        if names is not None and (given is None or sorted(given) != sorted(names)):
            raise JobDefinitionError(
                f"this job maps inputs named {', '.join(map(repr, names))}, each with its "
                f"own mapper; pass a dict of them, such as job.run({{{names[0]!r}: ...}})"
                + ("" if given is None else f", not of {', '.join(map(repr, given))}")
            )
        return inputs, chunksize

    def run(
        self,
        inputs: Any,
        *,
        chunksize: int | None = None,
        output: str | os.PathLike[str] | None = None,
        overwrite: bool = False,
        output_format: str | None = None,
        compression: str | None = None,
        parquet_schema: Any = None,
        progress: bool | Progress = False,
        verbose: bool = False,
        storage_options: Mapping[str, Any] | None = None,
        output_tap: Callable[[], OutputTap] | None = None,
        step_output: str | os.PathLike[str] | None = None,
        resume: bool = False,
    ) -> JobResult:
        """Run the job over ``inputs``; return every result in a list, with the counters.

        With ``output`` the results go there instead (``results`` is then empty): a
        path or URL ending in ``.tsv``, ``.jsonl`` or ``.txt`` is one file, any other
        a folder of ``part-NNNNN`` files and ``_SUCCESS``, ``"-"`` standard output;
        the last three in ``output_format`` ``"tsv"`` (the default), ``"jsonl"`` or
        ``"value"``. A name ending in ``.gz``, ``.bz2``, ``.xz`` or ``.zst`` is
        written compressed (a folder's parts as ``part-00000.gz``...);
        ``compression`` (``"gzip"``, ``"bz2"``, ``"xz"``, ``"zstd"``, or ``"none"``
        to keep such a name as it is) says it explicitly. A name ending in
        ``.parquet`` (or ``output_format="parquet"``) is a folder of Parquet files, one
        a part, of results that are dicts or tuples (``parquet_schema``, a
        ``pyarrow.Schema``, or the first results' own). A folder is written by the
        reduce tasks themselves (but for a sorted job class, whose partitions the
        driver merges), and committed by the driver; a local output appears
        atomically, and an existing output is refused unless ``overwrite``.
        ``output_tap()``, if given, makes an ``OutputTap`` for each partition that
        sees its results as they are written; their summaries are
        ``JobResult.summaries``.
        ``storage_options``, ``step_output`` and ``resume``: as for ``stream``.
        """
        inputs, chunksize = self._named(inputs, chunksize)
        target = None if output is None else os.fspath(output)
        job = dataclasses.replace(
            self.job, verbose=verbose, storage_options=dict(storage_options or {})
        )
        codec = None
        if target is None and compression is not None:
            raise JobDefinitionError("compression goes with an output: name one with output=")
        if target is not None:
            codec = output_codec(target, compression)
            with filesystem_options(job.storage_options):
                check_target(target, overwrite, *input_locations(inputs))
            output_format = resolve_line_format(target, output_format)
            _check_parquet(output_format, codec, parquet_schema)
            if output_kind(target) == "folder" and (not job.sort or job.sorted_by_ranges):
                committer = TaskCommitter.for_target(
                    target, output_format, overwrite, codec, parquet_schema
                )
                job = dataclasses.replace(job, output=committer, output_tap=output_tap)
        with (
            stopping_on_signals(redeliver=True),
            self._stream(
                job, inputs, chunksize, progress, target is None, step_output, resume
            ) as stream,
        ):
            summaries = stream.summaries
            if target is None:
                # Every object read is kept: a collection could free nothing, and
                # would cost more than the reading (half of it, on 1M small results).
                with collector_paused():
                    results = list(stream)
            elif job.output is None:
                assert output_format is not None
                taps: list[OutputTap] = []
                partitions = _tapped(stream.partitions(), output_tap, taps)
                with filesystem_options(job.storage_options):
                    write_output(
                        partitions, target, overwrite, output_format, codec, parquet_schema
                    )
                summaries = [tap.summary() for tap in taps]
                results = []
            else:
                results = []
            return JobResult.of(results, dataclasses.replace(stream.report(), summaries=summaries))


def _check_parquet(output_format: str, codec: str | None, schema: Any) -> None:
    """Refuse a compression, or a schema, that a Parquet output cannot take."""
    if output_format == "parquet" and codec is not None:
        raise JobDefinitionError(
            "a Parquet output compresses its own columns: leave compression out (or 'none')"
        )
    if schema is not None and output_format != "parquet":
        raise JobDefinitionError("parquet_schema goes with a Parquet output (out.parquet)")


def _checked_exceptions(kinds: Any) -> tuple[type[BaseException], ...]:
    """``retry_exceptions`` as a tuple of exception classes, or an error saying why not."""
    if isinstance(kinds, type):
        kinds = (kinds,)
    try:
        classes = tuple(kinds)
    except TypeError:
        classes = (kinds,)
    for kind in classes:
        if not (isinstance(kind, type) and issubclass(kind, Exception)):
            raise JobDefinitionError(
                f"retry_exceptions must be exception classes, such as (OSError, "
                f"TimeoutError); got {kind!r}"
            )
    return classes


def _tapped(
    partitions: Iterator[Iterator[Any]],
    output_tap: Callable[[], OutputTap] | None,
    taps: list[OutputTap],
) -> Iterator[Iterator[Any]]:
    """Each partition's results, seen by a tap of its own (kept in ``taps``)."""
    for results in partitions:
        if output_tap is None:
            yield results
            continue
        tap = output_tap()
        taps.append(tap)
        yield seen_by(tap, results)


def _checked_options(
    steps: tuple[StepSpec, ...],
    workers: int,
    partitions: int | None,
    memory: int | str | None,
    tmp_dir: str | None,
    max_bad_records: int,
) -> tuple[int, int]:
    """Check the job's options against each other; return the partitions and the budget."""
    partitions = 2 * workers if partitions is None else check_positive_int("partitions", partitions)
    try:
        budget = default_budget(workers) if memory is None else parse_size(memory)
    except (TypeError, ValueError) as error:
        raise JobDefinitionError(str(error)) from None
    if budget // workers < MIN_WORKER_BUDGET:
        raise JobDefinitionError(
            f"memory={memory!r} leaves {format_size(budget // workers)} per worker; "
            f"give at least {format_size(MIN_WORKER_BUDGET * workers)} for {workers} worker(s)"
        )
    if tmp_dir is not None and not os.path.isdir(tmp_dir):
        raise JobDefinitionError(f"tmp_dir {tmp_dir!r} is not a folder")
    if isinstance(max_bad_records, bool) or not isinstance(max_bad_records, int):
        raise JobDefinitionError(f"max_bad_records must be an integer, got {max_bad_records!r}")
    if max_bad_records < 0:
        raise JobDefinitionError(f"max_bad_records must be 0 or more, got {max_bad_records}")
    if max_bad_records and any(step.bulk for step in steps):
        raise JobDefinitionError(
            "max_bad_records skips single records, so it needs a per-record mapper (bulk=False)"
        )
    return partitions, budget
