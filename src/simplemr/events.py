"""What happened during a job, as data: one event per task attempt, and each phase's span.

The engine records these as it settles completions, at no cost per record; the
summary (``summary.py``) and the HTML report (``report.py``) are made from them,
and ``JobResult.events`` / ``JobResult.phases`` hand them to API callers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["PhaseSpan", "TaskEvent"]


@dataclass(frozen=True)
class TaskEvent:
    """One attempt of one task. Times are seconds since the job started.

    ``outcome`` is ``"done"``, ``"lost"`` (its worker died; the task ran again
    unless it had no attempts left) or ``"failed"`` (it failed the job).
    ``partition_bytes`` is what a map attempt wrote for each partition.
    """

    step: int  # from 1
    phase: str  # "map" or "reduce"
    task: int  # from 1
    attempt: int  # from 1
    worker: str
    start: float
    end: float
    outcome: str
    counters: dict[str, int] = field(default_factory=dict)
    partition_bytes: tuple[int, ...] = ()
    peak_rss: int = 0  # of the worker process, so far, in bytes

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class PhaseSpan:
    """When one phase of one step ran, in seconds since the job started."""

    step: int
    phase: str
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start
