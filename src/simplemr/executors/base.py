"""What the engine asks of an executor, and how a task runs on any of them.

An executor runs tasks somewhere and reports each attempt's completion; the
engine alone decides what to run next and what to retry, so every executor
behaves the same. ``execute`` is the one function that runs a task, on any
executor, and turns its exceptions into a ``TaskFailure`` that pickles.
"""

from __future__ import annotations

import pickle
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing import current_process
from typing import Any

from ..errors import InputError, ShapeError, WorkerLostError, check_positive_int
from ..io.batches import Stored
from ..memory import peak_rss
from ..shuffle.task import TaskContext, UserCodeError

__all__ = [
    "Attempt",
    "Completion",
    "Executor",
    "Task",
    "TaskFailure",
    "execute",
    "portable",
    "unsendable",
]


@dataclass(frozen=True)
class Task:
    """One attempt of one task: a module-level function, its arguments, its context."""

    function: Callable[..., Any]
    args: tuple[Any, ...]
    context: TaskContext


@dataclass
class TaskFailure:
    """Why an attempt failed, in a form that can travel between processes.

    ``kind`` is ``'user'`` (the user's code raised), ``'input'`` (an input could
    not be read), ``'internal'`` (anything else raised in the task) or
    ``'lost'`` (the worker died). A lost worker is worth another attempt, and so is
    a ``transient`` failure: one that raised an exception the job's
    ``retry_exceptions`` name (a flaky object store's ``OSError``). The rest would
    fail the same way again.
    """

    kind: str
    message: str
    where: str | None = None
    traceback: str = ""
    original: BaseException | None = None
    transient: bool = False

    @property
    def retryable(self) -> bool:
        return self.kind == "lost" or self.transient


@dataclass
class Attempt:
    """Where and when an attempt ran: its worker, its start and end (``time.time()``),
    and the worker process's peak resident memory so far (bytes)."""

    worker: str = ""
    started: float = 0.0
    finished: float = 0.0
    peak_rss: int = 0


@dataclass
class Completion:
    """The end of one attempt, named by its context: its result, or its failure,
    and where and when it ran."""

    context: TaskContext
    result: Any = None
    failure: TaskFailure | None = None
    attempt: Attempt = field(default_factory=Attempt)


def _user_failure(role: str, cause: BaseException) -> str:
    """What the user's code did wrong, in one line."""
    if isinstance(cause, ShapeError):  # it says so in the user's words already
        return str(cause)
    said = f"the {role} raised {_describe(cause)}"
    if type(cause).__name__ == "BdbQuit":  # breakpoint() where no terminal is
        said += (
            " (a breakpoint() in a worker process has no terminal to stop at: debug "
            "with executor='inline', --executor inline on the command line)"
        )
    return said


def _describe(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def execute(job: Any, task: Task, worker: str | None = None) -> Completion:
    """Run ``task`` for ``job`` here and now, on the worker named ``worker`` (this
    process's name by default); never raises for an Exception."""
    attempt = Attempt(worker or current_process().name, time.time())
    completion = _execute(job, task)
    attempt.finished = time.time()
    attempt.peak_rss = peak_rss()
    completion.attempt = attempt
    return completion


def _execute(job: Any, task: Task) -> Completion:
    if task.context.backoff:  # the retry of a transient failure waits a little
        time.sleep(task.context.backoff)
    try:
        return Completion(task.context, task.function(job, *task.args, task.context))
    except UserCodeError as error:
        cause = error.__cause__ or error
        failure = TaskFailure(
            "user",
            _user_failure(error.role, cause),
            error.where,
            "".join(traceback.format_exception(cause)),
            cause,
        )
    except InputError as error:
        failure = TaskFailure("input", str(error), error.where, traceback.format_exc(), error)
    except WorkerLostError as error:  # what it read was lost with another worker
        failure = TaskFailure("lost", str(error), None, traceback.format_exc(), error)
    except Exception as error:
        failure = TaskFailure("internal", _describe(error), None, traceback.format_exc(), error)
    failure.transient = raised_one_of(failure.original, getattr(job, "retry_exceptions", ()))
    return Completion(task.context, failure=failure)


def raised_one_of(error: BaseException | None, kinds: tuple[type[BaseException], ...]) -> bool:
    """Whether ``error``, or an exception it was raised from or while handling (an
    ``OSError`` under the ``InputError`` that names the file), is one of ``kinds``."""
    seen = 0
    while error is not None and kinds and seen < 16:
        if isinstance(error, kinds):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False


def portable(failure: TaskFailure | None) -> TaskFailure | None:
    """``failure`` without a user exception that pickles but cannot be unpickled
    (a custom ``__init__``), so that it can travel to the driver."""
    if failure is not None and failure.original is not None:
        try:
            pickle.loads(pickle.dumps(failure.original))
        except Exception:
            failure.original = None
    return failure


def unsendable(error: BaseException) -> TaskFailure:
    """The failure of a task whose input cannot be pickled for a worker."""
    return TaskFailure("input", f"its input cannot be sent to a worker: {_describe(error)}")


class Executor(ABC):
    """Runs tasks; the engine submits them and collects completions one by one."""

    #: The name users pick this executor by.
    name: str = ""

    def __init__(self, workers: int) -> None:
        self.workers = check_positive_int("workers", workers)

    @property
    def capacity(self) -> int:
        """How many tasks the engine keeps submitted at once."""
        return 2 * self.workers

    @abstractmethod
    def start(self, job_payload: bytes) -> None:
        """Get ready to run tasks of the job pickled in ``job_payload``."""

    @abstractmethod
    def submit(self, task: Task) -> None:
        """Queue ``task`` to run."""

    @abstractmethod
    def next_completed(self) -> Completion:
        """Block until some submitted task's attempt ends, and return it."""

    def reading(self) -> int | None:
        """The input bytes the map tasks running now have read so far (for a
        progress bar that moves within a task), or None where it cannot tell."""
        return None

    def fetch(self, stored: Stored) -> bytes:
        """The bytes of a task output part that the executor kept where it ran (an
        executor whose workers share no folder with the driver)."""
        raise NotImplementedError(f"the {self.name} executor keeps task outputs in files")

    @abstractmethod
    def shutdown(self, *, cancel: bool = False) -> None:
        """Stop every worker; with ``cancel``, without waiting for running tasks."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown(cancel=exc_info[0] is not None)
