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
        match=r"map task 1 (of 1 )?failed on item 50 \(49\): the mapper raised ValueError",
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
