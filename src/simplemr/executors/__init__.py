"""Where tasks run: ``local`` worker processes (the default) or ``inline``."""

from __future__ import annotations

from ..errors import JobDefinitionError
from .base import Completion, Executor, Task, TaskFailure
from .inline import InlineExecutor
from .local import LocalExecutor

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
EXECUTORS = ("local", "inline")


def make_executor(
    executor: str | Executor | None, workers: int, start_method: str | None = None
) -> Executor:
    """Return the executor named by ``executor`` (or ``executor`` itself)."""
    if isinstance(executor, Executor):
        return executor
    if executor is None or executor == "local":
        return LocalExecutor(workers, start_method)
    if executor == "inline":
        return InlineExecutor()
    raise JobDefinitionError(
        f"unknown executor {executor!r}: choose one of {', '.join(EXECUTORS)}, "
        "or pass an Executor instance"
    )
