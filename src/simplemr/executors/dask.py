"""The dask executor: tasks on a ``dask.distributed`` cluster, the shuffle in Dask's memory.

    driver                                    Dask workers
    ──────                                    ────────────
    submit(task) ──client.submit──────────▶  run_task: execute(job, task)
                  (a key per attempt)         → Completion, each output part in
                                                pieces of up to 4 MiB (bytes)
    next_completed() ◀─ as_completed ◀──────
        │ done: where is it? (who_has)
        ├─ its light copy ─────────────────▶  counters, the pieces' sizes (a task on
        │                                     the worker that holds it)
        │ success: a small task per piece, on that worker too
        ▼
    MapOutput.segments[p] = FetchedPart ──▶  reduce task p gets the pieces' keys for
        (the pieces' futures)                 partition p of every map task and
                                              fetches them one at a time as it reads

The driver holds futures, counters and the light copies only. A map task's output
stays on the worker that made it, in pieces, so a reduce task pulls only its own
partition, a piece in memory at a time, and Dask spills data to disk under memory
pressure. The driver lets go of a partition's pieces once its reduce task succeeded.
Each attempt writes its spill files in a private folder of the worker's machine, and
its output comes back as bytes (``TaskOutput.packed``).

Dask takes two tasks with the same key for the same computation, so every
attempt gets a key of its own, unique to the run (two drivers may share a
cluster). When a worker dies, Dask runs its tasks again elsewhere (and
recomputes lost outputs from their inputs: the job payload is a task too); a
task that keeps killing workers fails with ``KilledWorker``, which the engine
sees as a lost worker. Counters come from the one Completion each attempt's
future holds, so Dask's recomputations never count twice.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import itertools
import logging
import os
import shutil
import tempfile
import time
import uuid
import weakref
from collections.abc import Callable, Iterator
from typing import IO, Any

from .. import shipping
from ..errors import JobDefinitionError, SimplemrError, WorkerLostError
from ..io.batches import Stored
from ..io.workdir import TMPDIR_VARIABLE, owner_tag, remove_stale
from ..shuffle.task import TaskOutput
from ..signals import signals_held
from .base import Attempt, Completion, Executor, Task, TaskFailure, execute, portable
from .dask_internals import desire_keys, scheduler_state_of

__all__ = ["DaskExecutor", "import_distributed"]

INSTALL_HINT = "the dask executor needs dask.distributed: pip install 'simplemr[dask]'"


def import_distributed() -> Any:
    """Import ``distributed``, or say in one line how to install it."""
    try:
        import distributed
    except ImportError:
        raise JobDefinitionError(INSTALL_HINT) from None
    return distributed


# --- on the workers ------------------------------------------------------------------

#: The most bytes of a map output's partition one future holds: what a reduce task
#: fetches at a time, its fetch window.
PIECE_BYTES = 4 * 1024 * 1024

_jobs: dict[str, Any] = {}  # the jobs each worker process unpickled last, by token
_JOBS_KEPT = 4


def _job_of(token: str, payload: bytes) -> Any:
    job = _jobs.pop(token, None)
    if job is None:
        job = shipping.loads(payload)
        while len(_jobs) >= _JOBS_KEPT:
            del _jobs[next(iter(_jobs))]  # the least recently used
    _jobs[token] = job
    return job


def run_task(token: str, payload: bytes, function: Any, context: Any, *args: Any) -> Completion:
    """Run one attempt on a worker, in a folder of its own on the worker's machine,
    and hand its output back as bytes; never raises for an Exception."""
    from distributed import get_worker

    worker = get_worker()
    with _private_folder(worker) as folder:
        task = Task(_loading_output(function), args, dataclasses.replace(context, workdir=folder))
        completion = execute(_job_of(token, payload), task, f"dask-{worker.name}")
    completion.context = context
    return completion


@dataclasses.dataclass
class _Held:
    """A task's output as the worker that ran it holds it: the output without its
    data, and each part's bytes in pieces (None for an empty part)."""

    output: TaskOutput
    pieces: list[list[bytes] | None]


