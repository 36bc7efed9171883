"""Input formats (JSON lines, CSV rows, whole files) and output line formats."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import simplemr
from simplemr.io.output import format_value


def collect(records: Any, **options: Any) -> list[Any]:
    """Every record the inputs give, through a real job (key: the record's repr)."""
    job = simplemr.MapReduce(
        lambda record: [(repr(record), record)],
        lambda key, values: list(values),
        **{"executor": "inline", **options},
    )
    return [record for group in job.run(records) for record in group]


def test_json_lines_give_values_and_skip_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"a": 1}\n\n[1, 2]\n  \n"text"\r\n3.5\n')
    records = collect(simplemr.input_files(path, "jsonl"))
    assert sorted(map(json.dumps, records)) == sorted(
        map(json.dumps, [{"a": 1}, [1, 2], "text", 3.5])
    )


def test_a_bad_json_line_is_an_input_error_naming_its_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"a": 1}\n{"a": 2\n')
    with pytest.raises(
        simplemr.TaskFailedError,
        match=r"failed on \S*events.jsonl, line 2: cannot parse the record: Expecting",
    ):
        collect(simplemr.input_files(path, "jsonl"))


def test_bad_json_lines_are_skipped_with_max_bad_records(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text("1\nnot json\n2\n{oops\n3\n")
    job = simplemr.MapReduce(
        lambda n: [("sum", n)], lambda k, v: sum(v), executor="inline", max_bad_records=2
    )
    result = job.run(simplemr.input_files(path, "jsonl"))
    assert result.results == [6]
    assert result.counters["map.skipped_records"] == 2
    assert [entry.split(":")[0] for entry in result.skipped] == [
        f"{path}, line 2",
        f"{path}, line 4",
    ]


def test_json_lines_split_into_byte_ranges_read_each_line_once(tmp_path: Path) -> None:
    path = tmp_path / "numbers.jsonl"
    path.write_text("".join(json.dumps({"n": n, "pad": "é" * (n % 7)}) + "\n" for n in range(5000)))
    files = simplemr.input_files(path, "jsonl")
    files.files.split_size = 4096  # many splits, cut inside lines and characters
    job = simplemr.MapReduce(lambda r: [("n", r["n"])], lambda k, v: sorted(v), executor="inline")
    assert job.run(files).results == [list(range(5000))]


def test_csv_rows_are_dicts_by_header_with_quoted_line_breaks(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text('name,note\r\nAda,"first\r\nprogrammer"\r\n"Lovelace, A",plain\r\n')
    records = collect(simplemr.input_files(path, "csv"))
    assert sorted(records, key=lambda row: row["name"]) == [
        {"name": "Ada", "note": "first\r\nprogrammer"},
        {"name": "Lovelace, A", "note": "plain"},
    ]


def test_a_csv_error_names_the_file_and_row(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"  # an unclosed quote runs the field on past csv's limit
    path.write_text('a,b\n1,2\n3,"never closed\n' + "4,5\n" * 40_000)
    with pytest.raises(simplemr.TaskFailedError, match=r"bad.csv', row 2 after the header: field"):
        collect(simplemr.input_files(path, "csv"), executor="inline")


def test_whole_files_give_name_and_bytes_decompressed(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"alpha\n")
    with gzip.open(tmp_path / "b.txt.gz", "wb") as file:
        file.write(b"\x00\x01beta")
    (tmp_path / "_SUCCESS").write_bytes(b"")
    records = collect(simplemr.input_files(tmp_path, "file"))
    assert sorted(records) == [
        (str(tmp_path / "a.txt"), b"alpha\n"),
        (str(tmp_path / "b.txt.gz"), b"\x00\x01beta"),
    ]


def test_a_whole_file_larger_than_the_budget_is_refused(tmp_path: Path) -> None:
    (tmp_path / "big.bin").write_bytes(b"x" * 40_000)
    with pytest.raises(simplemr.TaskFailedError, match=r"big.bin' \(39.1 KiB\) is larger than"):
        collect(simplemr.input_files(tmp_path, "file"), memory="32KiB")


def test_an_unknown_input_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(simplemr.JobDefinitionError, match="unknown input format 'xml'"):
        simplemr.input_files(tmp_path, "xml")


def pairs(_: Any) -> Iterator[tuple[str, Any]]:
    yield from [("a", 1), ("b", [2, "x"]), ("c\td", None)]


@pytest.mark.parametrize(
    ("output_format", "expected"),
    [
        ("tsv", ["a\t1", 'b\t[2, "x"]', '"c\\td"\tnull']),  # a tab in a key: JSON
        ("jsonl", ['["a", 1]', '["b", [2, "x"]]', '["c\\td", null]']),
        ("value", ["1", '[2, "x"]', "null"]),
    ],
)
def test_output_formats_of_a_folder(tmp_path: Path, output_format: str, expected: list) -> None:
    job = simplemr.MapReduce(
        pairs, lambda k, v: (k, next(v)), executor="inline", partitions=1, sort=True
    )
    job.run([0], output=tmp_path / "out", output_format=output_format)
    assert (tmp_path / "out" / "part-00000").read_text().splitlines() == expected
    assert (tmp_path / "out" / "_SUCCESS").exists()


def test_an_output_file_name_and_a_different_format_conflict(tmp_path: Path) -> None:
    job = simplemr.MapReduce(pairs, lambda k, v: (k, 1), executor="inline")
    with pytest.raises(simplemr.JobDefinitionError, match="named as tsv, but jsonl was asked for"):
        job.run([0], output=tmp_path / "out.tsv", output_format="jsonl")
    assert not (tmp_path / "out.tsv").exists()


def test_format_value_of_a_result_that_is_no_pair() -> None:
    assert format_value("line") == "line"
    assert format_value(("k", "v")) == "v"


def test_a_csv_row_with_too_many_or_too_few_fields_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "long.csv").write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(
        simplemr.TaskFailedError, match=r"row 2 after the header has 3 fields, the header 2"
    ):
        collect(simplemr.input_files(tmp_path / "long.csv", "csv"))
    (tmp_path / "short.csv").write_text("a,b,c\n1,2,3\n4\n")
    with pytest.raises(
        simplemr.TaskFailedError, match=r"row 2 after the header has 1 fields, the header 3"
    ):
        collect(simplemr.input_files(tmp_path / "short.csv", "csv"))


def test_a_csv_byte_order_mark_is_not_part_of_the_header(tmp_path: Path) -> None:
    (tmp_path / "excel.csv").write_bytes("\ufeffname,n\r\nx,1\r\n".encode())
    assert collect(simplemr.input_files(tmp_path / "excel.csv", "csv")) == [{"name": "x", "n": "1"}]


def test_a_compressed_whole_file_is_measured_decompressed(tmp_path: Path) -> None:
    with gzip.open(tmp_path / "zeros.gz", "wb") as file:
        file.write(bytes(200_000))
    assert (tmp_path / "zeros.gz").stat().st_size < 1000
    with pytest.raises(
        simplemr.TaskFailedError, match="decompresses to more than the memory budget"
    ):
        collect(simplemr.input_files(tmp_path, "file"), memory="64KiB")
