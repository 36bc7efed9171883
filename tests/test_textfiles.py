"""Text input: byte-range splits read every line exactly once, as Python's text mode does."""

from __future__ import annotations

import bz2
import doctest
import gzip
import lzma
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import simplemr
from simplemr import InputError, JobDefinitionError
from simplemr.events import report_of
from simplemr.io import textfiles
from simplemr.io.textfiles import TextFiles, text_files


def read_all(files: TextFiles, workers: int = 2) -> tuple[list[str], dict[str, int]]:
    counters: dict[str, int] = {}
    lines: list[str] = []
    for split in files.splits(workers):
        for block in split.blocks(counters):
            lines.extend(block)
    return lines, counters


def text_mode_lines(path: Path, encoding: str = "utf-8") -> list[str]:
    """The reference: what Python's text mode reads, line endings removed."""
    with open(path, encoding=encoding, newline=None) as file:
        return [line[:-1] if line.endswith("\n") else line for line in file]


pieces = st.sampled_from(
    ["a", "word", " ", "\t", "\n", "\r", "\r\n", "\n\n", "é", "☃", "𝄞", "\u2028", "\x0c", ".."]
)
texts = st.lists(pieces, max_size=80).map("".join)


@given(text=texts, split_size=st.integers(1, 40), block_size=st.integers(1, 64))
def test_any_cut_points_read_every_line_once(
    tmp_path_factory, text: str, split_size: int, block_size: int
) -> None:
    path = tmp_path_factory.mktemp("cuts") / "text.txt"
    path.write_bytes(text.encode("utf-8"))
    saved, textfiles.BLOCK_SIZE = textfiles.BLOCK_SIZE, block_size  # reads cross blocks too
    try:
        lines, counters = read_all(text_files(path, split_size=split_size))
    finally:
        textfiles.BLOCK_SIZE = saved
    assert lines == text_mode_lines(path)
    assert counters["input.bytes"] == len(text.encode("utf-8"))


def test_large_file_is_cut_into_several_splits(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("".join(f"line {n}\r\n" if n % 3 else f"line {n}\n" for n in range(50_000)))
    files = text_files(path, split_size=64 * 1024)
    assert len(list(files.splits(2))) > 5
    assert read_all(files)[0] == text_mode_lines(path)


@pytest.mark.parametrize("opener", [gzip.open, bz2.open, lzma.open], ids=["gz", "bz2", "xz"])
def test_compressed_files_are_read_transparently(tmp_path: Path, opener) -> None:
    suffix = {gzip.open: ".gz", bz2.open: ".bz2", lzma.open: ".xz"}[opener]
    path = tmp_path / f"text.txt{suffix}"
    with opener(path, "wt", encoding="utf-8", newline="") as file:
        file.write("one\r\ntwo\rthree\nfour")
    files = text_files(path, split_size=4)
    assert len(list(files.splits(2))) == 1
    assert read_all(files)[0] == ["one", "two", "three", "four"]


def test_non_ascii_compatible_encoding_is_one_split(tmp_path: Path) -> None:
    path = tmp_path / "utf16.txt"
    path.write_text("first\nsecond\r\nthird ☃\n" * 100, encoding="utf-16")
    files = text_files(path, encoding="utf-16", split_size=16)
    assert len(list(files.splits(2))) == 1
    assert read_all(files)[0] == text_mode_lines(path, "utf-16")


def test_undecodable_bytes_are_replaced_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"good\nbad \xff\xfe here\nok\n")
    lines, counters = read_all(text_files(path))
    assert lines == ["good", "bad \ufffd\ufffd here", "ok"]
    assert counters["input.decode_errors"] == 2


def test_strict_decoding_fails_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"bad \xff\n")
    with pytest.raises(InputError, match=r"cannot decode '.*bad\.txt' as utf-8"):
        read_all(text_files(path, errors="strict"))


