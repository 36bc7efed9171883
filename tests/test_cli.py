"""The command line: what it prints and its exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import simplemr
from simplemr.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simplemr", *args], capture_output=True, text=True, timeout=120
    )


def test_wordcount_with_no_path_counts_the_bundled_sample() -> None:
    done = run_cli("wordcount")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:3] == ["", "TOP 20 WORDS BY FREQUENCY", ""]
    assert len(lines) == 23
    counts = [int(line.rsplit(":", 1)[1]) for line in lines[3:]]
    assert counts == sorted(counts, reverse=True)


def test_wordcount_top_and_paths(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.txt").write_text("pear apple pear\n.. pear pear pear\nfig\n")
    assert main(["wordcount", "--top", "2", "--executor", "inline", str(tmp_path)]) == 0
    assert capsys.readouterr().out == "\nTOP 2 WORDS BY FREQUENCY\n\npear  :     2\napple :     1\n"


def test_missing_path_is_one_clear_line_and_exit_2() -> None:
    done = run_cli("wordcount", "/no/such/file.txt")
    assert done.returncode == 2
    assert done.stderr == "simplemr: error: no such file or folder: '/no/such/file.txt'\n"
    assert done.stdout == ""


def test_bad_usage_exits_2() -> None:
    done = run_cli("wordcount", "--top", "0")
    assert done.returncode == 2
    assert "expected a positive integer" in done.stderr


def test_more_workers_than_a_machine_can_run_are_refused_in_words() -> None:
    from simplemr.executors.limits import MAX_WORKERS_PER_CORE, available_cores

    ceiling = MAX_WORKERS_PER_CORE * available_cores()
    done = run_cli("wordcount", "--workers", "100000")
    assert done.returncode == 2
    assert done.stderr == (
        "simplemr: error: --workers 100000 is more processes than this machine can run: it "
        f"has {available_cores()} cores; ask for at most {ceiling} ({MAX_WORKERS_PER_CORE} "
        "a core), or fewer\n"
    )
    with pytest.raises(simplemr.JobDefinitionError, match="more processes than this machine"):
        simplemr.MapReduce(lambda n: [(n, 1)], lambda k, v: (k, sum(v)), workers=ceiling + 1)


def test_version() -> None:
    done = run_cli("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"simplemr {simplemr.__version__} ({simplemr.core.NAME})"
