"""Seeing a job: events per attempt, the summary, --stats, and the HTML report in Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE
from sample_jobs import CountingDyingOnce

import simplemr
from simplemr.cli import main
from simplemr.examples import wordcount
from simplemr.memory import format_size
from simplemr.observe.report import render_report
from simplemr.observe.summary import Summary, format_summary


def check_events(result: simplemr.JobResult) -> None:
    """Every attempt once, start before end, on a named worker; done tasks match counters."""
    events = result.events
    attempts = {(e.step, e.phase, e.task, e.attempt) for e in events}
    assert len(attempts) == len(events) == result.counters["tasks.attempts"]
    assert all(0 <= e.start < e.end and e.worker for e in events)
    done = [e for e in events if e.outcome == "done"]
    assert len(done) == result.counters["tasks.map"] + result.counters["tasks.reduce"]
    assert (
        sum(e.counters["map.records_in"] for e in done if e.phase == "map")
        == (result.counters["map.records_in"])
    )
    assert [(p.step, p.phase) for p in result.phases] == [(1, "map"), (1, "reduce")]


@pytest.mark.timeout(120)
def test_a_retried_task_shows_two_attempts(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SIMPLEMR_TEST_MARKER", str(tmp_path / "killed"))
    result = CountingDyingOnce().run(range(40), workers=2, chunksize=5)
    check_events(result)
    lost = [e for e in result.events if e.outcome == "lost"]
    assert len(lost) == 1
    retried = [e for e in result.events if (e.phase, e.task) == (lost[0].phase, lost[0].task)]
    assert [e.attempt for e in retried] == [1, 2]
    assert {e.worker for e in result.events} <= {"Worker-1", "Worker-2"}


@pytest.mark.parametrize("executor", ["inline", "local", "dask"])
def test_events_on_every_executor(executor: str, request: Any) -> None:
    if executor == "dask":
        executor = request.getfixturevalue("dask_client")
    result = wordcount.job(executor=executor, partitions=3).run(
        simplemr.text_files(SAMPLE, split_size=2048)
    )
    check_events(result)


def test_the_summary_and_stats_say_what_the_api_says(tmp_path: Path, capsys) -> None:
    stats = tmp_path / "stats.json"
    assert (
        main(["wordcount", str(SAMPLE), "--workers", "2", "--summary", "--stats", str(stats)]) == 0
    )
    err = capsys.readouterr().err
    figures = json.loads(stats.read_text())
    api = wordcount.job(workers=2).run(simplemr.text_files(SAMPLE))
    assert figures["counters"] == dict(api.counters)
    assert figures["output_records"] == len(api.results)
    assert figures["input_bytes"] == api.counters["input.bytes"]
    assert re.search(rf"output records +{len(api.results):,}\n", err)
    assert re.search(r"peak memory \(sum\) +[\d.]+ MiB +driver", err)


def test_user_counters_appear_in_the_summary(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SIMPLEMR_TEST_MARKER", str(tmp_path / "killed"))
    (tmp_path / "killed").write_text("")  # as if it had died already: no kill inline
    result = CountingDyingOnce().run(range(10), executor="inline")
    text = format_summary(Summary(1.0, result.phases, result.counters, result.events))
    assert re.search(r"test\.records +10\n", text)
    assert re.search(r"test\.values +10$", text)


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no Chromium here (.ci/run installs Debian's chromium package)")


def _rendered_in_chromium(tmp_path: Path, title: str, summary: Summary) -> str:
    """The DOM of the report after headless Chromium has opened it and run its script."""
    page = tmp_path / "job.html"
    page.write_text(render_report(title, {"workers": 2}, summary))
    assert "http" not in page.read_text()  # nothing to fetch: it opens offline
    dumped = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--no-first-run",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert "</html>" in dumped.stdout, dumped.stderr[-500:]
    return dumped.stdout


def test_the_html_report_in_headless_chromium(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SIMPLEMR_TEST_MARKER", str(tmp_path / "killed"))
    result = CountingDyingOnce().run(range(40), workers=2, chunksize=5, partitions=3)
    summary = Summary(2.0, result.phases, result.counters, result.events)
    dom = _rendered_in_chromium(tmp_path, "a test job <&>", summary)
    bars = re.findall(r'<rect class="bar (map|reduce|lost|failed)"', dom)
    assert len(bars) == len(result.events) == result.counters["tasks.attempts"]
    assert bars.count("lost") == 1
    assert '<span id="attempt-count">' + str(len(result.events)) + "</span>" in dom  # script ran
    assert dom.count('class="worker"') == 2 and "Worker-1" in dom and "Worker-2" in dom
    assert "a test job &lt;&amp;&gt;" in dom
    assert "No input bytes were counted" in dom and 'id="throughput"' not in dom  # items
    assert re.search(r"step 1, partition \d", dom)
    assert "test.records" in dom


def test_the_throughput_chart_of_a_job_over_files_in_headless_chromium(tmp_path: Path) -> None:
    lines = [f"line {number} of the input" for number in range(4000)]
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_text("\n".join(lines) + "\n")
    files = simplemr.text_files(
        sorted(str(path) for path in tmp_path.glob("*.txt")), split_size=20_000
    )
    job = simplemr.MapReduce(
        lambda line: [(line.split()[1], 1)], lambda k, v: (k, sum(v)), workers=2
    )
    result = job.run(files)
    summary = Summary(2.0, result.phases, result.counters, result.events)
    dom = _rendered_in_chromium(tmp_path, "over files", summary)
    [chart] = re.findall(r'<svg id="throughput".*?</svg>', dom)
    [points] = re.findall(r'<polyline points="([^"]+)"', chart)
    heights = [float(point.split(",")[1]) for point in points.split()]
    assert len(heights) == 1 + result.counters["tasks.map"] > 2  # a point a map task
    assert heights == sorted(heights, reverse=True) and heights[-1] == 0.0  # all read
    assert format_size(files.total_bytes) in chart


def test_report_and_stats_from_the_command_line(tmp_path: Path, capsys) -> None:
    report, stats = tmp_path / "job.html", tmp_path / "stats.json"
    arguments = ["wordcount", str(SAMPLE), "--report", str(report), "--stats", str(stats)]
    assert main(arguments) == 0
    text = report.read_text()
    assert text.startswith("<!DOCTYPE html>") and "simplemr wordcount" in text
    assert text.count('<rect class="bar ') == json.loads(stats.read_text())["task_attempts"]
    assert capsys.readouterr().err == ""  # no summary in a pipe unless asked
    assert main(["wordcount", str(SAMPLE), "--report", str(tmp_path)]) == 2
    assert "is a folder; name a file" in capsys.readouterr().err


def test_a_report_of_a_job_whose_mapper_emits_nothing() -> None:
    job = simplemr.MapReduce(lambda record: [], lambda key, values: key, executor="inline")
    result = job.run(range(10))
    page = render_report("empty", {}, Summary(0.1, result.phases, result.counters, result.events))
    assert "No partition received any data" in page


def test_counters_of_tasks_in_two_threads_stay_apart() -> None:
    import threading

    from simplemr.counters import counting_into

    first, second = {}, {}
    both_inside = threading.Barrier(2)

    def task(counters: dict, amount: int) -> None:
        with counting_into(counters):
            both_inside.wait()
            simplemr.increment_counter("user", "x", amount)
            both_inside.wait()

    threads = [threading.Thread(target=task, args=(c, n)) for c, n in [(first, 1), (second, 2)]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert first == {"user.x": 1} and second == {"user.x": 2}


FAILING_JOB = """
import simplemr

