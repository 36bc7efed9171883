"""What happened during a job, as data: one event per task attempt, and each phase's span.

The engine records these as it settles completions, at no cost per record; the
summary (``summary.py``) and the HTML report (``report.py``) are made from them,
and ``JobResult.events`` / ``JobResult.phases`` hand them to API callers.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .counters import Counters

__all__ = ["JobReport", "PhaseSpan", "TaskEvent"]


@dataclass(frozen=True)
class TaskEvent:
    """One attempt of one task. Times are seconds since the job started.

    ``outcome`` is ``"done"``, ``"lost"`` (its worker died; the task ran again
    unless it had no attempts left), ``"retried"`` (it raised one of the job's
    ``retry_exceptions``, and ran again) or ``"failed"`` (it failed the job).
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


@dataclass(eq=False)
class JobReport:
    """What a finished job says of itself besides its results: what ``JobResult`` and
    ``ResultStream`` both hold."""

    #: The job's counters (see ``simplemr.counters``).
    counters: Counters = field(default_factory=Counters)
    #: Undecodable byte sequences replaced while reading, per input file that had any.
    decode_errors: dict[str, int] = field(default_factory=dict)
    #: With ``max_bad_records``: the first records skipped, where and what was raised.
    skipped: list[str] = field(default_factory=list)
    #: One ``TaskEvent`` per task attempt, in the order they ended.
    events: list[TaskEvent] = field(default_factory=list)
    #: When each phase of each step ran (``PhaseSpan``).
    phases: list[PhaseSpan] = field(default_factory=list)
    #: Input files skipped because they look binary (see ``text_files``).
    binary_skipped: list[str] = field(default_factory=list)
    #: With a folder ``output``: where each partition's part was written.
    output_parts: list[str] = field(default_factory=list)
    #: With ``output_tap``: what each partition's tap said, in partition order.
    summaries: list[Any] = field(default_factory=list)
    #: With ``step_output`` and ``resume``: how many steps, from the first, were
    #: skipped for results this same job kept there.
    resumed_steps: int = 0
    #: How the job ended: ``"succeeded"``, ``"failed"`` or ``"interrupted"``.
    outcome: str = "succeeded"
    #: Why it did not succeed (the error's message), else empty.
    reason: str = ""

    def report(self) -> JobReport:
        """This report alone (of a ``JobResult`` or ``ResultStream``: without its results)."""
        names = (item.name for item in dataclasses.fields(JobReport))
        return JobReport(**{name: getattr(self, name) for name in names})


def attach_report(error: BaseException, report: JobReport) -> None:
    """Let a job's failure carry what the job did until then (``report_of``), for
    the reports a user asked for: a failed job is when they are wanted most."""
    error.job_report = report  # type: ignore[attr-defined]


def report_of(error: BaseException) -> JobReport | None:
    """What the job that raised ``error`` (or the error it was raised from) did
    until it failed, if it said."""
    seen: BaseException | None = error
    for _ in range(8):  # a few layers of wrapping at most
        if seen is None:
            return None
        report = getattr(seen, "job_report", None)
        if isinstance(report, JobReport):
            return report
        seen = seen.__cause__ or seen.__context__
    return None
