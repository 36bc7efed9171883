"""A job's report as one self-contained HTML file: parameters, figures, a task timeline.

    events + phases + summary ─▶ render_report() ─▶ one HTML file (styles, SVG and
                                                     script inline: no network needed)

The page shows the job's parameters, the summary and every counter, a timeline
of every task attempt on every worker (map and reduce in two colours, lost and
failed attempts in red, like Spark's event timeline), the input read over
time, and the partitions that received the most data (skew). Charts are inline
SVG drawn here; the page's small script only adds details on hover.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from .. import counters as C
from ..events import TaskEvent
from ..memory import format_size
from .summary import Summary, format_summary

__all__ = ["render_report"]

_WIDTH = 960
_LEFT = 110
_ROW = 22

_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; }
table { border-collapse: collapse; } td, th { padding: 2px 12px 2px 0; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; }
svg text { font: 11px system-ui, sans-serif; fill: #444; }
rect.map { fill: #4c78a8; } rect.reduce { fill: #f58518; }
rect.lost, rect.retried, rect.failed { fill: #e45756; opacity: .7; }
rect.phase { fill: #f2f2f2; } rect.bar:hover { stroke: #000; }
line.grid { stroke: #ddd; } polyline { fill: none; stroke: #4c78a8; stroke-width: 2; }
rect.skew { fill: #72b7b2; } #details { min-height: 1.4em; color: #555; }
.legend span { display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 12px; }
"""

