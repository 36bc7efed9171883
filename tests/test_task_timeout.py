"""A task that makes no progress for ``task_timeout`` seconds is killed and run again:
a mapper stuck on one record, a worker stopped with SIGSTOP. A slow task that moves
(a record at a time) is left alone."""

from __future__ import annotations

import os
import signal
import threading
import time

import psutil
import pytest

import simplemr


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


@pytest.mark.timeout(120)
def test_a_stopped_worker_is_replaced_and_nothing_is_lost() -> None:
    job = simplemr.MapReduce(slow, count, workers=2, task_timeout=1.5)
    me = psutil.Process()

    def stop_a_worker() -> None:
        time.sleep(1.0)
        workers = [p for p in me.children(recursive=True) if "forkserver" in " ".join(p.cmdline())]
        busy = [p for p in workers if p.ppid() != me.pid]  # forked by the fork server
        os.kill(busy[0].pid, signal.SIGSTOP)

    stopper = threading.Thread(target=stop_a_worker)
    stopper.start()
    result = job.run(range(40), chunksize=4)
    stopper.join()
    assert sorted(result.results) == [(0, 20), (1, 20)]
    assert result.counters["tasks.retries"] >= 1


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