def test_folders_are_walked_skipping_hidden_and_underscore_names(tmp_path: Path) -> None:
    (tmp_path / "sub" / ".hidden").mkdir(parents=True)
    for name in ["a.txt", "sub/b.txt", "sub/.hidden/c.txt", ".d.txt", "_SUCCESS"]:
        (tmp_path / name).write_text("x\n")
    files = text_files(tmp_path)
    assert [Path(p).relative_to(tmp_path).as_posix() for p in files.paths] == ["a.txt", "sub/b.txt"]


def test_a_file_named_twice_is_read_once(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x\n")
    assert len(text_files([tmp_path, tmp_path / "*.txt", tmp_path / "a.txt"]).paths) == 1


def test_a_link_and_the_file_it_names_are_read_once_but_hard_links_twice(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x\n")
    (tmp_path / "link.txt").symlink_to(tmp_path / "a.txt")
    os.link(tmp_path / "a.txt", tmp_path / "hard.txt")
    assert [Path(p).name for p in text_files(tmp_path).paths] == ["a.txt", "hard.txt"]


def test_a_folder_is_walked_in_the_order_os_walk_gives(tmp_path: Path) -> None:
    for name in ["b/z.txt", "b/a/y.txt", "a.txt", "c.txt", "b/_x.txt", "B/q.txt", "b/a/.h"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x\n")
    (tmp_path / "l").symlink_to(tmp_path / "b")  # a link to a folder is not followed
    (tmp_path / "m.txt").symlink_to(tmp_path / "b" / "z.txt")

    def walked(top: Path) -> list[str]:
        found = []
        for folder, subfolders, names in os.walk(top):
            subfolders[:] = sorted(d for d in subfolders if not d.startswith((".", "_")))
            found += [os.path.join(folder, n) for n in sorted(names) if n[0] not in "._"]
        return found

    # b/z.txt was named first as m.txt, and is read once, under that name
    expected = [path for path in walked(tmp_path) if path != str(tmp_path / "b" / "z.txt")]
    assert text_files(tmp_path).paths == expected
    assert len(expected) == 5


def test_corrupt_gzip_is_an_input_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.txt.gz"
    path.write_bytes(gzip.compress(b"line\n" * 1000)[:-30])
    with pytest.raises(
        InputError,
        match=r"cannot read '.*broken\.txt\.gz' after byte [\d,]+ of its decompressed text: "
        r"Compressed file ended before",
    ):
        read_all(text_files(path))


def test_globs_expand(tmp_path: Path) -> None:
    for name in ["a.rst", "b.rst", "c.txt"]:
        (tmp_path / name).write_text("x\n")
    assert len(text_files(str(tmp_path / "*.rst")).paths) == 2


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.txt", "no such file or folder"),
        (lambda d: str(d / "*.nothing"), "no file matches the pattern"),
        (lambda d: (d / "empty").mkdir() or d / "empty", "has no files in it"),
    ],
)
def test_bad_paths_fail_before_anything_runs(tmp_path: Path, make, message: str) -> None:
    with pytest.raises(InputError, match=message):
        text_files(make(tmp_path))


def test_bad_options_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x\n")
    with pytest.raises(JobDefinitionError, match="unknown encoding"):
        text_files(tmp_path, encoding="no-such-codec")
    for codec in ("rot13", "base64", "bz2", "idna"):
        with pytest.raises(JobDefinitionError, match="is not an encoding of text files"):
            text_files(tmp_path, encoding=codec)
    with pytest.raises(JobDefinitionError, match="errors must be"):
        text_files(tmp_path, errors="shrug")
    with pytest.raises(JobDefinitionError, match="split_size"):
        text_files(tmp_path, split_size=0)


def test_a_failing_mapper_is_located_by_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "data.txt"
    path.write_text("".join(f"{n}\n" if n != 777 else "boom\n" for n in range(2000)))

    def mapper(line: str):
        return [(int(line), 1)]

    job = simplemr.MapReduce(mapper, lambda k, v: k, executor="inline")
    with pytest.raises(simplemr.TaskFailedError, match=r"data\.txt, line 778: the mapper raised"):
        job.run(text_files(path, split_size=1000))


def test_docstring_examples() -> None:
    assert doctest.testmod(textfiles).failed == 0


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_a_large_file_is_cut_into_a_multiple_of_the_workers(tmp_path: Path, workers: int) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"line of text\n" * 100_000)  # 1.3 MB
    splits = list(text_files(path).splits(workers))
    assert len(splits) % workers == 0
    lengths = {split.end - split.start for split in splits}
    assert max(lengths) - min(lengths) <= 1


