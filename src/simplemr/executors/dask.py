"""The dask executor: tasks on a ``dask.distributed`` cluster, the shuffle in Dask's memory.

    driver                                    Dask workers
    ──────                                    ────────────
    submit(task) ──client.submit──────────▶  run_task: execute(job, task)
                  (a key per attempt)         → Completion, outputs as bytes
    next_completed() ◀─ as_completed ◀──────  its light copy: counters, sizes
        │ success: one small task per output part, on the worker that holds it
        ▼
    MapOutput.segments[p] = a future    ──▶  reduce task p gets the futures of
                                              partition p of every map task;
                                              Dask moves them worker to worker

The driver holds futures, counters and the light copies only. A map task's output
stays on the worker that made it, split into a future per partition, so each
reduce task pulls only its own partition, and Dask spills data to disk under
memory pressure. Tasks run with ``in_memory`` contexts: their spill files go to
a private folder of the worker's machine, and their outputs come back as bytes.

Dask takes two tasks with the same key for the same computation, so every
attempt gets a key of its own. When a worker dies, Dask runs its tasks again
elsewhere (and recomputes lost outputs from their inputs); a task that keeps
killing workers fails with ``KilledWorker``, which the engine sees as a lost
worker. Counters come from the one Completion each attempt's future holds, so
Dask's recomputations never count twice.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import os
import time
from typing import Any

import cloudpickle

from ..errors import JobDefinitionError
from .base import Attempt, Completion, Executor, Task, TaskFailure, execute, portable

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

_jobs: dict[str, Any] = {}  # the job each worker process unpickled last, by token


def _job_of(token: str, payload: bytes) -> Any:
    job = _jobs.get(token)
    if job is None:
        _jobs.clear()
        job = _jobs[token] = cloudpickle.loads(payload)
    return job


def run_task(token: str, payload: bytes, function: Any, context: Any, *args: Any) -> Completion:
    """Run one attempt on a worker; never raises for an Exception."""
    from distributed import get_worker

    worker = f"dask-{get_worker().name}"
    return execute(_job_of(token, payload), Task(function, args, context), worker)


def light_copy(completion: Completion) -> Completion:
    """``completion`` without its outputs' bytes (their sizes instead), for the driver."""
    result = completion.result
    if result is not None:
        if hasattr(result, "segments"):
            sizes = [None if part is None else len(part) for part in result.segments]
            result = dataclasses.replace(result, segments=sizes)
        elif isinstance(getattr(result, "stored", None), bytes):
            result = dataclasses.replace(result, stored=len(result.stored))
    failure = portable(completion.failure)
    return Completion(completion.context, result, failure, completion.attempt)


def segment_of(completion: Completion, partition: int) -> bytes:
    return completion.result.segments[partition]  # type: ignore[no-any-return]


def stored_of(completion: Completion) -> bytes:
    return completion.result.stored  # type: ignore[no-any-return]


# --- on the driver -------------------------------------------------------------------


class DaskExecutor(Executor):
    """Runs tasks on a Dask cluster: the one ``client`` is connected to, the one at
    ``address`` (``"tcp://10.0.0.5:8786"``), or a ``LocalCluster`` of ``workers``
    processes started for the job and closed after it.

    ``security`` (a ``distributed.security.Security``) goes to the client, for TLS.
    The workers must be able to import simplemr, and read the job's input paths.
    ``workers`` sizes the splits; it defaults to the cluster's number of workers.
    """

    name = "dask"
    in_memory = True

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
        self._futures: dict[str, tuple[Any, Any, float]] = {}
        self._serial = itertools.count()
        if address is not None:
            self._client = self._connect()  # now, so that a wrong address fails at once
        if workers is None and self._client is not None:
            workers = len(self._client.scheduler_info().get("workers", {}))
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
            self._cluster = distributed.LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
                security=self.security,
            )
            self._client = distributed.Client(self._cluster, security=self.security)
        self._token = hashlib.blake2b(job_payload, digest_size=12).hexdigest()
        [self._payload] = self._client.scatter([job_payload], broadcast=True, hash=False)
        self._completed = distributed.as_completed([], with_results=False)

    def submit(self, task: Task) -> None:
        context = task.context
        key = (
            f"simplemr-{self._token}-{context.step + 1}-{context.phase}-{context.index}"
            f"-{context.attempt}-{next(self._serial)}"
        )
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
        self._futures[key] = (future, context, time.time())
        self._completed.add(future)

    def next_completed(self) -> Completion:
        future = next(self._completed)
        _, context, submitted = self._futures.pop(future.key)
        unknown = Attempt("dask", submitted, time.time())  # where a lost attempt ran
        if future.status != "finished":
            return Completion(context, failure=self._failure(future), attempt=unknown)
        try:
            light = self._client.submit(light_copy, future, pure=False).result()
        except Exception as error:  # the worker holding the output died meanwhile
            failure = TaskFailure("lost", f"Dask lost its output: {type(error).__name__}: {error}")
            return Completion(context, failure=failure, attempt=unknown)
        result = light.result
        if result is not None:
            if hasattr(result, "segments"):
                result.segments = [
                    None
                    if size is None
                    else self._client.submit(segment_of, future, partition, pure=False)
                    for partition, size in enumerate(result.segments)
                ]
            elif isinstance(getattr(result, "stored", None), int):
                result.stored = self._client.submit(stored_of, future, pure=False)
        return light

    def _failure(self, future: Any) -> TaskFailure:
        distributed = import_distributed()
        if future.status != "error":  # cancelled: its worker went away with its state
            return TaskFailure("lost", f"Dask lost it (its state is {future.status!r})")
        error = future.exception()
        if isinstance(error, distributed.KilledWorker):
            return TaskFailure("lost", f"the Dask workers running it died ({error})")
        return TaskFailure("internal", f"Dask could not run it: {type(error).__name__}: {error}")

    def fetch(self, stored: Any) -> bytes:
        return stored.result()  # type: ignore[no-any-return]

    def shutdown(self, *, cancel: bool = False) -> None:
        futures = [future for future, _, _ in self._futures.values()]
        self._futures.clear()
        self._payload = None
        if self._client is None:
            return
        if futures:
            self._client.cancel(futures)
        if self._owns_client:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
