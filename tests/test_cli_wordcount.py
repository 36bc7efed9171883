"""`simplemr wordcount` end to end: inputs of every kind, --output, exit codes, stderr."""

from __future__ import annotations

import bz2
import fcntl
import gzip
import json
import lzma
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import time
from collections import Counter
from pathlib import Path

import psutil
import pytest
from conftest import StartedProcesses

from simplemr.examples.wordcount import count_line

TEXT = "Pear, apple; pear!\n.. pear pear pear\n  .. indented comment\nFig fig FIG the a\n"


def run_cli(*args: str, stdin: bytes | None = None, env: dict | None = None):
    return subprocess.run(
        [sys.executable, "-m", "simplemr", "wordcount", "--workers", "2", *args],
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def slow_counts(*paths: Path) -> Counter[str]:
    total: Counter[str] = Counter()
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as file:
            for line in file:
                total += count_line(line.rstrip("\n"))
    return total


def tsv_counts(path: Path) -> dict[str, int]:
    pairs = (line.split("\t") for line in path.read_text(encoding="utf-8").splitlines())
    return {word: int(count) for word, count in pairs}


def test_a_folder_with_compressed_files_and_the_top_table(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    (folder / "deeper").mkdir(parents=True)
    (folder / "plain.txt").write_text(TEXT)
    with gzip.open(folder / "deeper" / "a.txt.gz", "wt") as file:
        file.write(TEXT)
    with bz2.open(folder / "b.txt.bz2", "wt") as file:
        file.write(TEXT)
    with lzma.open(folder / "c.txt.xz", "wt") as file:
        file.write(TEXT)
    (folder / ".hidden.txt").write_text("secret " * 100)
    done = run_cli(str(folder), "--top", "3")
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == (
        "\nTOP 3 WORDS BY FREQUENCY\n\nfig   :    12\npear  :     8\napple :     4\n"
    )
    assert done.stderr == b""


def test_stdin(tmp_path: Path) -> None:
    done = run_cli("-", "--top", "2", stdin=TEXT.encode())
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().splitlines()[3:] == ["fig  :     3", "pear :     2"]


@pytest.mark.parametrize(("suffix", "option"), [(".tsv", "--output"), (".jsonl", "-o"), ("", "-o")])
def test_output_holds_every_count(tmp_path: Path, suffix: str, option: str) -> None:
    source = tmp_path / "text.txt"
    source.write_text(TEXT * 50 + "zebra\n")
    target = tmp_path / f"counts{suffix}"
    done = run_cli(str(source), option, str(target), "--partitions", "3")
    assert done.returncode == 0, done.stderr
    expected = dict(slow_counts(source))
    if suffix == ".tsv":
        assert tsv_counts(target) == expected
    elif suffix == ".jsonl":
        lines = target.read_text().splitlines()
        assert dict(json.loads(line) for line in lines) == expected
    else:
        assert sorted(p.name for p in target.iterdir()) == [
            "_SUCCESS", "part-00000", "part-00001", "part-00002",
        ]  # fmt: skip
        counts: dict[str, int] = {}
        for part in sorted(target.glob("part-*")):
            counts.update(tsv_counts(part))
        assert counts == expected
    assert "TOP 20 WORDS BY FREQUENCY" in done.stdout.decode()


def test_stdin_is_called_stdin_in_messages() -> None:
    done = run_cli("-", stdin=b"caf\xe9 ok\n")
    assert done.returncode == 0, done.stderr
    assert done.stderr.decode() == (
        "simplemr: warning: <stdin>: 1 undecodable byte sequence replaced with U+FFFD\n"
    )


def test_no_path_with_piped_stdin_counts_the_sample_and_says_so() -> None:
    done = run_cli(stdin=b"zebra zebra\n")
    assert done.returncode == 0, done.stderr
    assert "zebra" not in done.stdout.decode()
    assert "to count standard input, pass -" in done.stderr.decode()


def test_a_closed_pipe_is_not_an_error_wall(tmp_path: Path) -> None:
    source = tmp_path / "text.txt"
    letters = ("".join(chr(ord("a") + int(d)) for d in f"{n:06d}") for n in range(200_000))
    source.write_text(" ".join(letters))  # 200,000 distinct words: far more than a pipe holds
    command = (
        f"{sys.executable} -m simplemr wordcount {source} --output - | head -1; "
        "exit ${PIPESTATUS[0]}"
    )
    done = subprocess.run(["bash", "-c", command], capture_output=True, timeout=120)
    assert done.returncode == 141
    assert b"Traceback" not in done.stderr
    assert len(done.stdout.splitlines()) == 1


def test_output_to_stdout_is_tsv_only(tmp_path: Path) -> None:
    source = tmp_path / "text.txt"
    source.write_text(TEXT)
    done = run_cli(str(source), "--output", "-")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.decode().splitlines()
    assert dict((w, int(c)) for w, c in (line.split("\t") for line in lines)) == {
        "pear": 2, "apple": 1, "fig": 3,
    }  # fmt: skip


def test_overwrite_needs_output_and_never_replaces_an_input(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(TEXT)
    done = run_cli(str(folder), "--overwrite")
    assert (done.returncode, done.stderr) == (
        2,
        b"simplemr: error: --overwrite goes with --output\n",
    )
    done = run_cli(str(folder), "--output", str(folder), "--overwrite")
    assert done.returncode == 2
    assert b"would replace the input" in done.stderr
    assert (folder / "a.txt").read_text() == TEXT


def test_existing_output_is_refused_before_the_job_unless_overwrite(tmp_path: Path) -> None:
    source = tmp_path / "text.txt"
    source.write_text(TEXT)
    target = tmp_path / "counts.tsv"
    target.write_text("old\n")
    done = run_cli(str(source), "--output", str(target))
    assert done.returncode == 2
    assert b"already exists" in done.stderr and b"--overwrite" in done.stderr
    assert target.read_text() == "old\n"
    done = run_cli(str(source), "--output", str(target), "--overwrite")
    assert done.returncode == 0, done.stderr
    assert tsv_counts(target) == {"pear": 2, "apple": 1, "fig": 3}


def test_undecodable_bytes_are_replaced_and_reported_once_per_file(tmp_path: Path) -> None:
    source = tmp_path / "latin.txt"
    source.write_bytes(b"caf\xe9 caf\xe9 plain words\n" * 1000)
    done = run_cli(str(source), "--top", "3")
    assert done.returncode == 0, done.stderr
    stderr = done.stderr.decode()
    assert stderr.count("latin.txt: 2000 undecodable byte sequences replaced") == 1
    assert "caf" not in done.stdout.decode()


def test_verbose_says_which_worker_reads_what(tmp_path: Path) -> None:
    for name in "ab":
        (tmp_path / f"{name}.txt").write_text(TEXT)
    done = run_cli(str(tmp_path), "--verbose")
    assert done.returncode == 0, done.stderr
    lines = sorted(done.stderr.decode().splitlines())
    assert [line.split(" reading ")[1] for line in lines] == [
        str(tmp_path / "a.txt"), str(tmp_path / "b.txt"),
    ]  # fmt: skip
    assert all(line.startswith("Worker-") for line in lines)


def test_progress_only_when_asked_or_on_a_terminal(tmp_path: Path) -> None:
    source = tmp_path / "text.txt"
    source.write_text(TEXT)
    quiet = run_cli(str(source))
    assert quiet.stderr == b""
    shown = run_cli(str(source), "--progress")
    assert b"map" in shown.stderr and b"reduce" in shown.stderr
    assert shown.stdout == quiet.stdout
    assert run_cli(str(source), "--no-progress").stderr == b""


def test_progress_by_default_on_a_terminal(tmp_path: Path) -> None:
    source = tmp_path / "text.txt"
    source.write_text(TEXT)
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "simplemr", "wordcount", str(source)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=follower, timeout=120,
        )  # fmt: skip
        os.close(follower)
        drawn = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal's other end is closed: all read
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(leader)
    assert done.returncode == 0
    assert b"map" in drawn and b"reduce" in drawn


def test_the_recipes_own_files_count_exactly(pymotw_rst: list[Path], tmp_path: Path) -> None:
    target = tmp_path / "counts.tsv"
    done = run_cli(*map(str, pymotw_rst), "--output", str(target))
    assert done.returncode == 0, done.stderr
    assert tsv_counts(target) == dict(slow_counts(*pymotw_rst))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/no/such/file.txt"], "no such file or folder: '/no/such/file.txt'"),
        (
            ["--memory", "lots"],
            "--memory: cannot read 'lots' as a size: use a number with an optional unit, "
            "e.g. '512MB', '2GiB' or '800000000'",
        ),
        (
            ["--encoding", "klingon"],
            "unknown encoding 'klingon': name one Python knows, such as 'utf-8', 'latin-1' "
            "or 'utf-16'",
        ),
        *(
            (
                ["--encoding", codec],
                f"'{codec}' is not an encoding of text files: name one such as 'utf-8', "
                "'latin-1' or 'utf-16'",
            )
            for codec in ("rot13", "hex", "zlib", "idna", "punycode")
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    done = run_cli(*args)
    assert done.returncode == 2
    assert done.stderr.decode() == f"simplemr: error: {message}\n"


def test_bad_tmp_dir_variable_is_named(tmp_path: Path) -> None:
    done = run_cli(env={"SIMPLEMR_TMPDIR": str(tmp_path / "missing")})
    assert done.returncode == 2
    assert "$SIMPLEMR_TMPDIR" in done.stderr.decode()
    assert done.stderr.count(b"\n") == 1


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("sent", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupt_stops_everything_and_cleans_up(
    tmp_path: Path, started: StartedProcesses, sent: int, status: int
) -> None:
    big = tmp_path / "big.txt"
    chunk = b"the quick brown fox jumps over the lazy dog, again and again\n" * 16_384
    with open(big, "wb") as file:
        for _ in range(100):  # 100 MB: tens of seconds of work
            file.write(chunk)
    root = tmp_path / "root"
    root.mkdir()
    target = tmp_path / "counts"
    process = started(
        [sys.executable, "-m", "simplemr", "wordcount", str(big), "--workers", "2",
         "--memory", "2MiB", "--tmp-dir", str(root), "--output", str(target)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not any(root.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    children = psutil.Process(process.pid).children(recursive=True)
    assert len(children) >= 2  # at least the workers
    process.send_signal(sent)
    started = time.monotonic()
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == status, stderr
    assert time.monotonic() - started < 10
    _, alive = psutil.wait_procs(children, timeout=5)
    assert alive == []
    assert list(root.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.txt", "root"]  # no output
    assert (
        stderr.decode().strip()
        == {130: "simplemr: interrupted", 143: "simplemr: terminated"}[status]
    )
