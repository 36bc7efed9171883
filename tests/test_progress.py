"""The map bar moves while map tasks run, from what they have read, so a job over
one big file does not look hung until its task ends."""

from __future__ import annotations

import gzip
import io
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import simplemr
from simplemr import counters as C
from simplemr.memory import MiB
from simplemr.observe.progress import Progress, TerminalProgress


def test_the_bar_shows_what_running_tasks_have_read() -> None:
    out = io.StringIO()
    bar = TerminalProgress(out)
    bar.LOOK_EVERY = 0.05
    bar.phase_started("map", None, 10 * MiB, reading=lambda: 4 * MiB)
    deadline = time.monotonic() + 30
    while "4.0/10.0 MiB" not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "4.0/10.0 MiB" in out.getvalue()
    bar.task_done("map", {C.INPUT_BYTES: 3 * MiB})  # less than shown: the bar stays
    bar.task_done("map", {C.INPUT_BYTES: 7 * MiB})
    bar.close()
    assert "10.0/10.0 MiB" in out.getvalue()
    assert "3.0/10.0" not in out.getvalue()


class Sampled(Progress):
    """Samples ``reading()`` while the map phase runs, until its first task ends."""

    def __init__(self) -> None:
        self.samples: list[int] = []
        self.stop = threading.Event()

    def phase_started(
        self,
        phase: str,
        total_tasks: int | None,
        total_bytes: int | None,
        reading: Callable[[], int | None] | None = None,
    ) -> None:
        if phase == "map" and reading is not None:
            threading.Thread(target=self.sample, args=(reading,), daemon=True).start()

    def sample(self, reading: Callable[[], int | None]) -> None:
        while not self.stop.wait(0.1):
            self.samples.append(reading() or 0)

    def task_done(self, phase: str, counters: dict[str, int]) -> None:
        self.stop.set()

    def close(self) -> None:
        self.stop.set()


def slow_on_marks(line: str) -> list[tuple[str, int]]:
    if line.startswith("mark"):
        time.sleep(0.4)
    return [(line[:1], 1)]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("executor", ["local", "inline"])
def test_a_running_map_task_says_what_it_has_read(executor: str, tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    write_marked(path)
    moved = [sample for sample in sampled(path, executor) if sample > 0]
    assert moved
    assert moved == sorted(moved) and moved[-1] <= path.stat().st_size


def test_a_compressed_file_is_not_counted_in_its_decompressed_bytes(tmp_path: Path) -> None:
    plain = tmp_path / "big.txt"
    write_marked(plain)
    packed = tmp_path / "big.txt.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes(), compresslevel=1))
    samples = sampled(packed, "inline")
    assert samples and set(samples) == {0}  # the bar moves as the task ends, not beyond


def write_marked(path: Path) -> None:
    block = "x" * 99 + "\n"
    with open(path, "w") as file:
        for number in range(8):  # 8 MiB, about 4 blocks; a mark every MiB
            file.write(f"mark {number}\n")
            file.write(block * (MiB // 100))


def sampled(path: Path, executor: str) -> list[int]:
    """What the running map task said it had read, sampled until it ended."""
    progress = Sampled()
    job = simplemr.MapReduce(
        slow_on_marks, lambda key, ones: (key, sum(ones)), executor=executor,
        workers=None if executor == "inline" else 1,
    )  # fmt: skip
    result = job.run(simplemr.text_files(str(path), split_size=64 * MiB), progress=progress)
    assert result.counters["tasks.map"] == 1  # one task, 3.2 s: reading moves inside it
    return progress.samples