@dataclasses.dataclass
class _Light:
    """What the driver is sent of a ``_Held`` output: the sizes of its pieces."""

    output: TaskOutput
    sizes: list[list[int] | None]


def _loading_output(function: Callable[..., TaskOutput]) -> Callable[..., _Held]:
    """``function``, handing back its output with the bytes of its files, each part
    cut in pieces of up to PIECE_BYTES (read as part of the task, so that a failure
    to read them fails the task as any other)."""

    def run(*args: Any) -> _Held:
        output = function(*args)
        parts = output.packed()
        pieces: list[list[bytes] | None] = []
        for index, part in enumerate(parts):
            pieces.append(None if part is None else _pieces(part))
            parts[index] = None  # each part freed once cut
        return _Held(output.moved([None] * len(pieces)), pieces)

    return run


def _pieces(data: bytes) -> list[bytes]:
    """``data`` in pieces of up to PIECE_BYTES (itself alone, if that small)."""
    if len(data) <= PIECE_BYTES:
        return [data]
    view = memoryview(data)
    return [bytes(view[start : start + PIECE_BYTES]) for start in range(0, len(data), PIECE_BYTES)]


@contextlib.contextmanager
def _private_folder(worker: Any) -> Iterator[str]:
    """A folder for one attempt's files, removed when it ends: in $SIMPLEMR_TMPDIR, else
    the Dask worker's own folder (which Dask cleans up when a worker dies)."""
    root = os.environ.get(TMPDIR_VARIABLE) or str(worker.local_directory)
    remove_stale(root, "simplemr-task-")  # what workers killed mid-task left here
    folder = tempfile.mkdtemp(prefix=f"simplemr-task-{owner_tag()}-", dir=root)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _identity(value: Any) -> Any:
    return value


def light_copy(completion: Completion) -> Completion:
    """``completion`` without its outputs' bytes (the sizes of each part's pieces
    instead), for the driver."""
    held: _Held | None = completion.result
    result = None
    if held is not None:
        sizes = [None if part is None else [len(piece) for piece in part] for part in held.pieces]
        result = _Light(held.output, sizes)
    failure = portable(completion.failure)
    return Completion(completion.context, result, failure, completion.attempt)


def part_of(completion: Completion, index: int, piece: int) -> bytes:
    """Piece ``piece`` of part ``index`` of a completed task's output (of one
    partition of a map output, or of a reduce task's results): no copy."""
    held: _Held | None = completion.result
    if held is None:  # a recomputation by Dask that failed this time
        failure = completion.failure
        raise RuntimeError(f"recomputing a lost task output failed: {failure and failure.message}")
    pieces = held.pieces[index]
    assert pieces is not None  # the driver asks only for the pieces it was told of
    return pieces[piece]


class FetchedPart:
    """One map task's partition, as futures of its pieces; a reduce task reads it as
    a stream, fetching one piece at a time, so that however large its partition, its
    input in memory is a piece (``PIECE_BYTES``). Pickled, it is the pieces' keys:
    the driver's futures keep them on the cluster until it lets go of this."""

    def __init__(self, keys: list[Any], nbytes: int, futures: list[Any] | None = None) -> None:
        self.keys = keys
        self.nbytes = nbytes
        #: The pieces' futures, on the driver only (what keeps them on the cluster).
        self.futures = futures

    def __reduce__(self) -> tuple[Any, ...]:
        return (FetchedPart, (self.keys, self.nbytes))

    def open(self) -> IO[bytes]:
        return io.BufferedReader(_PieceStream(self.keys), io.DEFAULT_BUFFER_SIZE * 8)

    def discard(self) -> None:
        self.futures = None  # the cluster frees the pieces once no future holds them


