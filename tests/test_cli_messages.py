"""What the command line says when something is off: each message, its key words, its status."""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
from pathlib import Path

import pytest

import simplemr as simplemr_api
from simplemr.launch.common import EXIT_STATUS_HELP, PATHS_HELP
from simplemr.launch.words import in_command_line_words

README = Path(__file__).resolve().parent.parent / "README.md"


def simplemr(*args: str, cwd: Path | None = None, stdin: bytes | None = None):
    return subprocess.run(
        [sys.executable, "-m", "simplemr", *args], input=stdin, capture_output=True, text=False,
        timeout=120, cwd=cwd, stdin=subprocess.DEVNULL if stdin is None else None,
    )  # fmt: skip


def err(done: subprocess.CompletedProcess[bytes]) -> str:
    return done.stderr.decode()


@pytest.fixture
def text(tmp_path: Path) -> Path:
    path = tmp_path / "in.txt"
    path.write_text("pear apple pear\n")
    return path


JOB = """
import simplemr

class Words(simplemr.Job):
    def mapper(self, _, line):
        for word in line.split():
            yield word, 1

    def reducer(self, word, counts):
        yield word, sum(counts)

if __name__ == "__main__":
    Words.main()
"""


@pytest.fixture
def job_file(tmp_path: Path) -> Path:
    path = tmp_path / "words.py"
    path.write_text(JOB)
    return path


# --- mistyped options ------------------------------------------------------------------


def test_a_mistyped_wordcount_option_gets_a_suggestion_and_the_wordcount_usage(
    text: Path,
) -> None:
    done = simplemr("wordcount", "--wokers", "2", str(text))
    assert done.returncode == 2
    assert err(done).startswith("usage: simplemr wordcount ")
    assert err(done).endswith(
        "simplemr wordcount: error: unrecognized option: --wokers (did you mean --workers?)\n"
    )


def test_a_mistyped_run_option_gets_a_suggestion(job_file: Path, text: Path) -> None:
    done = simplemr("run", str(job_file), str(text), "--memroy=1GB")
    assert done.returncode == 2
    assert err(done).startswith("usage: simplemr run ")
    assert "error: unrecognized option: --memroy=1GB (did you mean --memory?)" in err(done)


def test_a_mistyped_option_of_python_job_py_gets_a_suggestion(job_file: Path, text: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(job_file), str(text), "--sortt"], capture_output=True, text=True,
        timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith("usage: words.py ")
    assert "words.py: error: unrecognized option: --sortt (did you mean --sort?)" in done.stderr


def test_an_option_like_nothing_known_is_named_without_a_guess(text: Path) -> None:
    done = simplemr("wordcount", "--zzzzzz", str(text))
    assert done.returncode == 2
    assert err(done).endswith("error: unrecognized option: --zzzzzz\n")


# --- what is read, and what is skipped ---------------------------------------------------


def test_every_help_and_the_readme_say_the_same_about_skipped_names() -> None:
    assert "names starting with . or _ are skipped" in PATHS_HELP
    for command in ("wordcount", "run"):
        shown = " ".join(simplemr(command, "--help").stdout.decode().split())
        assert " ".join(PATHS_HELP.split()) in shown, command
    readme = " ".join(README.read_text().split())
    assert "(read recursively, names starting with `.` or `_` skipped)" in readme


def test_a_folder_of_only_skipped_names_says_how_many_and_why(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "_part.txt").write_text("a\n")
    (folder / ".hidden").write_text("b\n")
    done = simplemr("wordcount", str(folder))
    assert done.returncode == 2
    assert err(done) == (
        f"simplemr: error: the folder {str(folder)!r} has nothing to read: all 2 names in it "
        "start with '.' or '_', and such names are skipped (hidden files, markers such as "
        "_SUCCESS); name such a file to read it\n"
    )
    glob = simplemr("wordcount", str(tmp_path / "d*"))
    assert glob.returncode == 2
    assert "has nothing to read: all 2 names in it start with '.' or '_'" in err(glob)


def test_an_empty_folder_says_it_is_empty(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    done = simplemr("wordcount", str(tmp_path / "empty"))
    assert done.returncode == 2
    assert (
        err(done) == f"simplemr: error: the folder {str(tmp_path / 'empty')!r} has no files in it\n"
    )


def test_dangling_links_and_link_loops_are_named_as_such(tmp_path: Path) -> None:
    folder = tmp_path / "links"
    folder.mkdir()
    (folder / "dangling").symlink_to(tmp_path / "nothing-here")
    done = simplemr("wordcount", str(folder))
    assert done.returncode == 2
    assert err(done) == (
        f"simplemr: error: cannot read {str(folder / 'dangling')!r}: it is a symbolic link to "
        f"{str(tmp_path / 'nothing-here')!r}, which does not exist\n"
    )
    (folder / "dangling").unlink()
    (folder / "one").symlink_to(folder / "two")
    (folder / "two").symlink_to(folder / "one")
    for named in (folder, folder / "one"):
        done = simplemr("wordcount", str(named))
        assert done.returncode == 2
        assert re.fullmatch(
            r"simplemr: error: cannot read '.*/links/(one|two)': it is a loop of symbolic links\n",
            err(done),
        )


def test_binary_files_are_skipped_with_one_warning_unless_asked_for(tmp_path: Path) -> None:
    png = tmp_path / "picture.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR pear pear pear\n" * 100)
    (tmp_path / "notes.txt").write_text("pear fig\n")
    done = simplemr("wordcount", str(tmp_path), "--output", "-")
    assert done.returncode == 0, err(done)
    assert sorted(done.stdout.decode().splitlines()) == ["fig\t1", "pear\t1"]
    assert err(done) == (
        f"simplemr: warning: skipped {png}: it looks binary (a NUL byte in its first 8 KiB); "
        "--binary reads such files as text\n"
    )
    read = simplemr("wordcount", str(png), "--binary", "--output", "-")
    assert read.returncode == 0
    assert "pear\t300" in read.stdout.decode().splitlines()
    assert "looks binary" not in err(read)


