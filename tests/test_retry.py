"""Retrying chosen exceptions (``retry_exceptions``): a task that raised one runs
again after a short wait, up to ``max_attempts``; any other exception still fails
the job at once. The flaky store (``flaky_store.py``) fails the first read of each
file, as an object store that drops a connection does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import flaky_store
import pytest
from flaky_store import failing_first

import simplemr
from simplemr import counters as C
from simplemr.events import report_of
from simplemr.io.textfiles import TextFiles


def _total(word: str, counts) -> tuple[str, int]:
    return word, sum(counts)


@pytest.fixture
def store(tmp_path: Path) -> str:
    """Three files behind the flaky scheme; each fails its first read."""
    for number in range(3):
        (tmp_path / f"part{number}.txt").write_text(f"alpha beta w{number}\n" * 100)
    return f"{flaky_store.SCHEME}://{tmp_path}/"


def _flaky_files(url: str) -> TextFiles:
    # binary=True: the sniff for binary files would take the first failure as "text"
    return simplemr.text_files(url, binary=True, split_size=1 << 20)


EXPECTED = {"alpha": 300, "beta": 300, "w0": 100, "w1": 100, "w2": 100}


@pytest.mark.parametrize("executor", ["inline", "local"])
def test_a_store_that_fails_the_first_read_of_each_file_is_retried(
    store: str, executor: str
) -> None:
    options = {"workers": 2} if executor == "local" else {}
    job = simplemr.MapReduce(
        flaky_store.words, _total, executor=executor, retry_exceptions=(OSError,), **options
    )
    result = job.run(_flaky_files(store))
    assert dict(result) == EXPECTED
    retried = [event for event in result.events if event.outcome == "retried"]
    assert result.counters[C.TASK_RETRIES] == len(retried) >= 1
    assert all(event.phase == "map" for event in retried)


def test_without_retry_exceptions_the_first_failure_fails_the_job(store: str) -> None:
    job = simplemr.MapReduce(flaky_store.words, _total, workers=2)
    with pytest.raises(simplemr.TaskFailedError, match="the store dropped the connection") as info:
        job.run(_flaky_files(store))
    report = report_of(info.value)
    assert report is not None and report.counters[C.TASK_RETRIES] == 0


def _transient_reducer(marker_folder: str):
    def reducer(word: str, counts) -> tuple[str, int]:
        if word == "beta" and failing_first(f"{marker_folder}/beta"):
            raise ConnectionError("the service is busy")
        return word, sum(counts)

    return reducer


def _words(line: str) -> list[tuple[str, int]]:
    return [(word, 1) for word in line.split()]


def test_a_reducer_raising_a_chosen_exception_runs_again(tmp_path: Path) -> None:
    lines = ["alpha beta", "beta"] * 50
    job = simplemr.MapReduce(
        _words, _transient_reducer(str(tmp_path)), workers=2, retry_exceptions=ConnectionError
    )
    result = job.run(lines)
    assert dict(result) == {"alpha": 50, "beta": 100}
    assert [event.phase for event in result.events if event.outcome == "retried"] == ["reduce"]


def test_another_exception_is_not_retried(tmp_path: Path) -> None:
    job = simplemr.MapReduce(
        _words, _transient_reducer(str(tmp_path)), workers=2, retry_exceptions=(TimeoutError,)
    )
    with pytest.raises(simplemr.TaskFailedError, match="the reducer raised ConnectionError"):
        job.run(["alpha beta"] * 10)


def _always_failing(word: str, counts) -> tuple[str, int]:
    raise ConnectionError(f"no service for {word}")


def test_a_failure_that_persists_fails_after_the_last_attempt() -> None:
    job = simplemr.MapReduce(
        _words, _always_failing, workers=2, partitions=1, max_attempts=3,
        retry_exceptions=(OSError,),  # ConnectionError is one
    )  # fmt: skip
    with pytest.raises(simplemr.TaskFailedError, match="no service for") as info:
        job.run(["alpha"])
    report = report_of(info.value)
    assert report is not None
    assert report.counters[C.TASK_RETRIES] == 2
    assert [event.outcome for event in report.events if event.phase == "reduce"] == [
        "retried", "retried", "failed",
    ]  # fmt: skip


def test_on_dask(tmp_path: Path, dask_client) -> None:
    from simplemr.executors.dask import DaskExecutor

    job = simplemr.MapReduce(
        _words, _transient_reducer(str(tmp_path)), executor=DaskExecutor(2, client=dask_client),
        retry_exceptions=(ConnectionError,),
    )  # fmt: skip
    assert dict(job.run(["alpha beta", "beta"] * 10)) == {"alpha": 10, "beta": 20}


@pytest.mark.parametrize("kinds", [("OSError",), [OSError, 3], KeyboardInterrupt])
def test_retry_exceptions_must_be_exception_classes(kinds: object) -> None:
    with pytest.raises(simplemr.JobDefinitionError, match="retry_exceptions must be exception"):
        simplemr.MapReduce(_words, _total, executor="inline", retry_exceptions=kinds)


def test_the_command_line_names_exception_classes(tmp_path: Path) -> None:
    source = tmp_path / "in.txt"
    source.write_text("dog cat dog\n")
    command = [sys.executable, "-m", "simplemr", "wordcount", str(source), "--workers", "1"]
    good = [*command, "--retry-exceptions", "OSError, socket.timeout"]
    ran = subprocess.run(good, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    bad = subprocess.run(
        [*command, "--retry-exceptions", "OSError,Nope"], capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2
    assert "'Nope' names no exception class" in bad.stderr