_SCRIPT = """
const bars = document.querySelectorAll("rect.bar");
document.getElementById("attempt-count").textContent = bars.length;
const details = document.getElementById("details");
for (const bar of bars) {
  bar.addEventListener("mouseover", () => { details.textContent = bar.dataset.details; });
}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _table(rows: list[tuple[str, str]], numbers: bool = True) -> str:
    kind = " class=n" if numbers else ""
    cells = "".join(f"<tr><th>{_e(k)}</th><td{kind}>{_e(v)}</td></tr>" for k, v in rows)
    return f"<table>{cells}</table>"


def _ticks(span: float) -> list[float]:
    """About eight round time ticks over ``span`` seconds."""
    for step in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600):
        if span / step <= 8:
            return [n * step for n in range(int(span / step) + 1)]
    return [0.0, span]


def _describe(event: TaskEvent) -> str:
    counters = event.counters
    text = (
        f"step {event.step} {event.phase} task {event.task}, attempt {event.attempt} on "
        f"{event.worker}: {event.seconds:.2f} s, {event.outcome}"
    )
    records = counters.get(C.MAP_RECORDS_IN if event.phase == "map" else C.REDUCE_RECORDS_IN)
    if records:
        text += f", {records:,} records in"
    if counters.get(C.INPUT_BYTES):
        text += f", {format_size(counters[C.INPUT_BYTES])} read"
    return text


def _timeline(summary: Summary) -> str:
    events = summary.events
    workers = sorted({event.worker for event in events})
    span = max([summary.seconds, *(event.end for event in events)]) or 1.0
    scale = (_WIDTH - _LEFT - 10) / span
    height = _ROW * len(workers) + 30
    parts = [f'<svg id="timeline" width="{_WIDTH}" height="{height}" role="img">']
    for phase in summary.phases:
        x = _LEFT + phase.start * scale
        parts.append(
            f'<rect class="phase" x="{x:.1f}" y="0" width="{max(phase.seconds * scale, 1):.1f}" '
            f'height="{_ROW * len(workers)}"><title>{_e(phase.phase)} (step {phase.step}): '
            f"{phase.seconds:.1f} s</title></rect>"
        )
    for tick in _ticks(span):
        x = _LEFT + tick * scale
        parts.append(f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{height - 18}"/>')
        parts.append(f'<text x="{x:.1f}" y="{height - 4}" text-anchor="middle">{tick:g} s</text>')
    for row, worker in enumerate(workers):
        parts.append(f'<text class="worker" x="4" y="{row * _ROW + 15}">{_e(worker)}</text>')
    for event in events:
        row = workers.index(event.worker)
        x = _LEFT + event.start * scale
        width = max(event.seconds * scale, 1.5)
        kind = event.phase if event.outcome == "done" else event.outcome
        parts.append(
            f'<rect class="bar {kind}" x="{x:.1f}" y="{row * _ROW + 3}" width="{width:.1f}" '
            f'height="{_ROW - 6}" data-details="{_e(_describe(event))}">'
            f"<title>{_e(_describe(event))}</title></rect>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _throughput(summary: Summary) -> str:
    done = sorted(
        (event.end, event.counters.get(C.INPUT_BYTES, 0))
        for event in summary.events
        if event.phase == "map" and event.step == 1 and event.outcome == "done"
    )
    total = sum(amount for _, amount in done)
    if not total:
        return "<p>No input bytes were counted (the input was not files).</p>"
    span = max(summary.seconds, done[-1][0]) or 1.0
    width, height = _WIDTH - _LEFT - 10, 160
    points, read = [f"{_LEFT},{height}"], 0
    for end, amount in done:
        read += amount
        points.append(f"{_LEFT + end / span * width:.1f},{height - read / total * height:.1f}")
    label = f"{format_size(total)} read in {summary.seconds:.1f} s"
    return (
        f'<svg id="throughput" width="{_WIDTH}" height="{height + 20}" role="img">'
        f'<text x="4" y="12">{_e(format_size(total))}</text><text x="4" y="{height}">0</text>'
        f'<polyline points="{" ".join(points)}"><title>{_e(label)}</title></polyline>'
        f'<text x="{_WIDTH - 10}" y="{height + 16}" text-anchor="end">{span:.1f} s</text></svg>'
    )


def _skew(summary: Summary) -> str:
    received: dict[tuple[int, int], int] = {}
    for event in summary.events:
        if event.phase == "map" and event.outcome == "done":
            for partition, size in enumerate(event.partition_bytes):
                key = (event.step, partition + 1)
                received[key] = received.get(key, 0) + size
    if not received:
        return "<p>No partition sizes were recorded.</p>"
    biggest = sorted(received.items(), key=lambda item: -item[1])[:10]
    if not biggest[0][1]:
        return "<p>No partition received any data.</p>"
    average = sum(received.values()) / len(received)
    scale = (_WIDTH - 400) / max(size for _, size in biggest)
    parts = [f'<svg id="skew" width="{_WIDTH}" height="{len(biggest) * _ROW + 4}" role="img">']
    for row, ((step, partition), size) in enumerate(biggest):
        y = row * _ROW
        parts.append(
            f'<text x="4" y="{y + 15}">step {step}, partition {partition}</text>'
            f'<rect class="skew" x="150" y="{y + 3}" width="{max(size * scale, 1):.1f}" '
            f'height="{_ROW - 6}"/><text x="{156 + size * scale:.1f}" y="{y + 15}">'
            f"{_e(format_size(size))} ({size / average:.1f}× the average)</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def render_report(title: str, parameters: Mapping[str, Any], summary: Summary) -> str:
    """The report's whole HTML page."""
    counter_rows = [(name, f"{value:,}") for name, value in sorted(summary.counters.items())]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>
<style>{_STYLE}</style></head><body>
<h1>{_e(title)}</h1>
<h2>Parameters</h2>{_table([(k, str(v)) for k, v in parameters.items()], numbers=False)}
<h2>Summary</h2><pre>{_e(format_summary(summary))}</pre>
<h2>Timeline: <span id="attempt-count">the</span> task attempts</h2>
<p class="legend"><span style="background:#4c78a8"></span>map
<span style="background:#f58518"></span>reduce
<span style="background:#e45756"></span>lost or failed attempt</p>
{_timeline(summary)}
<p id="details">Point at a bar for its task.</p>
<h2>Input read over time</h2>{_throughput(summary)}
<h2>Biggest partitions</h2>{_skew(summary)}
<h2>Counters</h2>{_table(counter_rows)}
<script>{_SCRIPT}</script>
</body></html>
"""
