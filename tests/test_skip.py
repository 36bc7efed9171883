"""Skip mode: with max_bad_records, records the mapper raises on are skipped and counted."""

from __future__ import annotations

import pytest
from sample_jobs import first_reducer, partly_bad_mapper, words_mapper

import simplemr

EXECUTORS = ["local", "inline"]
BAD = [n for n in range(50) if n % 7 == 0]  # 8 records


@pytest.mark.parametrize("executor", EXECUTORS)
def test_bad_records_are_skipped_whole_and_listed(executor: str) -> None:
    job = simplemr.MapReduce(partly_bad_mapper, first_reducer, executor=executor, max_bad_records=8)
    result = job.run(range(50), chunksize=5)
    assert sorted(result.results) == [n for n in range(50) if n not in BAD]
    assert result.counters["map.skipped_records"] == 8
    assert len(result.skipped) == 8
    assert result.skipped[0] == "item 1 (0): ValueError: 0 is a multiple of 7"


@pytest.mark.parametrize("executor", EXECUTORS)
def test_one_bad_record_too_many_fails_the_job(executor: str) -> None:
    job = simplemr.MapReduce(partly_bad_mapper, first_reducer, executor=executor, max_bad_records=7)
    with pytest.raises(
        simplemr.TaskFailedError,
        match=r"the mapper raised on 8 records, more than max_bad_records=7; "
        r"the first: item \d+ \(\d+\): ValueError",
    ):
        job.run(range(50), chunksize=1)


def test_too_many_in_one_task_fails_as_an_ordinary_error() -> None:
    job = simplemr.MapReduce(partly_bad_mapper, first_reducer, executor="inline", max_bad_records=7)
    with pytest.raises(
        simplemr.TaskFailedError,
        match=r"map task 1 (of 1 )?failed on item 50 \(49\) \(one bad record more than "
        r"max_bad_records=7 in this task\): the mapper raised ValueError",
    ):
        job.run(range(50), chunksize=50)


def test_without_skip_mode_the_first_bad_record_fails_the_job() -> None:
    job = simplemr.MapReduce(partly_bad_mapper, first_reducer, executor="inline")
    with pytest.raises(simplemr.TaskFailedError, match=r"item 1 \(0\): the mapper raised"):
        job.run(range(50))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_bad_records": -1}, "must be 0 or more"),
        ({"max_bad_records": "10"}, "must be an integer"),
        ({"max_bad_records": 3, "bulk": True}, "needs a per-record mapper"),
    ],
)
def test_bad_skip_settings_are_refused(options: dict, message: str) -> None:
    with pytest.raises(simplemr.JobDefinitionError, match=message):
        simplemr.MapReduce(words_mapper, first_reducer, **options)


def test_skipped_lines_of_a_text_file_are_located_without_recounting(tmp_path) -> None:
    path = tmp_path / "numbers.txt"
    lines = [str(n) if n % 100 else "oops" for n in range(1, 3001)]
    lines[5] = "caf\udce9"  # not UTF-8 once written with surrogateescape
    path.write_bytes("\n".join(lines).encode("utf-8", "surrogateescape") + b"\n")

    def parse(line: str):
        return [(int(line), 1)]

    job = simplemr.MapReduce(parse, first_reducer, executor="inline", max_bad_records=40)
    result = job.run(simplemr.text_files(path, split_size=4000))
    assert result.counters["map.skipped_records"] == 31  # 30 "oops" and one undecodable
    assert result.counters["input.decode_errors"] == 1
    assert result.skipped[0].startswith(f"{path}, line 6: ValueError")
    assert result.skipped[1].startswith(f"{path}, line 100: ValueError")
    assert len(result.skipped) == 10
