"""Where tasks run: ``local`` worker processes (the default), ``inline``, or ``dask``."""

from __future__ import annotations

from typing import Any

from ..errors import JobDefinitionError
from .base import Completion, Executor, Task, TaskFailure
from .inline import InlineExecutor
from .local import LocalExecutor, available_cores

__all__ = [
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
        return executor
    if executor is None or executor == "local":
        return LocalExecutor(workers or available_cores(), start_method, task_timeout)
    if executor == "inline":
        return InlineExecutor()
    if executor == "dask" or (isinstance(executor, str) and executor.startswith(SCHEDULER_SCHEMES)):
        from .dask import DaskExecutor

        return DaskExecutor(workers, address=None if executor == "dask" else executor)
    if type(executor).__name__ == "Client" and type(executor).__module__.startswith("distributed"):
        from .dask import DaskExecutor

        return DaskExecutor(workers, client=executor)
    raise JobDefinitionError(
        f"unknown executor {executor!r}: choose one of {', '.join(EXECUTORS)}, a Dask "
        "scheduler's address (tcp://host:8786), a distributed.Client, or an Executor"
    )
