"""Parquet in and out (io/parquet.py): rows read by row group across tasks, as dicts
or tuples of chosen columns, the same results as the same data as JSON lines; results
written as a folder of Parquet parts, in batches; damaged files named."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import simplemr

pa = pytest.importorskip("pyarrow", reason="pyarrow (simplemr[parquet]) is not installed")
pq = pytest.importorskip("pyarrow.parquet")

ROWS = [
    {"country": f"c{n % 7}", "cents": n * 3 % 1000, "note": None if n % 5 else "gift"}
    for n in range(20_000)
]


def _by_country(row: dict) -> list[tuple[str, int]]:
    return [(row["country"], row["cents"])]


def _total(key: str, values) -> tuple[str, int]:
    return key, sum(values)


def _expected() -> dict[str, int]:
    totals: dict[str, int] = {}
    for row in ROWS:
        totals[row["country"]] = totals.get(row["country"], 0) + row["cents"]
    return totals


@pytest.fixture
def orders(tmp_path: Path) -> Path:
    """The rows in a Parquet file of ten row groups, and in a small second file."""
    folder = tmp_path / "orders"
    folder.mkdir()
    pq.write_table(pa.Table.from_pylist(ROWS[:18_000]), folder / "big.parquet", row_group_size=1800)
    pq.write_table(pa.Table.from_pylist(ROWS[18_000:]), folder / "small.parquet")
    return folder


@pytest.mark.parametrize("executor", ["inline", "local", "dask"])
def test_parquet_gives_the_results_of_the_same_rows_as_json_lines(
    orders: Path, tmp_path: Path, executor: str, request: pytest.FixtureRequest
) -> None:
    if executor == "dask":
        from simplemr.executors.dask import DaskExecutor

        chosen: object = DaskExecutor(2, client=request.getfixturevalue("dask_client"))
    else:
        chosen = executor
    lines = tmp_path / "orders.jsonl"
    lines.write_text("".join(json.dumps(row) + "\n" for row in ROWS))
    options = {"workers": 2} if executor == "local" else {}
    job = simplemr.MapReduce(_by_country, _total, executor=chosen, **options)
    from_parquet = job.run(simplemr.parquet_files(orders))
    assert dict(from_parquet) == dict(job.run(simplemr.input_files(lines, "jsonl"))) == _expected()
    assert from_parquet.counters["map.records_in"] == len(ROWS)


def test_row_groups_are_split_across_tasks(orders: Path) -> None:
    files = simplemr.parquet_files(orders)
    files.files.split_size = 2 * (orders / "big.parquet").stat().st_size // 10
    splits = list(files.splits(2))
    assert len(splits) >= 4
    assert all(" row group" in split.describe() for split in splits)
    pieces = [group[2] for split in splits for group in split.groups if "big" in group[1]]
    assert pieces == list(range(10))  # every row group once, in order


def test_chosen_columns_come_as_tuples(orders: Path) -> None:
    job = simplemr.MapReduce(lambda row: [(row[1], row[0])], _total, workers=2)
    result = job.run(simplemr.parquet_files(orders, columns=["cents", "country"]))
    assert dict(result) == _expected()
    with pytest.raises(simplemr.InputError, match=r"'.*big\.parquet' has no column 'price'"):
        simplemr.parquet_files(orders, columns=["price"]).splits(2).__next__()
    with pytest.raises(simplemr.JobDefinitionError, match="columns must be a list of column"):
        simplemr.parquet_files(orders, columns="cents")


def test_a_mapper_error_names_the_file_row_group_and_row(orders: Path) -> None:
    def picky(row: dict) -> list[tuple[str, int]]:
        if row["cents"] == 3 * 1801 % 1000 and row["country"] == "c2":
            raise ValueError("no")
        return [(row["country"], 1)]

    job = simplemr.MapReduce(picky, _total, executor="inline")
    with pytest.raises(
        simplemr.TaskFailedError, match=r"big\.parquet, row group 2, row 2: the mapper"
    ):
        job.run(simplemr.parquet_files(orders / "big.parquet"))


def test_a_damaged_file_fails_naming_the_file_and_the_row_group(orders: Path) -> None:
    data = (orders / "big.parquet").read_bytes()
    footer = pq.ParquetFile(orders / "big.parquet").metadata.row_group(3).column(0)
    start = footer.data_page_offset
    broken = data[:start] + b"\xff" * 64 + data[start + 64 :]
    (orders / "big.parquet").write_bytes(broken)
    job = simplemr.MapReduce(_by_country, _total, workers=2)
    with pytest.raises(
        simplemr.TaskFailedError, match=r"cannot read '.*big\.parquet', row group 4: "
    ):
        job.run(simplemr.parquet_files(orders / "big.parquet"))
    (orders / "not.parquet").write_bytes(b"plain text, no footer")
    with pytest.raises(simplemr.InputError, match=r"cannot read '.*not\.parquet' as Parquet"):
        job.run(simplemr.parquet_files(orders / "not.parquet"))


def test_results_written_as_a_folder_of_parquet_parts(orders: Path, tmp_path: Path) -> None:
    job = simplemr.MapReduce(
        _by_country, lambda key, values: {"country": key, "total": sum(values)}, workers=2,
        partitions=3,
    )  # fmt: skip
    target = tmp_path / "totals.parquet"
    job.run(simplemr.parquet_files(orders), output=target)
    names = sorted(path.name for path in target.iterdir())
    assert names[0] == "_SUCCESS" and all(n.endswith(".parquet") for n in names[1:])
    table = pq.read_table(target)
    assert table.schema.names == ["country", "total"]
    assert {row["country"]: row["total"] for row in table.to_pylist()} == _expected()


def test_pairs_as_key_and_value_and_a_schema_given(orders: Path, tmp_path: Path) -> None:
    job = simplemr.MapReduce(_by_country, _total, workers=2, partitions=9)  # empty parts too
    result = job.run(simplemr.parquet_files(orders), output=tmp_path / "pairs.parquet")
    written = sorted(path.name for path in (tmp_path / "pairs.parquet").glob("part-*"))
    assert [Path(part).name for part in result.output_parts] == written
    assert len(written) < 9  # seven keys: some parts got none, and have no file
    pairs = pq.read_table(tmp_path / "pairs.parquet").to_pylist()
    assert {row["key"]: row["value"] for row in pairs} == _expected()
    schema = pa.schema([("place", pa.string()), ("cents", pa.int32())])
    job.run(
        simplemr.parquet_files(orders), output=tmp_path / "typed", output_format="parquet",
        parquet_schema=schema,
    )  # fmt: skip
    parts = sorted((tmp_path / "typed").glob("part-*.parquet"))
    assert len(parts) == 9  # a schema given: every part has a file, empty ones too
    assert pq.read_table(tmp_path / "typed").schema == schema


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"output": "t.parquet", "compression": "gzip"}, "compresses its own columns"),
        ({"output": "t.tsv", "output_format": "parquet"}, "named as tsv, but parquet"),
        ({"output": "-", "output_format": "parquet"}, "Parquet results go to a folder"),
        ({"output": "t", "parquet_schema": "x"}, "parquet_schema goes with a Parquet output"),
    ],
)
def test_what_a_parquet_output_cannot_take_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: dict, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    job = simplemr.MapReduce(_by_country, _total, executor="inline")
    with pytest.raises(simplemr.JobDefinitionError, match=message):
        job.run(ROWS[:10], **options)
    assert list(tmp_path.iterdir()) == []


def test_results_of_another_shape_fail_the_task(tmp_path: Path) -> None:
    job = simplemr.MapReduce(_by_country, lambda key, values: key, workers=2)
    with pytest.raises(simplemr.TaskFailedError, match="takes results that are all dicts"):
        job.run(ROWS[:100], output=tmp_path / "bad.parquet")
    assert list(tmp_path.iterdir()) == []


def test_without_pyarrow_parquet_says_what_to_install(
    orders: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(simplemr.JobDefinitionError, match=r"pip install 'simplemr\[parquet\]'"):
        simplemr.parquet_files(orders)


JOB = """
import simplemr

