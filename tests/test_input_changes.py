"""Inputs that are not what they seem: FIFOs and devices among files, files that say
they are empty, files that change while they are read."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import simplemr
from simplemr.io.filesystems import storage_options


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simplemr", "wordcount", *args], capture_output=True, text=True,
        timeout=60, cwd=cwd, stdin=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.fixture
def folder_with_a_fifo(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("pear fig pear\n")
    os.mkfifo(folder / "pipe")
    return folder


@pytest.mark.timeout(60)  # reading the FIFO would wait for a writer forever
@pytest.mark.parametrize("named", ["in", "in/*"])
def test_a_fifo_in_a_folder_or_a_glob_is_skipped_with_a_warning(
    folder_with_a_fifo: Path, named: str
) -> None:
    done = cli(named, "--output", "-", cwd=folder_with_a_fifo.parent)
    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.splitlines()) == ["fig\t1", "pear\t2"]
    assert done.stderr == "simplemr: warning: skipped in/pipe: it is a named pipe (FIFO)\n"


@pytest.mark.timeout(60)
def test_a_fifo_named_directly_is_refused(folder_with_a_fifo: Path) -> None:
    done = cli("in/pipe", cwd=folder_with_a_fifo.parent)
    assert done.returncode == 2
    assert done.stderr == (
        "simplemr: error: 'in/pipe' is a named pipe (FIFO), not a regular file or a folder\n"
    )
    with pytest.raises(simplemr.InputError, match="is a named pipe"):
        simplemr.text_files(folder_with_a_fifo / "pipe")
    files = simplemr.text_files(folder_with_a_fifo)
    assert files.not_regular == [str(folder_with_a_fifo / "pipe")]


def test_a_glob_of_only_devices_says_so(tmp_path: Path) -> None:
    if not os.path.exists("/dev/null"):
        pytest.skip("no /dev/null here")
    done = cli("/dev/nul*", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == (
        "simplemr: error: the pattern '/dev/nul*' matches nothing to read: '/dev/null' is "
        "a device, and such files are skipped\n"
    )


def test_a_file_that_says_it_is_empty_is_read_to_its_end(tmp_path: Path) -> None:
    proc = Path("/proc/cpuinfo")
    if not proc.exists() or proc.stat().st_size != 0:
        pytest.skip("no /proc/cpuinfo reporting size 0 here")
    expected = Counter(line.split(":")[0].strip() for line in proc.read_text().splitlines())
    job = simplemr.MapReduce(
        lambda line: [(line.split(":")[0].strip(), 1)], lambda key, ones: (key, sum(ones)),
        workers=2,
    )  # fmt: skip
    assert dict(job.run(simplemr.text_files(proc)).results) == dict(expected)


@pytest.mark.parametrize("change", ["grows", "shrinks", "is rewritten"])
def test_a_file_that_changes_while_it_is_read_fails_naming_it(tmp_path: Path, change: str) -> None:
    path = tmp_path / "log.txt"
    path.write_text("line\n" * 50_000)
    planned = os.stat(path).st_mtime_ns

    def mapper(line: str) -> list[tuple[str, int]]:
        if change == "grows":
            with open(path, "a") as file:
                file.write("more\n")
        elif change == "shrinks" and path.stat().st_size > 1000:
            os.truncate(path, 1000)
        elif change == "is rewritten" and os.stat(path).st_mtime_ns == planned:
            os.utime(path, ns=(planned + 10**9, planned + 10**9))
        return [(line, 1)]

    job = simplemr.MapReduce(mapper, lambda key, ones: (key, sum(ones)), executor="inline")
    with pytest.raises(
        simplemr.TaskFailedError, match=r"'.*log\.txt' changed while the job read it \("
    ) as caught:
        job.run(simplemr.text_files(path, split_size=100_000))
    said = {"grows": "it was 250,000 bytes when the job started and is",
            "shrinks": "it was 250,000 bytes when the job started and is 1,000 now",
            "is rewritten": "it was modified"}[change]  # fmt: skip
    assert said in str(caught.value)


def _rewriting_mapper(url: str, options: dict):
    """A mapper that, at its first call, writes the object ``url`` again, other bytes of
    the same size (as an upload of a new version would)."""

    written: list[bool] = []  # the job runs inline: one process

    def mapper(line: str) -> list[tuple[str, int]]:
        if not written:
            import s3fs

            filesystem = s3fs.S3FileSystem(**options)
            filesystem.pipe(url, filesystem.cat(url).replace(b"line", b"LINE"))
            written.append(True)
        return [(line, 1)]

    return mapper


def test_an_s3_object_written_again_while_it_is_read_fails_naming_it(bucket) -> None:
    s3, name, options = bucket
    url = f"s3://{name}/log.txt"
    s3.pipe(url, b"line\n" * 50_000)
    job = simplemr.MapReduce(
        _rewriting_mapper(url, options), lambda key, ones: (key, sum(ones)), executor="inline"
    )
    with storage_options(options):
        files = simplemr.text_files(url, split_size=100_000)
    with pytest.raises(
        simplemr.TaskFailedError, match=r"'s3://.*/log\.txt' changed while the job read it \(it"
    ):
        job.run(files, storage_options=options)
    s3.pipe(url, b"line\n" * 50_000)  # the same bytes again: read as planned
    same = simplemr.MapReduce(lambda line: [(line, 1)], lambda key, ones: (key, sum(ones)),
                              executor="inline")  # fmt: skip
    with storage_options(options):
        files = simplemr.text_files(url, split_size=100_000)
    assert dict(same.run(files, storage_options=options)) == {"line": 50_000}
