"""A hostile environment gets one clear line, never a traceback: standard output
closed, file names that are not UTF-8, no room for standard input."""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

INDEX = """
import simplemr

class Index(simplemr.Job):
    INPUT_FORMAT = "file"

    def mapper(self, _, record):
        name, data = record
        for word in data.split():
            yield word.decode(), name

    def reducer(self, word, names):
        yield word, sorted(names)
"""


def simplemr(*args: str, cwd: Path, **options: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "simplemr", *args], capture_output=True, timeout=120, cwd=cwd,
        **options,  # type: ignore[arg-type]
    )  # fmt: skip


def test_a_closed_standard_output_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("pear\n")
    for args, said in (
        (["wordcount", "in.txt"], "standard output is closed, so there is nowhere to print"),
        (["run", "job.py", "in.txt"], "standard output is closed: name an output with -o PATH"),
    ):
        (tmp_path / "job.py").write_text(INDEX)
        done = subprocess.run(
            ["bash", "-c", f"{sys.executable} -m simplemr {' '.join(args)} >&-"],
            capture_output=True, timeout=120, cwd=tmp_path, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert done.returncode == 2
        [line] = done.stderr.decode().splitlines()
        assert line.startswith("simplemr: error: ") and said in line


@pytest.fixture
def not_utf8(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    name = os.fsencode(folder) + b"/caf\xe9.txt"
    with open(name, "wb") as file:
        file.write(b"pear\n")
    (tmp_path / "index.py").write_text(INDEX)
    return tmp_path


def test_file_names_that_are_not_utf8_reach_every_output(not_utf8: Path) -> None:
    done = simplemr("run", "index.py", "docs", "-o", "out.tsv", "--report", "r.html", cwd=not_utf8)
    assert done.returncode == 0, done.stderr
    assert (not_utf8 / "out.tsv").read_bytes() == b'pear\t["docs/caf\xe9.txt"]\n'
    assert (not_utf8 / "r.html").read_text().endswith("</html>\n")
    done = simplemr("run", "index.py", "docs", "-o", "out.jsonl", cwd=not_utf8)
    assert done.returncode == 0, done.stderr
    assert json.loads((not_utf8 / "out.jsonl").read_text()) == ["pear", ["docs/caf\udce9.txt"]]
    done = simplemr("run", "index.py", "docs", cwd=not_utf8)
    assert done.returncode == 0, done.stderr
    assert done.stdout == b'pear\t["docs/caf\xe9.txt"]\n'
    done = simplemr("run", "index.py", "docs", "-o", "parts", cwd=not_utf8)
    assert (not_utf8 / "parts" / "part-00000").read_bytes().endswith(b'caf\xe9.txt"]\n')


def test_no_room_for_standard_input_names_the_folder(tmp_path: Path) -> None:
    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    done = simplemr(
        "wordcount", "-", "--tmp-dir", str(tmp_path), cwd=tmp_path, input=b"pear\n" * 100_000,
        preexec_fn=small_files,
    )  # fmt: skip
    assert done.returncode == 1
    said = done.stderr.decode()
    assert said.startswith(f"simplemr: error: cannot keep standard input in '{tmp_path}/")
    assert said.endswith("point --tmp-dir (or $SIMPLEMR_TMPDIR) at a disk with room for it\n")
    assert list(tmp_path.iterdir()) == []


def test_file_names_with_control_characters_are_escaped_in_every_message(
    tmp_path: Path,
) -> None:
    # A name holding ESC, BEL or a line break must neither reach the terminal as a
    # control sequence nor forge a line of its own.
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "bin\x1b[2J\x07.txt").write_bytes(b"\0binary")
    (folder / "bad\nsimplemr: error: forged.txt").write_bytes(b"caf\xe9 pear\n")
    (folder / "ok.txt").write_text("pear\n")
    done = simplemr("wordcount", str(folder), "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    said = done.stderr.decode()
    assert "\x1b" not in said and "\x07" not in said
    assert said.splitlines() == [
        f"simplemr: warning: skipped {folder}/bin\\x1b[2J\\x07.txt: it looks binary (a NUL "
        "byte in its first 8 KiB); --binary reads such files as text",
        f"simplemr: warning: {folder}/bad\\nsimplemr: error: forged.txt: 1 undecodable byte "
        "sequence replaced with U+FFFD",
    ]
    missing = simplemr("wordcount", str(tmp_path / "no\x1b]0;title\x07.txt"), cwd=tmp_path)
    assert missing.returncode == 2
    assert b"\x1b" not in missing.stderr and missing.stderr.count(b"\n") == 1


def test_a_closed_standard_error_loses_the_messages_not_the_job(tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_bytes(b"caf\xe9 pear\npear\n")  # a warning to write
    done = subprocess.run(
        [sys.executable, "-m", "simplemr", "wordcount", "in.txt", "--workers", "2"],
        stdout=subprocess.PIPE, preexec_fn=lambda: os.close(2), cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0
    assert done.stdout.splitlines()[3].split() == [b"pear", b":", b"2"]


def test_an_ascii_standard_output_gets_every_word(tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("café pear\nnaïve pear\n")
    ascii_locale = {**os.environ, "PYTHONIOENCODING": "ascii", "LC_ALL": "C"}
    shown = simplemr("wordcount", "in.txt", cwd=tmp_path, env=ascii_locale)
    assert shown.returncode == 0 and shown.stderr == b""
    assert b"caf\\xe9  :     1" in shown.stdout  # what the terminal can show
    data = simplemr("wordcount", "in.txt", "-o", "-", cwd=tmp_path, env=ascii_locale)
    assert data.returncode == 0 and data.stderr == b""
    assert data.stdout.decode("utf-8").splitlines() == ["pear\t2", "café\t1", "naïve\t1"]


def test_too_few_open_files_for_the_workers_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("pear\n")

    def sixty_four_files() -> None:
        resource.setrlimit(
            resource.RLIMIT_NOFILE, (64, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
        )

    # (15 workers, which even one core allows: the open files are what is short)
    done = simplemr("wordcount", "in.txt", "--workers", "15", cwd=tmp_path,
                    preexec_fn=sixty_four_files)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.decode() == (
        "simplemr: error: --workers 15 needs about 77 open files, and this process may "
        "have 64 (ulimit -n): ask for at most 10 workers, or raise the limit\n"
    )
    fewer = simplemr("wordcount", "in.txt", "--workers", "10", cwd=tmp_path,
                     preexec_fn=sixty_four_files)  # fmt: skip
    assert fewer.returncode == 0, fewer.stderr


@pytest.fixture
def pids_cgroup() -> Iterator[Path]:
    """A pids cgroup (v1) of its own, allowing 12 processes and threads."""
    root = Path("/sys/fs/cgroup/pids")
    if os.geteuid() != 0 or not (root / "cgroup.procs").exists():
        pytest.skip("needs root and cgroup v1's pids controller")
    group = root / f"simplemr-test-{os.getpid()}"
    group.mkdir()
    try:
        (group / "pids.max").write_text("12")
        yield group
    finally:
        for _ in range(50):  # its processes have ended: the kernel lets it go soon after
            try:
                group.rmdir()
                break
            except OSError:
                time.sleep(0.1)


def test_a_pids_limit_too_small_for_the_workers_is_one_line(
    tmp_path: Path, pids_cgroup: Path
) -> None:
    (tmp_path / "in.txt").write_text("pear\n")

    def join() -> None:
        (pids_cgroup / "cgroup.procs").write_text(str(os.getpid()))

    done = simplemr("wordcount", "in.txt", "--workers", "16", cwd=tmp_path, preexec_fn=join)
    assert done.returncode == 2
    assert re.fullmatch(
        r"simplemr: error: --workers 16 needs about 52 more processes and threads, and the "
        rf"pids limit of {re.escape(str(pids_cgroup))}/pids\.max leaves 1[01]: ask for at "
        r"most [23] workers\n",
        done.stderr.decode(),
    ), done.stderr
    fewer = simplemr("wordcount", "in.txt", "--workers", "2", cwd=tmp_path, preexec_fn=join)
    assert fewer.returncode == 0, fewer.stderr