def test_a_line_longer_than_the_budget_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(b"short line\n" + b"x" * 5_000_000 + b"\nend\n")  # past one read
    job = simplemr.MapReduce(lambda line: [(len(line), 1)], lambda k, v: k, executor="inline",
                             memory="1MB")  # fmt: skip
    with pytest.raises(
        simplemr.TaskFailedError,
        match=r"'.*blob\.bin' has a line, starting at byte 11, longer than the memory budget",
    ):
        job.run(text_files(path))


def test_a_failing_line_in_packed_small_files_is_located(tmp_path: Path) -> None:
    for name, count in [("a.txt", 30), ("b.txt", 1), ("c.txt", 50)]:
        (tmp_path / name).write_text("".join(f"{n}\n" for n in range(count)))
    (tmp_path / "c.txt").write_text("1\n2\n3\nboom\n5\n")

    def mapper(line: str):
        return [(int(line), 1)]

    job = simplemr.MapReduce(mapper, lambda k, v: k, executor="inline")
    for block_size in (4, 1 << 20):
        saved, textfiles.BLOCK_SIZE = textfiles.BLOCK_SIZE, block_size
        try:
            with pytest.raises(simplemr.TaskFailedError, match=r"c\.txt, line 4: the mapper"):
                job.run(text_files(tmp_path))
        finally:
            textfiles.BLOCK_SIZE = saved


@pytest.mark.parametrize("executor", ["inline", "local"])
def test_binary_files_are_skipped_and_listed_unless_binary_is_true(
    tmp_path: Path, executor: str
) -> None:
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"word\n" * 3000 + b"\0\n" + b"word\n" * 100_000)  # NUL at 15,000
    late = tmp_path / "late.bin"
    late.write_bytes(b"word\n" * 2000 + b"\0\n")  # past the first 8 KiB: both are text
    (tmp_path / "text.txt").write_text("word\n")
    job = simplemr.MapReduce(
        lambda line: [(line, 1)], lambda key, ones: (key, sum(ones)), executor=executor
    )
    result = job.run(simplemr.text_files(tmp_path, split_size=100_000))
    assert result.binary_skipped == []
    assert dict(result.results)["word"] == 3000 + 100_000 + 2000 + 1
    binary.write_bytes(b"\0\n" + b"word\n" * 100_000)  # several splits, each one skipped
    result = job.run(simplemr.text_files(tmp_path, split_size=100_000))
    assert result.binary_skipped == [str(binary)]
    assert dict(result.results)["word"] == 2000 + 1
    result = job.run(simplemr.text_files(tmp_path, split_size=100_000, binary=True))
    assert result.binary_skipped == []
    assert dict(result.results)["word"] == 100_000 + 2000 + 1


def _task_bytes(split: Any) -> int:
    return sum(part.end - part.start for part in getattr(split, "parts", (split,)))


@pytest.mark.parametrize(
    ("sizes_mib", "workers", "tasks"),
    [
        ([100] * 10, 8, 16),  # not 80: the input is cut as a whole, not file by file
        ([7, 1, 30, 2, 2, 9], 2, 4),
        ([1] * 10, 8, 16),
    ],
)
def test_planning_balances_tasks_over_the_whole_input(
    tmp_path: Path, sizes_mib: list[int], workers: int, tasks: int
) -> None:
    for number, size in enumerate(sizes_mib):
        with open(tmp_path / f"{number:02d}.txt", "wb") as file:
            file.truncate(size * 1024 * 1024)  # sparse: planning only stats files
    splits = list(text_files(tmp_path).splits(workers))
    assert len(splits) == tasks
    target = sum(sizes_mib) * 1024 * 1024 / tasks
    assert all(abs(_task_bytes(split) - target) <= 256 * 1024 for split in splits)
    pieces = [part for split in splits for part in getattr(split, "parts", (split,))]
    for number, size in enumerate(sizes_mib):  # every byte of every file, once, in order
        mine = [(p.start, p.end) for p in pieces if p.path.endswith(f"{number:02d}.txt")]
        assert [start for start, _ in mine] == [0] + [end for _, end in mine[:-1]]
        assert mine[-1][1] == size * 1024 * 1024