class FailsOnZ(simplemr.Job):
    def mapper(self, key, line):
        for word in line.split():
            yield word, 1

    def reducer(self, word, counts):
        if word.startswith("z"):
            raise ValueError("no z words")
        yield word, sum(counts)

class StoppedByTheUser(simplemr.Job):
    def mapper(self, key, line):
        raise KeyboardInterrupt
"""


@pytest.mark.parametrize(
    ("job", "outcome", "reason"),
    [
        ("FailsOnZ", "failed", r"reduce task \d of 2 failed on key 'zebra': the reducer raised "
                               r"ValueError: no z words"),
        ("StoppedByTheUser", "interrupted", "KeyboardInterrupt"),
    ],
)  # fmt: skip
def test_a_job_that_fails_still_writes_its_reports(
    job: str, outcome: str, reason: str, tmp_path: Path, capsys: Any
) -> None:
    source = tmp_path / "jobs.py"
    source.write_text(FAILING_JOB)
    text = tmp_path / "in.txt"
    text.write_text("apple zebra apple\n" * 20)
    stats, report = tmp_path / "stats.json", tmp_path / "report.html"
    arguments = [
        "run", f"{source}:{job}", str(text), "--executor", "inline", "--partitions", "2",
        "--summary", "--stats", str(stats), "--report", str(report),
    ]  # fmt: skip
    status = main(arguments)
    assert status != 0
    said = json.loads(stats.read_text())
    assert said["outcome"] == outcome
    assert re.search(reason, said["reason"])
    assert said["input_records"] == (20 if outcome == "failed" else 0)
    assert [phase["phase"] for phase in said["phases"]][:1] == ["map"]
    err = capsys.readouterr().err
    assert re.search(rf"simplemr: job summary \({outcome}: .*{reason}", err)
    assert f"({outcome}: " in report.read_text()


def test_a_summary_of_several_steps_counts_the_input_once(capsys: Any) -> None:
    from sample_jobs import ThreeSteps

    lines = [f"line {n} of words" for n in range(50)]
    result = ThreeSteps().run(lines, executor="inline")
    summary = Summary(1.0, result.phases, result.counters, result.events)
    assert result.counters["map.records_in"] > len(lines)  # every step's map input
    assert summary.to_dict()["input_records"] == len(lines)
    shown = format_summary(summary)
    assert re.search(r"^  input records +50$", shown, re.MULTILINE), shown
    assert "map output records (all steps)" in shown
