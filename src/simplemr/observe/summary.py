"""A finished job in figures: time per phase, records and bytes, memory, counters.

Sizes are in binary units (KiB, MiB, GiB), as in the progress bars.

Made from the job's counters and events (``events.py``), so it costs nothing
while the job runs. ``format_summary`` lays it out as an aligned table for a
terminal; ``Summary.to_dict`` gives the same figures for ``--stats`` (JSON).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import counters as C
from ..events import PhaseSpan, TaskEvent
from ..memory import MiB, format_size, peak_rss

__all__ = ["Summary", "format_summary", "peak_memory"]


def peak_memory(events: list[TaskEvent]) -> tuple[int, dict[str, int]]:
    """The driver's peak resident memory, and each worker's as its attempts reported
    it (bytes); their sum bounds the process tree's peak from above."""
    driver = peak_rss()
    workers: dict[str, int] = {}
    for event in events:
        if event.worker != "inline" and event.peak_rss:  # not the driver, nor unknown
            workers[event.worker] = max(workers.get(event.worker, 0), event.peak_rss)
    return driver, workers


@dataclass
class Summary:
    """The figures of a job that ended: how (``outcome``: succeeded, failed or
    interrupted, and why: ``reason``), and what it did until then."""

    seconds: float
    phases: list[PhaseSpan]
    counters: Mapping[str, int]
    events: list[TaskEvent] = field(default_factory=list)
    outcome: str = "succeeded"
    reason: str = ""

    @property
    def input_records(self) -> int:
        """Records of the job's input: the first step's (the built-in counter sums
        every step's map input, a later step's being the results of the one before)."""
        return self._of_step(C.MAP_RECORDS_IN, "map", first=True)

    @property
    def output_records(self) -> int:
        """Results of the last step (the built-in counter sums every step's)."""
        return self._of_step(C.REDUCE_RECORDS_OUT, "reduce", first=False)

    def _of_step(self, counter: str, phase: str, first: bool) -> int:
        """``counter`` summed over the done tasks of ``phase`` of the first step (or
        the last); the job's counter when no task events were kept."""
        if not self.events:
            return self.counters.get(counter, 0)
        step = 1 if first else max(event.step for event in self.events)
        return sum(
            event.counters.get(counter, 0)
            for event in self.events
            if event.step == step and event.phase == phase and event.outcome == "done"
        )

    def to_dict(self) -> dict[str, Any]:
        """Every figure, as numbers, for JSON."""
        counters = self.counters
        driver, workers = peak_memory(self.events)
        return {
            "outcome": self.outcome,
            **({"reason": self.reason} if self.reason else {}),
            "seconds": round(self.seconds, 3),
            "phases": [
                {"step": p.step, "phase": p.phase, "seconds": round(p.seconds, 3)}
                for p in self.phases
            ],
            "input_bytes": counters.get(C.INPUT_BYTES, 0),
            "input_records": self.input_records,
            "map_output_records": counters.get(C.MAP_RECORDS_OUT, 0),
            "map_output_records_combined": _after_combiner(counters),
            "spilled_bytes": counters.get(C.MAP_SPILLED_BYTES, 0)
            + counters.get(C.REDUCE_SPILLED_BYTES, 0),
            "reduce_groups": counters.get(C.REDUCE_GROUPS, 0),
            "output_records": self.output_records,
            "task_attempts": counters.get(C.TASK_ATTEMPTS, 0),
            "retries": counters.get(C.TASK_RETRIES, 0),
            "skipped_records": counters.get(C.MAP_SKIPPED, 0),
            "peak_memory_bytes": {"driver": driver, "workers": workers},
            "counters": dict(counters),
        }


def _after_combiner(counters: Mapping[str, int]) -> int:
    return (
        counters.get(C.MAP_RECORDS_OUT, 0)
        - counters.get(C.COMBINE_RECORDS_IN, 0)
        + counters.get(C.COMBINE_RECORDS_OUT, 0)
    )


def _rate(amount: float, seconds: float, unit: str) -> str:
    return f"{amount / seconds:,.1f} {unit}/s" if seconds > 0 else ""


def format_summary(summary: Summary) -> str:
    """The summary as an aligned table of two columns (and a note column)."""
    figures = summary.to_dict()
    counters = summary.counters
    seconds = summary.seconds
    rows: list[tuple[str, str, str]] = [("wall time", f"{seconds:.1f} s", "")]
    several = len({phase.step for phase in summary.phases}) > 1
    for phase in summary.phases:
        name = f"  {phase.phase}" + (f" (step {phase.step})" if several else "")
        rows.append((name, f"{phase.seconds:.1f} s", ""))
    input_bytes = figures["input_bytes"]
    if input_bytes:
        rows.append(("input", format_size(input_bytes), _rate(input_bytes / MiB, seconds, "MiB")))
    every = " (all steps)" if several else ""
    rows.append(("input records", f"{figures['input_records']:,}", ""))
    rows.append(("map output records" + every, f"{figures['map_output_records']:,}", ""))
    if counters.get(C.COMBINE_RECORDS_IN, 0):
        combined = figures["map_output_records_combined"]
        rows.append(("  after the combiner", f"{combined:,}", ""))
    rows.append(("spilled" + every, format_size(figures["spilled_bytes"]), ""))
    rows.append(("reduce groups" + every, f"{figures['reduce_groups']:,}", ""))
    rows.append(("output records", f"{figures['output_records']:,}", ""))
    rows.append(("task attempts", f"{figures['task_attempts']:,}", _retries(figures["retries"])))
    if figures["skipped_records"]:
        rows.append(("skipped records", f"{figures['skipped_records']:,}", "see the warnings"))
    driver, workers = (figures["peak_memory_bytes"][part] for part in ("driver", "workers"))
    biggest = max(workers.values(), default=0)
    note = f"driver {format_size(driver)}, {len(workers)} workers, largest {format_size(biggest)}"
    rows.append(("peak memory (sum)", format_size(driver + sum(workers.values())), note))
    user = C.Counters(counters).user()
    for name in sorted(user):
        rows.append((name, f"{user[name]:,}", ""))
    width = max(len(label) for label, _, _ in rows)
    value_width = max(len(value) for _, value, _ in rows)
    ended = "" if summary.outcome == "succeeded" else f" ({summary.outcome}: {summary.reason})"
    lines = [f"simplemr: job summary{ended}"]
    for label, value, note in rows:
        lines.append(f"  {label:<{width}}  {value:>{value_width}}  {note}".rstrip())
    return "\n".join(lines)


def _retries(retries: int) -> str:
    return f"{retries} retried" if retries else ""
