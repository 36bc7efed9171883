"""What every task receives, and how a task reports a failure of user code."""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import operator
import os
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import SimplemrError
from ..io.workdir import TMPDIR_VARIABLE, owner_tag, remove_stale

__all__ = [
    "TaskContext",
    "UserCodeError",
    "call_hook",
    "hook_output",
    "local_folder",
    "progress_ticks",
    "progressed",
    "user_errors",
    "watch_records",
]

#: How far the tasks of this process have got: ticks (a block of records read, a few
#: thousand pairs emitted, a key reduced), and the iterator over the records of the
#: block being mapped, whose length hint moves with every record at no cost to the
#: loop. An executor's watchdog samples them to tell a slow task from a stuck one.
_ticks = [0]
_records: list[Iterator[Any] | None] = [None]


def progressed() -> None:
    """Count a tick of progress of the running task."""
    _ticks[0] += 1


def watch_records(records: Iterator[Any]) -> Iterator[Any]:
    """Let ``progress_ticks`` follow the iteration over ``records``; return it."""
    _records[0] = records
    return records


def progress_ticks() -> tuple[int, int]:
    """Where the tasks of this process are: it changes whenever they make progress."""
    records = _records[0]
    return _ticks[0], -1 if records is None else operator.length_hint(records, -1)


@dataclass(frozen=True)
class TaskContext:
    """One attempt of one task: its number (from 0), its attempt (from 1), its folder,
    whether to say on stderr what it reads, and its job step (from 0)."""

    phase: str
    index: int
    attempt: int
    workdir: str
    verbose: bool = False
    step: int = 0
    #: Whether the task hands its output back as bytes (for an executor whose
    #: workers share no folder with the driver) instead of leaving it in ``workdir``.
    in_memory: bool = False

    def path(self, suffix: str) -> str:
        """Return a path in the work folder that belongs to this attempt only."""
        name = f"{self.step + 1}-{self.phase}-{self.index:05d}-{self.attempt}{suffix}"
        return os.path.join(self.workdir, name)

    def next_attempt(self) -> TaskContext:
        """The context of the same task's next attempt."""
        return dataclasses.replace(self, attempt=self.attempt + 1)

    def remove_files(self) -> None:
        """Remove whatever this attempt wrote (a failed attempt's files are never read)."""
        for path in glob.glob(glob.escape(self.path("")) + ".*"):
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)


@contextlib.contextmanager
def local_folder(context: TaskContext) -> Iterator[TaskContext]:
    """The context this attempt writes its files with: ``context`` itself, or, when
    its output goes back in memory, one whose folder is private to this machine and
    removed when the task ends."""
    if not context.in_memory:
        yield context
        return
    root = _scratch_root() or tempfile.gettempdir()
    remove_stale(root, "simplemr-task-")  # what workers killed mid-task left here
    folder = tempfile.mkdtemp(prefix=f"simplemr-task-{owner_tag()}-", dir=root)
    try:
        yield dataclasses.replace(context, workdir=folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _scratch_root() -> str | None:
    """Where a task on another machine writes: $SIMPLEMR_TMPDIR there, else its Dask
    worker's own folder (which Dask cleans up when a worker dies), else the temp folder."""
    if os.environ.get(TMPDIR_VARIABLE):
        return os.environ[TMPDIR_VARIABLE]
    try:
        from distributed import get_worker

        return str(get_worker().local_directory)
    except (ImportError, ValueError, AttributeError):
        return None


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
