"""Numbered lines: every line's file and number, whatever the byte ranges."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import simplemr
from simplemr.io.numbered import lines_before

pieces = st.sampled_from([b"a", b"bc", b"\n", b"\r", b"\r\n", b"\xc3\xa9", b" ", b"\n\n"])
texts = st.lists(pieces, max_size=60).map(b"".join)


def python_lines(path: Path) -> list[str]:
    """The lines Python's text mode reads, without their endings."""
    with open(path, encoding="utf-8", errors="replace", newline=None) as file:
        return [line[:-1] if line.endswith("\n") else line for line in file]


def numbered_records(paths: list[Path], split_size: int, workers: int = 2) -> list[tuple]:
    files = simplemr.input_files(paths, "numbered")
    files.files.split_size = split_size
    records = []
    for split in files.splits(workers):
        for block in split.blocks({}):
            records.extend(block)
    return records


@given(data=texts, split_size=st.integers(1, 40))
@example(b"a\r\nb\r\nc", 2)
@example(b"a\r\n\r\n", 3)
@example(b"\r\r\n\n", 1)
def test_every_line_has_its_number_at_any_cut(tmp_path_factory, data: bytes, split_size: int):
    path = tmp_path_factory.mktemp("numbered") / "text.txt"
    path.write_bytes(data)
    expected = [(str(path), number, line) for number, line in enumerate(python_lines(path), 1)]
    assert numbered_records([path], split_size) == expected


@given(data=texts, offsets=st.lists(st.integers(0, 70), max_size=8).map(sorted))
def test_lines_before_counts_the_lines_that_start_earlier(
    tmp_path_factory, data: bytes, offsets: list[int]
) -> None:
    path = tmp_path_factory.mktemp("numbered") / "text.txt"
    path.write_bytes(data)
    starts = _line_starts(data)
    offsets = [offset for offset in offsets if offset <= len(data)]
    assert lines_before(str(path), offsets) == [
        sum(1 for start in starts if start < offset) for offset in offsets
    ]


def _line_starts(data: bytes) -> list[int]:
    starts, position = [], 0
    while position < len(data):
        starts.append(position)
        ends = [i for i in (data.find(b"\n", position), data.find(b"\r", position)) if i >= 0]
        if not ends:
            break
        end = min(ends)
        position = end + (2 if data[end : end + 2] == b"\r\n" else 1)
    return starts


def test_small_files_packed_into_one_task_number_their_own_lines(tmp_path: Path) -> None:
    paths = []
    for number in range(5):
        path = tmp_path / f"f{number}.txt"
        path.write_text("".join(f"line {n} of {number}\n" for n in range(number + 1)))
        paths.append(path)
    records = numbered_records(paths, split_size=10_000)
    assert records == [
        (str(path), n + 1, f"line {n} of {number}")
        for number, path in enumerate(paths)
        for n in range(number + 1)
    ]


@pytest.mark.parametrize("executor", ["inline", "local"])
def test_an_index_of_one_file_runs_in_many_tasks_with_exact_line_numbers(
    tmp_path: Path, executor: str
) -> None:
    path = tmp_path / "book.txt"
    lines = [f"w{n % 7} w{n % 3} filler" for n in range(20_000)]
    path.write_text("\n".join(lines) + "\n")
    files = simplemr.input_files(path, "numbered")
    files.files.split_size = 32 * 1024  # many ranges of one file

    def places(record: tuple[str, int, str]) -> list[tuple[str, int]]:
        _, number, line = record
        return [(word, number) for word in line.split()]

    job = simplemr.MapReduce(places, lambda word, found: (word, sorted(found)), executor=executor)
    result = job.run(files)
    expected: dict[str, list[int]] = {}
    for number, line in enumerate(lines, 1):
        for word in line.split():
            expected.setdefault(word, []).append(number)
    assert dict(result.results) == expected
    assert result.counters["map.records_in"] == len(lines)
    assert len(list(files.splits(2))) >= 8


def test_a_mapper_error_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "book.txt"
    path.write_text("ok\nok\nbad\nok\n")

    def mapper(record: tuple[str, int, str]) -> list[tuple[str, int]]:
        if record[2] == "bad":
            raise ValueError("no good")
        return [(record[2], 1)]

    job = simplemr.MapReduce(mapper, lambda k, v: sum(v), executor="inline")
    with pytest.raises(simplemr.TaskFailedError, match=r"book.txt, line 3"):
        job.run(simplemr.input_files(path, "numbered"))


def test_an_unknown_format_names_numbered_among_the_choices(tmp_path: Path) -> None:
    with pytest.raises(simplemr.JobDefinitionError, match="text, numbered, jsonl, csv, file"):
        simplemr.input_files(tmp_path, "lines")