class Totals(simplemr.Job):
    def mapper(self, _, row):
        yield row["country"], row["cents"]

    def reducer(self, country, cents):
        yield country, sum(cents)
"""


def test_the_command_line_reads_parquet_and_writes_it(orders: Path, tmp_path: Path) -> None:
    (tmp_path / "totals.py").write_text(JOB)
    command = [sys.executable, "-m", "simplemr", "run", str(tmp_path / "totals.py"), str(orders),
               "--input-format", "parquet", "--workers", "2"]  # fmt: skip
    ran = subprocess.run([*command, "-o", str(tmp_path / "t.tsv")], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    lines = (tmp_path / "t.tsv").read_text().splitlines()
    assert {key: int(value) for key, value in (line.split("\t") for line in lines)} == _expected()
    target = tmp_path / "t.parquet"
    ran = subprocess.run([*command, "-o", str(target)], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    assert {r["key"]: r["value"] for r in pq.read_table(target).to_pylist()} == _expected()


def test_dict_results_with_keys_some_lack_keep_every_column(tmp_path: Path) -> None:
    def rows(key: str, values) -> dict:
        total = sum(values)
        return {"key": key, "total": total, **({"note": "big"} if total > 3 else {})}

    job = simplemr.MapReduce(lambda word: [(word, 1)], rows, executor="inline", partitions=1)
    job.run(["a", "b", "b", "b", "b"], output=tmp_path / "t.parquet")
    table = pq.read_table(tmp_path / "t.parquet")
    assert sorted(table.to_pylist(), key=lambda row: row["key"]) == [
        {"key": "a", "total": 1, "note": None}, {"key": "b", "total": 4, "note": "big"},
    ]  # fmt: skip
    schema = pa.schema([("key", pa.string()), ("total", pa.int64())])
    with pytest.raises(simplemr.TaskFailedError, match="has the column 'note', which the"):
        job.run(["b"] * 5, output=tmp_path / "u.parquet", parquet_schema=schema)


def test_a_parquet_object_written_again_while_it_is_read_fails_naming_it(bucket) -> None:
    import io

    from simplemr.io.filesystems import storage_options

    s3, name, options = bucket
    url = f"s3://{name}/orders.parquet"

    def parquet_bytes(rows: list[dict]) -> bytes:
        buffer = io.BytesIO()
        pq.write_table(pa.Table.from_pylist(rows), buffer, row_group_size=5000)
        return buffer.getvalue()

    s3.pipe(url, parquet_bytes(ROWS))
    written: list[bool] = []

    def rewriting(row: dict) -> list[tuple[str, int]]:
        if not written:
            s3.pipe(url, parquet_bytes(ROWS[::-1]))  # the same rows, another object
            written.append(True)
        return [(row["country"], row["cents"])]

    with storage_options(options):
        files = simplemr.parquet_files(url)
    job = simplemr.MapReduce(rewriting, _total, executor="inline")
    with pytest.raises(simplemr.TaskFailedError, match=r"orders\.parquet' changed while the job"):
        job.run(files, storage_options=options)


def test_named_outputs_of_a_parquet_output(orders: Path, tmp_path: Path) -> None:
    def routed(country: str, cents) -> object:
        row = {"country": country, "total": sum(cents)}
        return simplemr.To("odd", row) if int(country[1:]) % 2 else row

    job = simplemr.MapReduce(_by_country, routed, workers=2, partitions=3)
    target = tmp_path / "totals.parquet"
    job.run(simplemr.parquet_files(orders), output=target)
    odd = pq.read_table(target / "odd").to_pylist()
    even = pq.read_table(target, partitioning=None, ignore_prefixes=["odd", "_"]).to_pylist()
    expected = _expected()
    assert {r["country"]: r["total"] for r in odd} == {
        c: t for c, t in expected.items() if int(c[1:]) % 2
    }
    assert {r["country"]: r["total"] for r in even} == {
        c: t for c, t in expected.items() if not int(c[1:]) % 2
    }
    assert all(p.suffix == ".parquet" for p in (target / "odd").iterdir())