class _PieceStream(io.RawIOBase):
    """The bytes of the pieces of ``keys``, in order, fetched as they are read."""

    def __init__(self, keys: list[Any]) -> None:
        self._keys = iter(keys)
        self._piece = memoryview(b"")
        self._position = 0

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def readinto(self, buffer: Any) -> int:
        while not self._piece:
            key = next(self._keys, None)
            if key is None:
                return 0
            self._piece = memoryview(_fetch(key))
        count = min(len(buffer), len(self._piece))
        buffer[:count] = self._piece[:count]
        self._piece = self._piece[count:]
        self._position += count
        return count


def _fetch(key: Any) -> bytes:
    """The data of ``key`` from wherever on the cluster it is. If it is not there at
    once (its worker died and Dask is computing it again), the task leaves its
    worker's thread to other tasks while it waits, so that the recomputation can
    run even where every thread is a waiting reduce task; and it fails as lost if
    the scheduler forgot the key (it could not be computed again)."""
    from distributed import Future, get_client, rejoin, secede

    client = get_client()
    future: Any = Future(key, client)
    desire_keys(client, [key])  # else a future made from a key never hears of its data
    try:
        return future.result(timeout=_PROMPT)  # type: ignore[no-any-return]
    except TimeoutError:
        pass
    secede()  # type: ignore[no-untyped-call]
    try:
        while True:
            try:
                return future.result(timeout=10 * _PROMPT)  # type: ignore[no-any-return]
            except TimeoutError:
                state = scheduler_state_of(client, key)
                if state in (None, "forgotten", "erred"):
                    raise WorkerLostError(
                        f"a map output it reads was lost with its Dask worker, and Dask "
                        f"could not compute it again (its state: {state or 'unknown'})"
                    ) from None
    finally:
        rejoin()  # type: ignore[no-untyped-call]


#: Seconds a fetch waits for data that should be there before it lets others work.
_PROMPT = 2.0


def _sizeof_completion(completion: Completion) -> int:
    """What a completion's outputs weigh, for Dask's memory accounting and the
    choice of where to run a task (its own estimate would be a few dozen bytes)."""
    held = completion.result
    if not isinstance(held, _Held):  # a light copy
        return 1024
    return 1024 + sum(len(piece) for part in held.pieces if part is not None for piece in part)


def _register_sizeof() -> None:
    try:
        from dask.sizeof import sizeof
    except ImportError:
        return
    # dask.utils.Dispatch.register has no annotations.
    sizeof.register(Completion)(_sizeof_completion)  # type: ignore[no-untyped-call]


_register_sizeof()


# --- on the driver -------------------------------------------------------------------


#: Dask's statistical profiler samples each worker's stack every 10 ms; with a Python
#: task holding the GIL it slowed simplemr's word count by about 25% here.
NO_PROFILER = {"distributed.worker.profile.enabled": False}


def _local_cluster(workers: int, security: Any) -> Any:
    """A LocalCluster of ``workers`` processes of one thread, without the profiler,
    reachable from this machine only (scheduler, workers and dashboard on 127.0.0.1)."""
    import dask

    distributed = import_distributed()
    with dask.config.set(NO_PROFILER):  # the nannies hand it to their workers
        return distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            security=security,
            # Its logs are about its own life (tasks cancelled, heartbeats that find the
            # scheduler gone as a stopped job closes it); what goes wrong in a task
            # comes back with the task, and simplemr says it.
            silence_logs=logging.CRITICAL,
        )


def _lost_errors() -> tuple[type[BaseException], ...]:
    """What Dask raises for a task whose worker, or whose input, was lost."""
    distributed = import_distributed()
    from concurrent.futures import CancelledError

    # distributed.client.FutureCancelledError, where it exists, is a CancelledError.
    return (distributed.KilledWorker, CancelledError)


#: Seconds between two looks for a finished task (and at the scheduler's connection).
_POLL = 0.01


