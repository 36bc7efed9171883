"""What every task receives, what it hands back, and how it reports a failure of
user code."""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import glob
import operator
import os
import signal
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import SimplemrError
from ..io.batches import Stored
from ..io.workdir import remove_path

__all__ = [
    "TaskContext",
    "TaskOutput",
    "TaskProgress",
    "UserCodeError",
    "call_hook",
    "hook_output",
    "progressed",
    "record_spot",
    "user_errors",
    "watch_records",
    "watched_by",
]


class TaskProgress:
    """How far one running task has got, for a watchdog in another thread to sample:
    ticks (a block of records read, a few thousand pairs emitted, a chunk of keys
    reduced), the input bytes it has read (for a progress bar), and the iterator the
    task is walking (the records of a block, the keys of a chunk, a key's values),
    whose length hint moves with every item at no cost to the loop. A task finds its
    own through ``watched_by`` (a context variable, so tasks running in threads of one
    process never share one)."""

    __slots__ = ("read", "spot", "ticks")

    def __init__(self) -> None:
        self.ticks = 0
        self.read = 0
        #: The iterator followed, in a list that a loop may store into without a call.
        self.spot: list[Iterator[Any] | None] = [None]

    def sample(self) -> tuple[int, int]:
        """Where the task is: it changes whenever the task makes progress."""
        records = self.spot[0]
        return self.ticks, -1 if records is None else operator.length_hint(records, -1)


_progress: contextvars.ContextVar[TaskProgress | None] = contextvars.ContextVar(
    "simplemr_task_progress", default=None
)


@contextlib.contextmanager
def watched_by(progress: TaskProgress) -> Iterator[TaskProgress]:
    """Inside, the running task counts its progress into ``progress``."""
    token = _progress.set(progress)
    try:
        yield progress
    finally:
        _progress.reset(token)


def progressed(read: int = 0) -> None:
    """Count a tick of progress of the running task, and the input bytes it has
    just ``read`` (nothing when none watches it)."""
    progress = _progress.get()
    if progress is not None:
        progress.ticks += 1
        progress.read += read


def watch_records(records: Iterator[Any]) -> Iterator[Any]:
    """Let the running task's watcher follow the iteration over ``records``; return it."""
    record_spot()[0] = records
    return records


def record_spot() -> list[Iterator[Any] | None]:
    """Where the running task keeps the iterator it is followed by: a loop that
    changes it once per key may store there itself, without a call."""
    progress = _progress.get()
    return [None] if progress is None else progress.spot


@dataclass(frozen=True)
class TaskContext:
    """One attempt of one task: its number (from 0), its attempt (from 1), its folder,
    and its job step (from 0)."""

    phase: str
    index: int
    attempt: int
    workdir: str
    step: int = 0
    #: Seconds to wait before running (the retry of a transient failure).
    backoff: float = 0.0

    def path(self, suffix: str) -> str:
        """Return a path in the work folder that belongs to this attempt only."""
        name = f"{self.step + 1}-{self.phase}-{self.index:05d}-{self.attempt}{suffix}"
        return os.path.join(self.workdir, name)

    def next_attempt(self, backoff: float = 0.0) -> TaskContext:
        """The context of the same task's next attempt, to run after ``backoff`` seconds."""
        return dataclasses.replace(self, attempt=self.attempt + 1, backoff=backoff)

    def remove_files(self) -> None:
        """Remove whatever this attempt wrote (a failed attempt's files are never read)."""
        for path in glob.glob(glob.escape(self.path("")) + ".*"):
            remove_path(path)


class TaskOutput(Protocol):
    """What a map or reduce task hands back, seen by an executor that moves outputs
    between machines: its data in parts (a map output's partitions, a reduce
    output's results), each made bytes where it ran and kept where the executor
    keeps data."""

    def packed(self) -> list[bytes | None]:
        """Each part's bytes (None for a part with nothing in it); the files they
        were read from are removed."""

    def moved(self, parts: Sequence[Stored | None]) -> TaskOutput:
        """A copy whose parts are where an executor keeps what ``packed`` made."""


class UserCodeError(SimplemrError):
    """Raised by a task when the user's mapper, combiner or reducer raised.

    ``where`` says which input the user code was working on; the user's
    exception is the ``__cause__``.
    """

    def __init__(self, role: str, where: str) -> None:
        super().__init__(f"the {role} raised while processing {where}")
        self.role = role
        self.where = where


def user_errors() -> tuple[type[BaseException], ...]:
    """What user code may raise that fails its task (``except user_errors():``).

    Any ``Exception``, and ``SystemExit`` (``sys.exit()`` in a mapper ends the task, not
    the worker). ``KeyboardInterrupt`` too, where no Ctrl-C can reach this process
    (SIGINT ignored, as in local workers); where one can (inline, in the driver), it is
    the user's interrupt and stops the job.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        return (Exception, SystemExit, KeyboardInterrupt)
    return (Exception, SystemExit)


def scoped(scope: Callable[[TaskContext], Any] | None, context: TaskContext) -> Any:
    """The context manager a task's functions asked to run inside, or a no-op one."""
    return contextlib.nullcontext() if scope is None else scope(context)


def call_hook(role: str, hook: Callable[[], Any], where: str) -> None:
    """Call a user's set-up hook, blaming it by name if it raises."""
    try:
        hook()
    except user_errors() as error:
        raise UserCodeError(role, where) from error


def hook_output(role: str, hook: Callable[[], Iterable[Any] | None], where: str) -> Iterator[Any]:
    """Yield what a user's ``*_final`` hook yields, as it yields it, blaming the hook
    by name if it raises."""
    try:
        output = hook()
        if output is not None:
            yield from output
    except SimplemrError:
        raise
    except user_errors() as error:
        raise UserCodeError(role, where) from error
