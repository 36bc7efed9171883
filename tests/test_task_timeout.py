"""A task that makes no progress for ``task_timeout`` seconds is killed and run again:
a mapper stuck on one record, a worker stopped with SIGSTOP. A slow task that moves
(a record at a time) is left alone."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from conftest import StartedProcesses

import simplemr
from simplemr.executors import local


def stuck_on_seven(item: int) -> list[tuple[int, int]]:
    if item == 7:
        time.sleep(3600)
    return [(item % 2, 1)]


def slow(item: int) -> list[tuple[int, int]]:
    time.sleep(0.25)
    return [(item % 2, 1)]


def count(key: int, ones: object) -> tuple[int, int]:
    return key, sum(ones)  # type: ignore[call-overload]


@pytest.mark.timeout(120)
def test_a_mapper_stuck_on_one_record_is_killed_and_named() -> None:
    job = simplemr.MapReduce(stuck_on_seven, count, workers=2, task_timeout=1.5, max_attempts=2)
    started = time.monotonic()
    with pytest.raises(
        simplemr.WorkerLostError,
        match=r"failed after 2 attempts: its worker process \(pid \d+\) made no progress for "
        r"1\.5 s and was killed \(the task timeout",
    ):
        job.run(range(10), chunksize=1)
    assert time.monotonic() - started < 60


@pytest.mark.timeout(120)
def test_a_slow_task_that_moves_is_not_a_stuck_one() -> None:
    job = simplemr.MapReduce(slow, count, workers=2, task_timeout=1.5)
    result = job.run(range(16), chunksize=8)  # 2 s a task, a record every 0.25 s
    assert sorted(result.results) == [(0, 8), (1, 8)]
    assert result.counters["tasks.retries"] == 0


class SlowAndTold:
    """``slow``, telling (by a file named after its process) which workers run it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __call__(self, item: int) -> list[tuple[int, int]]:
        (self.folder / str(os.getpid())).touch()
        return slow(item)


def stop_when_seen(folder: Path, stopped: list[psutil.Process]) -> None:
    """Stop (SIGSTOP) the first worker that leaves its mark in ``folder``."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for mark in folder.iterdir():
            worker = psutil.Process(int(mark.name))
            worker.send_signal(signal.SIGSTOP)
            stopped.append(worker)
            return
        time.sleep(0.02)


def kill_all(processes: list[psutil.Process]) -> None:
    """Kill what the test stopped, should the driver not have (psutil checks that a
    process is still the one it was, not another that got its PID since)."""
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.kill()


@pytest.mark.timeout(120)
def test_a_stopped_worker_is_replaced_and_nothing_is_lost(tmp_path: Path) -> None:
    job = simplemr.MapReduce(SlowAndTold(tmp_path), count, workers=2, task_timeout=1.5)
    stopped: list[psutil.Process] = []
    stopper = threading.Thread(target=stop_when_seen, args=(tmp_path, stopped))
    stopper.start()
    try:
        result = job.run(range(40), chunksize=4)  # 10 tasks of 1 s: the stop comes early
    finally:
        stopper.join()
        kill_all(stopped)
    assert stopped, "no worker was seen at work"
    assert sorted(result.results) == [(0, 20), (1, 20)]
    assert result.counters["tasks.retries"] >= 1


class SlowToLoad:
    """``slow``, unpickled slowly: a worker takes a second to load its job."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return eval, ("__import__('time').sleep(1) or __import__('test_task_timeout').slow",)

    def __call__(self, item: int) -> list[tuple[int, int]]:
        return slow(item)


@pytest.mark.timeout(120)
def test_a_worker_stopped_while_it_starts_is_started_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(local, "START_SILENCE", 2.0)
    me = psutil.Process()
    stopped: list[psutil.Process] = []
    ended = threading.Event()

    def stop_one_at_birth() -> None:
        while not stopped and not ended.is_set():
            for process in me.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    parent = process.parent()
                    if parent is not None and "forkserver" in " ".join(parent.cmdline()):
                        process.send_signal(signal.SIGSTOP)  # a worker, loading its job
                        stopped.append(process)
                        return
            time.sleep(0.005)

    stopper = threading.Thread(target=stop_one_at_birth)
    stopper.start()
    try:
        job = simplemr.MapReduce(
            SlowToLoad(), count, workers=2, task_timeout=1, start_method="forkserver"
        )
        result = job.run(range(4), chunksize=2)
    finally:
        ended.set()
        stopper.join()
        kill_all(stopped)
    assert stopped, "no worker was seen starting"
    assert sorted(result.results) == [(0, 2), (1, 2)]
    assert result.counters["tasks.retries"] == 0  # stopped before it took a task


def test_task_timeout_is_checked() -> None:
    for wrong in (-1, "ten", True):
        with pytest.raises(simplemr.JobDefinitionError, match="task_timeout must be a number"):
            simplemr.MapReduce(slow, count, task_timeout=wrong)  # type: ignore[arg-type]
    assert simplemr.MapReduce(slow, count, task_timeout=0).executor.task_timeout is None


def slow_values(key: int, values: object) -> tuple[int, int]:
    total = 0
    for value in values:  # type: ignore[attr-defined]
        time.sleep(0.01)
        total += value
    return key, total


@pytest.mark.timeout(120)
def test_a_reducer_slowly_reading_one_big_key_is_not_stuck() -> None:
    job = simplemr.MapReduce(lambda n: [(0, 1)], slow_values, workers=2, task_timeout=1.5)
    result = job.run(range(300))  # 3 s in one key, a value every 10 ms
    assert result.results == [(0, 300)]
    assert result.counters["tasks.retries"] == 0


STOPPABLE = """
import sys, time, simplemr

def slow(n):
    time.sleep(0.3)
    return [(n % 2, 1)]

if __name__ == "__main__":
    job = simplemr.MapReduce(slow, lambda k, v: (k, sum(v)), workers=2, task_timeout=2)
    print("started", flush=True)
    result = job.run(range(40), chunksize=4)  # 10 tasks of 1.2 s
    print(sorted(result.results), result.counters["tasks.retries"], flush=True)
"""


@pytest.mark.timeout(120)
@pytest.mark.parametrize("stopped", ["driver", "group"])
def test_a_driver_stopped_longer_than_the_task_timeout_kills_no_worker(
    tmp_path: Path, started: StartedProcesses, stopped: str
) -> None:
    # Stopped alone (SIGSTOP), the driver finds replies waiting; stopped with its
    # workers (Ctrl-Z stops the whole group), it finds every heartbeat old: neither
    # is a stalled task.
    script = tmp_path / "job.py"
    script.write_text(STOPPABLE)
    process = started([sys.executable, str(script)], stdout=subprocess.PIPE,
                      start_new_session=True)  # fmt: skip
    assert process.stdout is not None
    assert process.stdout.readline() == b"started\n"
    time.sleep(2)  # the workers at work
    if stopped == "driver":
        os.kill(process.pid, signal.SIGSTOP)
    else:
        os.killpg(process.pid, signal.SIGSTOP)
    time.sleep(5)  # longer than the task timeout
    os.killpg(process.pid, signal.SIGCONT)
    out, _ = process.communicate(timeout=90)
    assert process.returncode == 0
    assert out.decode().splitlines() == ["[(0, 20), (1, 20)] 0"]