def test_a_name_that_exists_is_that_file_not_a_pattern(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simplemr.io.paths import expand_paths

    monkeypatch.chdir(tmp_path)
    for name in ("data1.txt", "data[1].txt", "page_2.txt", "page?2.txt", "report[final].txt"):
        Path(name).write_text(f"{name}\n")
    assert expand_paths(["data[1].txt"]) == ["data[1].txt"]
    assert expand_paths(["page?2.txt"]) == ["page?2.txt"]
    assert expand_paths(["report[final].txt"]) == ["report[final].txt"]
    assert expand_paths(["data[12].txt"]) == ["data1.txt"]  # no such name: a pattern
    assert expand_paths(["page*2.txt"]) == ["page?2.txt", "page_2.txt"]
    lines = sorted(simplemr.MapReduce(
        lambda line: [(line, 1)], lambda k, v: k, executor="inline"
    ).run(simplemr.text_files(["data[1].txt", "page?2.txt"])).results)  # fmt: skip
    assert lines == ["data[1].txt", "page?2.txt"]


@pytest.mark.parametrize("executor", ["inline", "local", "dask"])
def test_bytes_replaced_while_decoding_are_told_file_by_file(
    tmp_path: Path, executor: str, request: pytest.FixtureRequest
) -> None:
    (tmp_path / "two.txt").write_bytes(b"caf\xe9\nna\xefve\n")
    (tmp_path / "none.txt").write_bytes(b"plain\n")
    (tmp_path / "one.txt").write_bytes(b"\xff\n" + b"word\n" * 50_000)
    if executor == "dask":
        from simplemr.executors.dask import DaskExecutor

        executor = DaskExecutor(2, client=request.getfixturevalue("dask_client"))  # type: ignore[assignment]
    job = simplemr.MapReduce(
        lambda line: [(len(line), 1)], lambda key, ones: (key, sum(ones)), executor=executor
    )
    result = job.run(simplemr.text_files(tmp_path, split_size=100_000))
    assert result.decode_errors == {str(tmp_path / "two.txt"): 2, str(tmp_path / "one.txt"): 1}
    assert result.counters["input.decode_errors"] == 3
    assert not any("@" in name for name in result.counters)  # no per-file counter names


def test_a_long_utf16_line_in_a_small_gz_is_refused_before_it_is_whole(tmp_path: Path) -> None:
    """A decompression bomb: 100 M characters on one line of UTF-16 (200 MB) in half
    a megabyte of gzip. The worker refuses it once it has read past its budget, not
    once it holds the whole line."""
    path = tmp_path / "bomb.txt.gz"
    with gzip.open(path, "wb", compresslevel=1) as file:
        file.write("short\n".encode("utf-16"))
        chunk = ("x" * 1_000_000).encode("utf-16-le")
        for _ in range(100):
            file.write(chunk)
        file.write("\nend\n".encode("utf-16-le"))
    job = simplemr.MapReduce(lambda line: [(len(line), 1)], lambda k, v: k, workers=1,
                             memory="8MiB")  # fmt: skip
    with pytest.raises(
        simplemr.TaskFailedError, match=r"'.*bomb\.txt\.gz' has a line longer than the memory"
    ) as caught:
        job.run(text_files(path, encoding="utf-16"))
    report = report_of(caught.value)
    assert report is not None
    assert max(event.peak_rss for event in report.events) < 120 * 2**20  # the line: 200 MB