class DaskExecutor(Executor):
    """Runs tasks on a Dask cluster: the one ``client`` is connected to, the one at
    ``address`` (``"tcp://10.0.0.5:8786"``), or a ``LocalCluster`` of ``workers``
    processes started for the job and closed after it.

    ``security`` (a ``distributed.security.Security``) goes to the client, for TLS.
    The workers must be able to import simplemr, and read the job's input paths.
    ``workers`` sizes the splits and the memory budget of each task; it defaults to
    the number of threads of the cluster's workers (one task runs per thread).
    """

    name = "dask"

    def __init__(
        self,
        workers: int | None = None,
        *,
        address: str | None = None,
        client: Any = None,
        security: Any = None,
        connect_timeout: str = "10s",
    ) -> None:
        import_distributed()
        if client is not None and address is not None:
            raise JobDefinitionError("give the dask executor a client or an address, not both")
        self.address = address
        self.security = security
        self.connect_timeout = connect_timeout
        self._client = client
        self._owns_client = client is None
        self._cluster: Any = None
        self._running: dict[Any, tuple[Any, Any, float]] = {}  # attempts, by key
        self._futures: dict[Any, tuple[Any, Any, float, dict[str, Any]]] = {}  # by summary
        # Futures of the outputs handed to the engine, to cancel if the job fails; weakly,
        # so that an output the engine is done with is freed on the cluster at once.
        self._outputs: weakref.WeakSet[Any] = weakref.WeakSet()
        self._serial = itertools.count()
        if address is not None:
            self._client = self._connect()  # now, so that a wrong address fails at once
        if workers is None and self._client is not None:
            workers = sum(self._client.nthreads().values())
        super().__init__(workers or os.cpu_count() or 1)

    def _connect(self) -> Any:
        distributed = import_distributed()
        try:
            return distributed.Client(
                self.address, security=self.security, timeout=self.connect_timeout
            )
        except (OSError, TimeoutError) as error:
            raise JobDefinitionError(
                f"cannot reach the Dask scheduler at {self.address!r}: {error}"
            ) from None

    @property
    def capacity(self) -> int:
        return 4 * self.workers

    def start(self, job_payload: bytes) -> None:
        distributed = import_distributed()
        if self._client is None and self.address is not None:
            self._client = self._connect()
        elif self._client is None:
            with signals_held():  # Ctrl-C is the driver's: no worker tracebacks
                self._cluster = _local_cluster(self.workers, self.security)
            self._client = distributed.Client(self._cluster, security=self.security)
        self._job_payload = job_payload
        self._token = hashlib.blake2b(job_payload, digest_size=12).hexdigest()
        self._run = uuid.uuid4().hex  # keys of this run alone, whoever else uses the cluster
        self._scatter()
        self._completed = distributed.as_completed([], loop=self._client.loop, with_results=False)

    def _scatter(self) -> None:
        # A task, not scattered data: Dask computes it again wherever it was lost (it
        # keeps a single copy of scattered data, which a dead worker takes with it).
        self._payload = self._client.submit(
            _identity, self._job_payload, key=f"simplemr-job-{self._run}-{next(self._serial)}"
        )

    def submit(self, task: Task) -> None:
        self._check_scheduler()
        context = task.context
        if self._payload.status in ("error", "cancelled"):  # Dask gave up on it
            self._scatter()
        key = (
            f"simplemr-{context.phase}",
            self._run,
            context.step + 1,
            context.index + 1,
            context.attempt,
        )
        try:
            future = self._client.submit(
                run_task,
                self._token,
                self._payload,
                task.function,
                context,
                *task.args,
                key=key,
                pure=False,
            )
        except Exception:
            self._check_scheduler()  # the scheduler went meanwhile: say so
            raise
        self._running[future.key] = (future, context, time.time())
        self._completed.add(future)

    def next_completed(self) -> Completion:
        while True:
            done = self._next_done()
            running = self._running.pop(done.key, None)
            if running is None:  # the driver's summary of an attempt
                return self._summarized(done)
            _, context, submitted = running
            if done.status != "finished":
                unknown = Attempt("dask", submitted, time.time())  # where it ran is lost
                return Completion(context, failure=self._failure(done), attempt=unknown)
            # Its summary, and later its output's pieces, are cut where it is held: a
            # task with a large input that Dask placed on an idle worker would move
            # the whole output there first.
            where = self._holders(done)
            summary = self._client.submit(light_copy, done, pure=False, priority=100, **where)
            self._futures[summary.key] = (done, context, submitted, where)
            self._completed.add(summary)

    def _next_done(self) -> Any:
        """The next future done, once one is. A client that gave up on its scheduler
        (killed, or out of reach longer than the client's timeout) fails the job in
        one line, where waiting would wait forever."""
        while not self._completed.has_ready() and not self._completed.is_empty():
            self._check_scheduler()
            time.sleep(_POLL)
        return next(self._completed)

    def _check_scheduler(self) -> None:
        """Fail in one line if the client gave up on its scheduler."""
        if self._client.status not in ("running", "connecting", "newly-created"):
            where = getattr(self._client.scheduler, "address", None) or self.address
            raise SimplemrError(
                f"lost the Dask scheduler at {where}: the client could not reach it again "
                f"and is {self._client.status}; run the job again once it is up"
            )

    def _holders(self, future: Any) -> dict[str, Any]:
        """Where ``future``'s data is, as ``submit`` options (a preference: Dask runs a
        task elsewhere if those workers are gone)."""
        try:
            workers = list(self._client.who_has([future]).get(future.key, ()))
        except Exception:  # the scheduler will say what went wrong with the task
            workers = []
        return {"workers": workers, "allow_other_workers": True} if workers else {}

    def _summarized(self, summary: Any) -> Completion:
        future, context, submitted, where = self._futures.pop(summary.key)
        if summary.status != "finished":
            unknown = Attempt("dask", submitted, time.time())
            return Completion(context, failure=self._failure(summary), attempt=unknown)
        light: Completion = summary.result()  # light_copy's return value
        sent: _Light | None = light.result
        if sent is not None:
            light.result = sent.output.moved([
                None if sizes is None else self._fetched_part(future, index, sizes, where)
                for index, sizes in enumerate(sent.sizes)
            ])  # fmt: skip
        return light

    def _fetched_part(
        self, future: Any, index: int, sizes: list[int], where: dict[str, Any]
    ) -> FetchedPart:
        """Part ``index`` of a task's output, a future for each of its pieces (a small
        task on the worker that holds it)."""
        pieces = [
            self._output(part_of, future, index, piece, **where) for piece in range(len(sizes))
        ]
        return FetchedPart([piece.key for piece in pieces], sum(sizes), pieces)

    def _output(self, function: Any, *args: Any, **where: Any) -> Any:
        output = self._client.submit(function, *args, pure=False, priority=100, **where)
        self._outputs.add(output)
        return output

    def _failure(self, future: Any) -> TaskFailure:
        if future.status != "error":  # cancelled: its worker went away with its state
            return TaskFailure("lost", f"Dask lost it (its state is {future.status!r})")
        error = future.exception()
        if isinstance(error, _lost_errors()):
            return TaskFailure("lost", f"the Dask workers running it died ({error})")
        return TaskFailure("internal", f"Dask could not run it: {type(error).__name__}: {error}")

    def fetch(self, stored: Stored) -> bytes:
        assert isinstance(stored, FetchedPart)  # what this executor keeps results as
        try:
            return b"".join(self._client.gather(stored.futures))
        except Exception as error:
            raise WorkerLostError(
                f"a reduce task's results were lost with their Dask worker, and could not "
                f"be computed again: {type(error).__name__}: {error}"
            ) from error

    def shutdown(self, *, cancel: bool = False) -> None:
        futures = [future for future, _, _, _ in self._futures.values()]
        futures += [future for future, _, _ in self._running.values()]
        futures += list(self._outputs)
        self._futures.clear()
        self._running.clear()
        self._outputs = weakref.WeakSet()
        self._payload = None
        if self._client is not None:
            # A client that lost its scheduler is closed already: nothing to cancel.
            with contextlib.suppress(Exception):
                if futures and self._client.status == "running":
                    self._client.cancel(futures)
            if self._owns_client:
                with contextlib.suppress(Exception):
                    self._client.close()
                self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
