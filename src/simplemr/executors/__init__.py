"""Where tasks run: ``local`` worker processes (the default), ``inline``, or ``dask``."""

from __future__ import annotations

import os
import sys
import warnings
from types import FrameType
from typing import Any

from ..errors import JobDefinitionError
from .base import Completion, Executor, Task, TaskFailure
from .inline import InlineExecutor
from .limits import available_cores
from .local import LocalExecutor

__all__ = [
    "DEFAULT_TASK_TIMEOUT",
    "EXECUTORS",
    "Completion",
    "Executor",
    "InlineExecutor",
    "LocalExecutor",
    "Task",
    "TaskFailure",
    "make_executor",
]

#: The executors users can pick by name.
EXECUTORS = ("local", "inline", "dask")

#: Seconds a task may go without progress before its worker is killed (as Hadoop's
#: mapreduce.task.timeout): local workers only.
DEFAULT_TASK_TIMEOUT = 600.0
#: How a Dask scheduler's address starts.
SCHEDULER_SCHEMES = ("tcp://", "tls://", "ucx://", "inproc://", "ws://", "wss://")


def make_executor(
    executor: Any,
    workers: int | None,
    start_method: str | None = None,
    task_timeout: float | None = None,
) -> Executor:
    """Return the executor ``executor`` names: ``"local"`` (or None), ``"inline"``,
    ``"dask"`` (a local Dask cluster for the job), a Dask scheduler's address, a
    ``distributed.Client``; or ``executor`` itself, an Executor."""
    if isinstance(executor, Executor):
        if workers is not None and workers != executor.workers:
            _ignored(f"workers={workers}", f"the executor given, which has {executor.workers}")
        if start_method is not None:
            _ignored(f"start_method={start_method!r}", "an executor given ready-made")
        if task_timeout not in (None, 0, DEFAULT_TASK_TIMEOUT):
            _ignored(f"task_timeout={task_timeout}", "an executor given ready-made")
        return executor
    if executor is None or executor == "local":
        return LocalExecutor(workers or available_cores(), start_method, task_timeout)
    if executor == "inline":
        if workers not in (None, 1):
            _ignored(f"workers={workers}", "executor='inline', which runs every task here")
        if start_method is not None:
            _ignored(f"start_method={start_method!r}", "executor='inline', which starts none")
        if task_timeout not in (None, 0, DEFAULT_TASK_TIMEOUT):
            _ignored(f"task_timeout={task_timeout}", "executor='inline', which kills no task")
        return InlineExecutor()
    dask = executor == "dask" or (
        isinstance(executor, str) and executor.startswith(SCHEDULER_SCHEMES)
    )
    client = type(executor).__name__ == "Client" and type(executor).__module__.startswith(
        "distributed"
    )
    if dask or client:
        from .dask import DaskExecutor

        if start_method is not None:
            _ignored(f"start_method={start_method!r}", "Dask, whose workers are its own")
        if task_timeout not in (None, 0, DEFAULT_TASK_TIMEOUT):
            _ignored(
                f"task_timeout={task_timeout}",
                "Dask, which takes no task from a worker that is alive (only local workers "
                "are watched for stalled tasks)",
            )
        if client:
            return DaskExecutor(workers, client=executor)
        return DaskExecutor(workers, address=None if executor == "dask" else executor)
    raise JobDefinitionError(
        f"unknown executor {executor!r}: choose one of {', '.join(EXECUTORS)}, a Dask "
        "scheduler's address (tcp://host:8786), a distributed.Client, or an Executor"
    )


def _ignored(option: str, because: str) -> None:
    """Warn that an option the user set has no effect, saying what runs instead; the
    warning names the user's line (the first outside simplemr)."""
    frame: FrameType | None = sys._getframe()  # warn's stacklevel 1
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(f"{option} has no effect with {because}", UserWarning, stacklevel=level)


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
