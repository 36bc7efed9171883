"""The budget's arithmetic: sizes read and written, and what a table of values is
estimated to hold."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from simplemr.memory import MiB, cgroup_memory_limits, format_size, parse_size
from simplemr.shuffle.table import SizeEstimator, deep_size


@pytest.mark.parametrize(
    ("text", "size"),
    [("512MB", 512_000_000), ("1.5GiB", 1536 * 1024**2), ("1000", 1000), (" 2 kib ", 2048)],
)
def test_sizes_are_read_with_or_without_units(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize(
    ("value", "message"), [("lots", "cannot read"), (0, "positive"), (True, "size like")]
)
def test_a_size_that_is_not_one_says_how_to_write_it(value: object, message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        parse_size(value)  # type: ignore[arg-type]


def test_sizes_are_written_for_people() -> None:
    assert format_size(512) == "512 B"
    assert format_size(1536 * 1024) == "1.5 MiB"


def _fresh_text(n: int) -> str:
    return "".join(chr(ord("a") + i % 26) for i in range(n))


def _full(*objects: object) -> int:
    return sum(sys.getsizeof(obj) for obj in objects)


def test_objects_held_only_by_their_value_are_charged_in_full() -> None:
    pair = (_fresh_text(40), 10**6 + len(sys.argv))
    assert deep_size(pair) == _full(pair, *pair)
    items = [_fresh_text(30), _fresh_text(50)]
    assert deep_size(items) == _full(items, *items)
    nested = [[_fresh_text(100)], (_fresh_text(7), 10**9 + len(sys.argv))]
    assert deep_size(nested) == _full(nested, *nested, *nested[0], *nested[1])


def test_a_few_passing_references_do_not_make_an_object_shared() -> None:
    # Paused at ``yield``, a mapper still holds the list a line was split into.
    fields = [_fresh_text(20), _fresh_text(30)]
    held_also_by = [fields[0]] * 5
    value = (fields[0], fields[1])
    assert deep_size(value) == _full(value, *value)
    del held_also_by  # held until the size was taken


def test_an_object_every_value_shares_is_charged_only_its_share() -> None:
    name = _fresh_text(200)
    values = [(name, 10**6 + line) for line in range(1000)]
    alone = sys.getsizeof(values[0]) + sys.getsizeof(values[0][1])
    assert alone < deep_size(values[500]) <= alone + sys.getsizeof(name) / 1000
    # A thousand values estimated from one: close to what they really take.
    estimator = SizeEstimator()
    estimator.sample_value(values[500])
    assert estimator.estimate(0, 1000) < 1000 * (alone + 8) + sys.getsizeof(name)


def _cgroup_tree(tmp_path: Path, membership: str, limits: dict[str, str]) -> tuple[str, str]:
    """A /proc/self/cgroup and a cgroup mount of our own: ``limits`` maps a file
    under the mount to its content."""
    (tmp_path / "cgroup").write_text(membership)
    for name, text in limits.items():
        path = tmp_path / "fs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    return str(tmp_path / "cgroup"), str(tmp_path / "fs")


def test_a_memory_cgroup_v2_limit_counts_and_so_do_those_above(tmp_path: Path) -> None:
    membership, root = _cgroup_tree(
        tmp_path,
        "0::/jobs/one\n",
        {"jobs/one/memory.max": "max", "jobs/memory.max": "268435456", "memory.max": "max"},
    )
    assert cgroup_memory_limits(membership, root) == [256 * MiB]


def test_a_memory_cgroup_v1_limit_counts_and_unlimited_is_none(tmp_path: Path) -> None:
    membership, root = _cgroup_tree(
        tmp_path,
        "9:pids:/\n4:memory:/box\n1:cpu,cpuacct:/\n",
        {
            "memory/box/memory.limit_in_bytes": str(300 * MiB),
            "memory/memory.limit_in_bytes": "9223372036854771712",
        },
    )
    assert cgroup_memory_limits(membership, root) == [300 * MiB]


def test_no_cgroup_files_means_no_limit(tmp_path: Path) -> None:
    assert cgroup_memory_limits(str(tmp_path / "absent"), str(tmp_path)) == []
    membership, root = _cgroup_tree(tmp_path, "0::/\nnonsense\n", {})
    assert cgroup_memory_limits(membership, root) == []


V1_MEMORY = Path("/sys/fs/cgroup/memory")


@pytest.mark.skipif(
    os.geteuid() != 0 or not (V1_MEMORY / "cgroup.procs").exists(),
    reason="needs root and a cgroup v1 memory controller",
)
def test_the_default_budget_stays_inside_a_real_memory_cgroup(tmp_path: Path) -> None:
    """A job started in a 256 MiB cgroup (a container's, as the kernel sees it) takes
    a quarter of that, not of the machine's RAM, whatever the machine has."""
    group = V1_MEMORY / f"simplemr-test-{os.getpid()}"
    group.mkdir()
    try:
        (group / "memory.limit_in_bytes").write_text(str(256 * MiB))
        script = (
            "from simplemr.memory import available_memory, default_budget;"
            "print(available_memory(), default_budget(2))"
        )
        procs = str(group / "cgroup.procs")

        def join() -> None:
            with open(procs, "w") as file:
                file.write(str(os.getpid()))

        shown = subprocess.run(
            [sys.executable, "-c", script],
            preexec_fn=join,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout.split()
        assert [int(n) for n in shown] == [256 * MiB, 2 * (256 * MiB // 8)]
    finally:
        group.rmdir()  # its one process has ended: the cgroup is empty


def test_blocks_shrink_with_a_small_budget() -> None:
    from simplemr.io.textfiles import BLOCK_SIZE, block_size

    assert block_size(None) == block_size(96 * MiB) == BLOCK_SIZE == 2 * MiB
    assert block_size(2 * MiB) == 128 * 1024
    assert block_size(100) == 64 * 1024


def test_a_small_budget_bounds_what_a_word_count_worker_holds(tmp_path: Path) -> None:
    """Word count's worker holds its blocks and its task's raw tokens in proportion to
    its budget: with 4 MiB, 10 MB of many distinct words take it little above what a
    line of input does (the tokens held would otherwise reach tens of MiB)."""
    import random

    import simplemr
    from simplemr.examples import wordcount

    chance = random.Random(7)
    words = ["".join(chance.choices("abcdefghij", k=7)) for _ in range(300_000)]
    lines = "".join(" ".join(words[n : n + 10]) + "\n" for n in range(0, len(words), 10))
    (tmp_path / "big").mkdir()
    (tmp_path / "big" / "words.txt").write_text(lines * 4)
    (tmp_path / "small").mkdir()
    (tmp_path / "small" / "words.txt").write_text(lines[:80])

    def peak(folder: str) -> int:
        job = wordcount.job(workers=1, memory="4MiB")
        result = job.run(simplemr.text_files(tmp_path / folder))
        return max(event.peak_rss for event in result.events if event.phase == "map")

    grew = peak("big") - peak("small")
    assert grew < 24 * MiB, f"{grew / MiB:.0f} MiB above a small input's peak"
