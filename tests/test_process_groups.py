"""Processes a task starts end with its worker (executors/local.py): each worker leads
a process group, and the driver ends the group, not the worker alone, whenever a
worker goes: the job ends, fails, is stopped by a signal, or a task times out."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

import simplemr

pytestmark = pytest.mark.skipif(not hasattr(os, "killpg"), reason="no process groups here")


def _wait_for_pids(folder: Path, count: int, within: float = 60.0) -> list[int]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        pids = [int(p.read_text()) for p in folder.glob("*.pid") if p.read_text().strip()]
        if len(pids) >= count:
            return pids
        time.sleep(0.05)
    raise AssertionError(f"{count} processes did not start within {within} s")


def _gone(pids: list[int], within: float = 30.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        alive = [pid for pid in pids if psutil.pid_exists(pid) and
                 psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]  # fmt: skip
        if not alive:
            return True
        time.sleep(0.05)
    for pid in pids:  # the test ends what it started, also when it fails
        with __import__("contextlib").suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return False


def _leaving_a_sleeper(folder: str):
    """A mapper that starts a long ``sleep`` of its own and returns, as a mapper that
    forgets a child process does."""

    def mapper(line: str) -> list[tuple[str, int]]:
        child = subprocess.Popen(["sleep", "600"])
        Path(folder, f"{child.pid}.pid").write_text(str(child.pid))
        return [(line, 1)]

    return mapper


def test_a_mappers_own_child_processes_end_with_the_job(tmp_path: Path) -> None:
    job = simplemr.MapReduce(_leaving_a_sleeper(str(tmp_path)), lambda k, v: (k, sum(v)),
                             workers=2)  # fmt: skip
    assert dict(job.run(["a", "b", "a"], chunksize=1)) == {"a": 2, "b": 1}
    pids = _wait_for_pids(tmp_path, 3)
    assert _gone(pids), "the mapper's children outlived the job"


def _failing_after_a_sleeper(folder: str):
    def mapper(line: str) -> list[tuple[str, int]]:
        if line == "fail":
            _wait_for_pids(Path(folder), 1)
            raise ValueError("this task fails")
        child = subprocess.Popen(["sleep", "600"])
        Path(folder, f"{child.pid}.pid").write_text(str(child.pid))
        time.sleep(600)  # a long task, cut short by the other's failure
        return [(line, 1)]

    return mapper


def test_another_tasks_failure_ends_what_a_running_task_started(tmp_path: Path) -> None:
    job = simplemr.MapReduce(_failing_after_a_sleeper(str(tmp_path)), lambda k, v: (k, sum(v)),
                             workers=2)  # fmt: skip
    with pytest.raises(simplemr.TaskFailedError, match="this task fails"):
        job.run(["slow", "fail"], chunksize=1)
    assert _gone(_wait_for_pids(tmp_path, 1)), "the running task's child outlived the job"


MRJOB_WITH_A_COMMAND = textwrap.dedent(
    """
    from mrjob.job import MRJob
    from mrjob.step import MRStep

    class SlowCommand(MRJob):
        def steps(self):
            return [MRStep(mapper_cmd="sh -c 'sleep 600 & echo $! > {folder}/$$.pid; wait'")]

    if __name__ == "__main__":
        SlowCommand.run()
    """
)


def test_sigterm_ends_an_mrjob_command_and_its_children(tmp_path: Path, started) -> None:
    job = tmp_path / "slow_command.py"
    job.write_text(MRJOB_WITH_A_COMMAND.replace("{folder}", str(tmp_path)))
    (tmp_path / "in.txt").write_text("a\nb\n")
    command = [sys.executable, "-m", "simplemr", "mrjob", str(job), str(tmp_path / "in.txt"),
               "--workers", "1"]  # fmt: skip
    driver = started(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    pids = _wait_for_pids(tmp_path, 1)
    commands = [child.pid for child in psutil.Process(pids[0]).parents()[:1]]  # the sh
    driver.send_signal(signal.SIGTERM)
    driver.communicate(timeout=60)
    assert driver.returncode != 0
    assert _gone(pids + commands), "the command and its sleep outlived the job"
