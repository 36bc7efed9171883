"""The inline executor: every task in the calling process, one after another.

For debugging (``pdb`` stops in your mapper), for tests, and for inputs so small
that starting processes would cost more than it saves. The job and each task's
input go through pickling as they would on their way to a worker, so a job that
cannot be shipped fails here the same way.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from .. import shipping
from ..shuffle.task import TaskProgress, watched_by
from .base import Completion, Executor, Task, execute, unsendable

__all__ = ["InlineExecutor"]


class InlineExecutor(Executor):
    """Runs each task in this process when its completion is asked for."""

    name = "inline"

    def __init__(self) -> None:
        super().__init__(1)
        self._queue: deque[Task] = deque()
        self._job: Any = None
        self._progress = TaskProgress()
        self._running: Task | None = None

    @property
    def capacity(self) -> int:
        return 1

    def start(self, job_payload: bytes) -> None:
        self._queue.clear()
        self._job = shipping.loads(job_payload)

    def submit(self, task: Task) -> None:
        self._queue.append(task)

    def next_completed(self) -> Completion:
        task = self._queue.popleft()
        try:
            shipped = shipping.loads(shipping.dumps(task))
        except Exception as error:
            return Completion(task.context, failure=unsendable(error))
        self._progress.read = 0
        self._running = task
        try:
            with watched_by(self._progress):
                return execute(self._job, shipped, worker="inline")
        finally:
            self._running = None

    def reading(self) -> int | None:
        running = self._running
        return self._progress.read if running and running.context.phase == "map" else 0

    def shutdown(self, *, cancel: bool = False) -> None:
        self._queue.clear()
        self._job = None
