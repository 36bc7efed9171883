"""What counts as a lost attempt, and what as the user's error.

A worker killed while it starts is a lost attempt like any other: it is started again.
``SystemExit`` and ``KeyboardInterrupt`` raised by user code in a worker fail the task
once, as the user's error, instead of killing worker after worker.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import simplemr


def exit_on_three(item: int) -> list[tuple[int, int]]:
    if item == 3:
        sys.exit("no threes")
    return [(item, 1)]


def interrupt_on_three(item: int) -> list[tuple[int, int]]:
    if item == 3:
        raise KeyboardInterrupt
    return [(item, 1)]


def count(key: int, ones: object) -> tuple[int, int]:
    return key, sum(ones)  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("mapper", "said"),
    [(exit_on_three, "SystemExit: no threes"), (interrupt_on_three, "KeyboardInterrupt")],
)
def test_system_exit_and_keyboard_interrupt_in_a_worker_are_the_users_errors(
    mapper: object, said: str
) -> None:
    job = simplemr.MapReduce(mapper, count, workers=2, max_attempts=4)
    with pytest.raises(
        simplemr.TaskFailedError, match=rf"failed on item 3 \(3\): the mapper raised {said}$"
    ):
        job.run([1, 2, 3])


def test_inline_system_exit_fails_the_task_but_an_interrupt_stops_the_job() -> None:
    job = simplemr.MapReduce(exit_on_three, count, executor="inline")
    with pytest.raises(simplemr.TaskFailedError, match="the mapper raised SystemExit: no threes"):
        job.run([1, 2, 3])
    interrupted = simplemr.MapReduce(interrupt_on_three, count, executor="inline")
    with pytest.raises(KeyboardInterrupt):
        interrupted.run([1, 2, 3])


def test_a_mapper_calling_sys_exit_is_one_line_on_the_command_line(tmp_path: Path) -> None:
    job = tmp_path / "exits.py"
    job.write_text(
        "import sys, simplemr\n\n"
        "class Exits(simplemr.Job):\n"
        "    def mapper(self, _, line):\n"
        "        sys.exit(f'stop at {line}')\n"
    )
    (tmp_path / "in.txt").write_text("first\n")
    done = subprocess.run(
        [sys.executable, "-m", "simplemr", "run", str(job), str(tmp_path / "in.txt")],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr == (
        f"simplemr: error: map task 1 of 1 failed on {tmp_path / 'in.txt'}, line 1: "
        "the mapper raised SystemExit: stop at first\n"
    )


class _DiesOnLoad:
    """Unpickled in a worker, kills that worker the first time ``armed`` exists and
    ``done`` does not (then creates ``done``): a worker killed while it starts.
    In a worker that lives, it is the number 1."""

    def __init__(self, armed: str, done: str) -> None:
        self.armed, self.done = armed, done

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return _die_once, (self.armed, self.done)


def _die_once(armed: str, done: str) -> int:
    if os.path.exists(armed):
        try:
            os.close(os.open(done, os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return 1
        os.kill(os.getpid(), signal.SIGKILL)
    return 1


def test_a_worker_killed_while_it_starts_is_started_again(tmp_path: Path) -> None:
    (tmp_path / "armed").touch()
    trap = _DiesOnLoad(str(tmp_path / "armed"), str(tmp_path / "died"))
    job = simplemr.MapReduce(lambda item: [(item % 3, trap)], count, workers=2)
    assert sorted(job.run(range(30)).results) == [(0, 10), (1, 10), (2, 10)]
    assert (tmp_path / "died").exists()


def test_a_replacement_killed_while_it_starts_loses_nothing(tmp_path: Path) -> None:
    armed, died = tmp_path / "armed", tmp_path / "died"
    trap = _DiesOnLoad(str(armed), str(died))

    def kill_once(item: int) -> list[tuple[int, int]]:
        if item == 7 and not os.path.exists(armed):
            armed.touch()  # the replacement will be killed as it starts
            os.kill(os.getpid(), signal.SIGKILL)
        return [(item % 3, trap)]

    job = simplemr.MapReduce(kill_once, count, workers=2, max_attempts=2)
    result = job.run(range(30), chunksize=5)
    assert sorted(result.results) == [(0, 10), (1, 10), (2, 10)]
    assert died.exists()
    assert result.counters["tasks.retries"] == 1