def test_compressed_bytes_on_standard_input_are_skipped_as_binary() -> None:
    done = simplemr("wordcount", "-", stdin=gzip.compress(b"\0pear\n" * 1000))
    assert done.returncode == 0
    assert err(done) == (
        "simplemr: warning: skipped <stdin>: it looks binary (a NUL byte in its first 8 KiB); "
        "--binary reads such files as text\n"
    )


def test_utf16_text_is_never_taken_for_binary(tmp_path: Path) -> None:
    path = tmp_path / "wide.txt"
    path.write_text("pear pear fig\n", encoding="utf-16")
    done = simplemr("wordcount", str(path), "--encoding", "utf-16", "--output", "-")
    assert done.returncode == 0
    assert sorted(done.stdout.decode().splitlines()) == ["fig\t1", "pear\t2"]


# --- sizes, memory, words ----------------------------------------------------------------


def test_the_summary_and_the_bars_speak_mib(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"word " * 600_000 + b"\n")  # 3,000,001 bytes: 2.9 MiB, 3.0 MB
    done = simplemr("wordcount", str(path), "--summary", "--progress")
    assert done.returncode == 0
    shown = err(done).replace("\r", "\n")
    assert re.search(r"^  input +2\.9 MiB +[\d.,]+ MiB/s$", shown, re.MULTILINE), shown
    assert re.search(r"\| 2\.9/2\.9 MiB \[", shown), shown
    assert not re.search(r"\b3\.0 ?M|\bMB\b|\d[kMG]/", shown)


def test_a_memory_budget_below_the_floor_is_refused_as_in_the_api(text: Path) -> None:
    done = simplemr("wordcount", str(text), "--memory", "10KB", "--workers", "2")
    assert done.returncode == 2
    assert err(done) == (
        "simplemr: error: --memory 10KB leaves 4.9 KiB per worker; give at least 32.0 KiB "
        "for 2 worker(s)\n"
    )
    with pytest.raises(simplemr_api.JobDefinitionError, match=r"^memory='10KB' leaves 4\.9 KiB"):
        simplemr_api.MapReduce(str.split, max, workers=2, memory="10KB")
    small = simplemr("wordcount", str(text), "--memory", "64KB", "--workers", "2")
    assert small.returncode == 0 and small.stderr == b""


def test_errors_name_options_not_keyword_arguments(tmp_path: Path, text: Path) -> None:
    target = tmp_path / "counts.tsv"
    target.write_text("old\n")
    done = simplemr("wordcount", str(text), "--output", str(target))
    assert done.returncode == 2
    assert err(done) == (
        f"simplemr: error: the output {str(target)!r} already exists; choose another or pass "
        "--overwrite\n"
    )


@pytest.mark.parametrize(
    ("message", "said"),
    [
        ("choose another or pass overwrite=True", "choose another or pass --overwrite"),
        ("more than max_bad_records=3 in this task", "more than --max-bad-records 3 in this task"),
        ("memory='1KB' leaves 512 B per worker", "--memory 1KB leaves 512 B per worker"),
        ("(a larger memory= budget would let such lines through)",
         "(a larger --memory would let such lines through)"),
        ("sort=True needs keys that < can order", "--sort needs keys that < can order"),
        ("tmp_dir '/x' is not a folder", "--tmp-dir '/x' is not a folder"),
        ("the mapper raised ValueError: workers", "the mapper raised ValueError: workers"),
    ],
)  # fmt: skip
def test_library_words_become_option_words(message: str, said: str) -> None:
    assert in_command_line_words(message) == said


# --- exit statuses -----------------------------------------------------------------------


def test_every_exit_status_is_listed_in_the_help_and_the_readme() -> None:
    readme = " ".join(README.read_text().split())
    [listed] = re.findall(r"Exit status: (.*?)\.(?: |$)", readme)
    for status in ("0 done", "1 the job failed", "2 bad usage", "130 interrupted",
                   "141 the reader of the output went away", "143 terminated"):  # fmt: skip
        assert status in listed
        assert status in EXIT_STATUS_HELP


def test_a_task_timeout_must_be_seconds(text: Path) -> None:
    done = simplemr("wordcount", str(text), "--task-timeout", "soon")
    assert done.returncode == 2
    assert "argument --task-timeout: expected a number of seconds, 0 or more, got 'soon'" in err(
        done
    )
    assert simplemr("wordcount", str(text), "--task-timeout", "0").returncode == 0
