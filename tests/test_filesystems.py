"""Inputs named by URL, read through fsspec: listing, byte ranges, compression, errors."""

from __future__ import annotations

import gzip
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sample_jobs import sum_combiner, sum_reducer, words_mapper

import simplemr

fsspec = pytest.importorskip("fsspec", reason="fsspec is not installed")


def word_counts(inputs: Any, **options: Any) -> dict[str, int]:
    job = simplemr.MapReduce(words_mapper, sum_reducer, sum_combiner, **options)
    return dict(job.run(inputs))


def expected_counts(*texts: str) -> dict[str, int]:
    return dict(Counter(word for text in texts for word in text.split()))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "big.txt").write_text("".join(f"w{n % 97} é{n % 13}\r\n" for n in range(20_000)))
    (tmp_path / "small.txt").write_text("alpha beta\nbeta")
    with gzip.open(tmp_path / "packed.txt.gz", "wt") as file:
        file.write("gamma gamma\n")
    (tmp_path / "_SUCCESS").write_text("")
    (tmp_path / ".hidden").write_text("never read\n")
    return tmp_path


def test_a_file_url_folder_is_read_like_the_folder(folder: Path) -> None:
    url = f"file://{folder}"
    files = simplemr.text_files(url, split_size=16 * 1024)  # the big file in many ranges
    assert all(path.startswith("file://") for path in files.paths)
    assert len(files.paths) == 3
    local = word_counts(simplemr.text_files(folder), executor="inline")
    assert word_counts(files, workers=2) == local
    assert local["gamma"] == 2 and "never" not in local


def test_a_url_glob(folder: Path) -> None:
    files = simplemr.text_files(f"file://{folder}/*.txt")
    assert sorted(Path(path).name for path in files.paths) == ["big.txt", "small.txt"]


def test_a_url_whose_name_exists_is_that_object_not_a_pattern(tmp_path: Path) -> None:
    for name in ("data1.txt", "data[1].txt", "page_2.txt", "page?2.txt"):
        (tmp_path / name).write_text(f"{name}\n")
    for name in ("data[1].txt", "page?2.txt"):
        files = simplemr.text_files(f"file://{tmp_path}/{name}")
        assert [Path(path).name for path in files.paths] == [name]
    matched = simplemr.text_files(f"file://{tmp_path}/page*2.txt").paths
    assert sorted(Path(path).name for path in matched) == ["page?2.txt", "page_2.txt"]
    memory = fsspec.filesystem("memory")
    memory.pipe("/simplemr-names/log[1].txt", b"exact\n")
    memory.pipe("/simplemr-names/log1.txt", b"globbed\n")
    try:
        inputs = simplemr.text_files("memory://simplemr-names/log[1].txt")
        job = simplemr.MapReduce(lambda line: [(line, 1)], sum_reducer, executor="inline")
        assert dict(job.run(inputs)) == {"exact": 1}
    finally:
        memory.rm("/simplemr-names", recursive=True)


def test_memory_urls_in_this_process() -> None:
    memory = fsspec.filesystem("memory")
    memory.pipe("/simplemr-test/a.jsonl", b'{"w": "x y"}\n{"w": "y"}\n')
    try:
        inputs = simplemr.input_files("memory://simplemr-test", "jsonl")
        job = simplemr.MapReduce(
            lambda row: [(word, 1) for word in row["w"].split()],
            sum_reducer,
            executor="inline",
        )
        assert dict(job.run(inputs)) == {"x": 1, "y": 2}
    finally:
        memory.rm("/simplemr-test", recursive=True)


def test_a_missing_url_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(simplemr.InputError, match="no such file or folder: 'file://"):
        simplemr.text_files(f"file://{tmp_path}/missing.txt")
    with pytest.raises(simplemr.InputError, match="no file matches the pattern"):
        simplemr.text_files(f"file://{tmp_path}/*.nothing")


def test_an_unknown_scheme_is_an_input_error() -> None:
    with pytest.raises(simplemr.InputError, match="cannot read 'nosuchscheme://x'"):
        simplemr.text_files("nosuchscheme://x")


def test_without_fsspec_a_url_says_what_to_install(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "fsspec", None)
    with pytest.raises(simplemr.InputError, match="which needs fsspec: pip install fsspec"):
        simplemr.text_files("s3://bucket/logs/")
