"""``simplemr streaming``: Hadoop Streaming's command line, any executable as mapper and
reducer, as the tutorials write them (a mapper.py and a reducer.py shipped with -file)."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

MAPPER = """\
import sys

for line in sys.stdin:
    for word in line.split():
        print(f"{word}\\t1")
"""

# The tutorials' reducer: its input comes sorted by key, so equal words are adjacent.
REDUCER = """\
import sys

current, count = None, 0
for line in sys.stdin:
    word, value = line.rstrip("\\n").split("\\t", 1)
    if word == current:
        count += int(value)
        continue
    if current is not None:
        print(f"{current}\\t{count}")
    current, count = word, int(value)
if current is not None:
    print(f"{current}\\t{count}")
"""

TEXT = "the quick brown fox\njumps over the lazy dog\nthe end\n" * 40


def streaming(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simplemr", "streaming", *args],
        capture_output=True, text=True, cwd=cwd, timeout=240,
    )  # fmt: skip


def parts(folder: Path) -> list[list[str]]:
    return [part.read_text().splitlines() for part in sorted(folder.glob("part-*"))]


@pytest.fixture
def tutorial(tmp_path: Path) -> Path:
    (tmp_path / "mapper.py").write_text(MAPPER)
    (tmp_path / "reducer.py").write_text(REDUCER)
    (tmp_path / "books").mkdir()
    (tmp_path / "books" / "a.txt").write_text(TEXT)
    (tmp_path / "books" / "b.txt").write_text(TEXT.upper())
    return tmp_path


def test_the_tutorial_word_count_runs_as_on_hadoop(tutorial: Path) -> None:
    done = streaming(
        "-input", "books/a.txt", "-input", "books/b.txt", "-output", "counts",
        "-mapper", f"{sys.executable} mapper.py", "-reducer", f"{sys.executable} reducer.py",
        "-file", "mapper.py", "-file", "reducer.py", "-numReduceTasks", "3", "--workers", "2",
        cwd=tutorial,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    output = parts(tutorial / "counts")
    assert len(output) == 3 and (tutorial / "counts" / "_SUCCESS").exists()
    counts = Counter((TEXT + TEXT.upper()).split())
    got = [line.split("\t") for part in output for line in part]
    assert sorted((word, int(count)) for word, count in got) == sorted(counts.items())


def test_without_a_reducer_lines_pass_through_sorted_and_with_none_unsorted(
    tutorial: Path,
) -> None:
    mapper = ["-mapper", f"{sys.executable} mapper.py", "-file", "mapper.py"]
    done = streaming("-input", "books/a.txt", "-output", "sorted", *mapper, cwd=tutorial)
    assert done.returncode == 0, done.stderr
    for part in parts(tutorial / "sorted"):
        keys = [line.split("\t")[0] for line in part]
        assert keys == sorted(keys)  # Hadoop's identity reducer: each part sorted by key
    done = streaming(
        "-input", "books/a.txt", "-output", "mapped", *mapper, "-numReduceTasks", "0",
        cwd=tutorial,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = [line for part in parts(tutorial / "mapped") for line in part]
    assert sorted(lines) == sorted(f"{word}\t1" for word in TEXT.split())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-input", "books/a.txt", "-output", "out"], "usage: simplemr streaming -input PATH"),
        (
            ["-input", "books/a.txt", "-output", "out", "-mapper", "cat", "-partitioner", "x"],
            "-partitioner names a Java class, which only Hadoop runs",
        ),
        (
            ["-input", "books/a.txt", "-output", "out", "-mapper", "cat", "-numReduceTasks", "-1"],
            "-numReduceTasks must be 0 or more, got -1",
        ),
    ],
)
def test_a_bad_command_line_is_refused_in_one_line(
    tutorial: Path, args: list[str], message: str
) -> None:
    done = streaming(*args, cwd=tutorial)
    assert done.returncode == 2
    assert message in done.stderr
    assert not (tutorial / "out").exists()


def test_an_existing_output_is_refused_and_left_as_it_was(tutorial: Path) -> None:
    (tutorial / "out").mkdir()
    (tutorial / "out" / "keep.txt").write_text("mine\n")
    done = streaming("-input", "books/a.txt", "-output", "out", "-mapper", "cat", cwd=tutorial)
    assert done.returncode == 2
    assert "the output 'out' exists: like Hadoop, simplemr streaming writes a new folder" in (
        done.stderr
    )
    assert sorted(path.name for path in (tutorial / "out").iterdir()) == ["keep.txt"]


def test_a_failing_mapper_fails_the_job_naming_the_command(tutorial: Path) -> None:
    done = streaming("-input", "books/a.txt", "-output", "out", "-mapper", "false", cwd=tutorial)
    assert done.returncode == 1
    assert "false" in done.stderr and "Traceback" not in done.stderr
    assert not (tutorial / "out" / "_SUCCESS").exists()
