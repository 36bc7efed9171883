"""The engine's behaviour beyond the reference property tests: spills, streaming,
laziness, errors, clean-up, start methods and a dead worker."""

from __future__ import annotations

import gc
import os
import threading
from pathlib import Path

import pytest
import sample_jobs
from reference import as_multiset, reference_mapreduce
from sample_jobs import (
    HookOrder,
    always_dying_mapper,
    dying_mapper,
    failing_mapper,
    failing_reducer,
    first_reducer,
    gc_thresholds_mapper,
    hot_key_mapper,
    identity_mapper,
    mixed_key_mapper,
    sorted_values_reducer,
    streaming_counter,
    sum_combiner,
    sum_reducer,
    words_mapper,
)

import simplemr
from simplemr.errors import RemoteTraceback
from simplemr.executors.local import WORKER_GC_THRESHOLDS

EXECUTORS = ["local", "inline"]


@pytest.mark.parametrize("executor", EXECUTORS)
def test_tiny_budget_spills_on_both_sides_and_stays_exact(executor: str, work_root: Path) -> None:
    records = list(range(20_000))
    job = simplemr.MapReduce(
        mixed_key_mapper,
        sorted_values_reducer,
        workers=None if executor == "inline" else 2,
        partitions=3,
        memory="64KiB",
        executor=executor,
        tmp_dir=str(work_root),
    )
    result = job.run(records)
    expected = reference_mapreduce(mixed_key_mapper, sorted_values_reducer, records)
    assert as_multiset(result.results) == as_multiset(expected)
    assert result.counters["map.spills"] > result.counters["tasks.map"]
    assert result.counters["reduce.spilled_bytes"] > 0
    assert list(work_root.iterdir()) == []


def _one_partition_of_200_000_keys(memory: str) -> dict[str, int]:
    """Run 200,000 distinct keys through one partition inline; check the results and
    return the counters."""
    records = list(range(200_000))
    job = simplemr.MapReduce(
        identity_mapper, first_reducer, workers=1, partitions=1, memory=memory,
        executor="inline",
    )  # fmt: skip
    result = job.run(records, chunksize=20_000)
    assert sorted(result.results) == records
    return result.counters


def test_a_partition_many_budgets_large_is_grouped_a_bucket_at_a_time() -> None:
    # About 40 times the reduce budget: map tasks wrote it in buckets, each of which
    # fits, so nothing is written again.
    counters = _one_partition_of_200_000_keys("1MB")
    assert counters["map.spilled_bytes"] > 0
    assert counters["reduce.spilled_bytes"] == 0


def test_a_bucket_many_budgets_large_is_split_on_disk_once() -> None:
    # Each bucket about 30 times the budget: the reduce task sizes its split by the
    # part of the bucket read when it runs out of room, so every value is written to
    # a piece once, not again at a second level.
    counters = _one_partition_of_200_000_keys("16KiB")
    map_bytes = counters["map.spilled_bytes"]
    # Written once in larger batches than the map's: about 0.7 of the map's bytes
    # (1.3 when a second level of split writes it again).
    assert 0.5 * map_bytes < counters["reduce.spilled_bytes"] < map_bytes


def test_local_workers_collect_garbage_less_often_and_the_callers_process_is_untouched() -> None:
    before = gc.get_threshold()
    local = simplemr.MapReduce(gc_thresholds_mapper, sorted_values_reducer, workers=2)
    seen = dict(local.run([1, 2]).results)
    # The first threshold only: later CPythons may read the others differently.
    assert [thresholds[0] for [thresholds] in seen.values()] == [WORKER_GC_THRESHOLDS[0]] * 2
    inline = simplemr.MapReduce(gc_thresholds_mapper, sorted_values_reducer, executor="inline")
    assert inline.run([1]).results == [(1, [before])]
    assert gc.get_threshold() == before


def test_combiner_reduces_what_crosses_the_shuffle() -> None:
    lines = ["a b a c a b"] * 1000
    job = simplemr.MapReduce(words_mapper, sum_reducer, sum_combiner, executor="inline")
    result = job.run(lines)
    assert sorted(result.results) == [("a", 3000), ("b", 2000), ("c", 1000)]
    counters = result.counters
    assert counters["combine.records_in"] == 6000
    assert counters["combine.records_out"] < 100
    assert counters["reduce.records_in"] == counters["combine.records_out"]


def test_one_hot_key_streams_to_the_reducer_from_disk() -> None:
    values = 3_000_000  # as a list of ints, over 100 MiB
    job = simplemr.MapReduce(
        hot_key_mapper, streaming_counter, workers=1, partitions=1, memory="4MB", bulk=True
    )
    result = job.run(range(0, values, 100_000), chunksize=6)
    [(count, worker_peak)] = result.results
    assert count == values
    # The worker's peak over its whole life, map tasks included: the interpreter
    # and the budget, far below what the hot key's values would take in memory.
    assert worker_peak < 64 * 1024 * 1024, f"the worker peaked at {worker_peak} bytes"
    assert result.counters["reduce.spilled_bytes"] > 0


def test_a_generator_of_inputs_is_consumed_lazily() -> None:
    sample_jobs.CONSUMED[0] = 0
    sample_jobs.CONSUMED_AT_MAP.clear()
    job = simplemr.MapReduce(sample_jobs.logging_mapper, sum_reducer, executor="inline")
    result = job.run(sample_jobs.counting_generator(10_000))
    assert sorted(result.results) == [(digit, 1000) for digit in range(10)]
    assert sample_jobs.CONSUMED_AT_MAP[0] <= 2
    assert sample_jobs.CONSUMED[0] == 10_000


def test_reducer_gets_an_iterator_and_a_generator_reducer_yields_many() -> None:
    def reducer(key, values):
        assert not isinstance(values, list)
        yield from ((key, value) for value in values)

    result = simplemr.MapReduce(identity_mapper, reducer, executor="inline").run([1, 2, 2])
    assert sorted(result.results) == [(1, 1), (2, 2), (2, 2)]


@pytest.mark.parametrize("executor", EXECUTORS)
def test_mapper_exception_names_task_item_and_cause(executor: str, work_root: Path) -> None:
    job = simplemr.MapReduce(
        failing_mapper, first_reducer, executor=executor, tmp_dir=str(work_root)
    )
    with pytest.raises(simplemr.TaskFailedError) as caught:
        job.run(list(range(10)), chunksize=2)
    error = caught.value
    assert str(error).startswith("map task 2")
    assert "item 4 (3): the mapper raised ZeroDivisionError: integer division" in str(error)
    assert isinstance(error.original, ZeroDivisionError)
    assert isinstance(error.__cause__, RemoteTraceback)
    assert "1 // (number - 3)" in error.__cause__.text
    assert list(work_root.iterdir()) == []


@pytest.mark.parametrize("executor", EXECUTORS)
def test_reducer_exception_names_the_key(executor: str, work_root: Path) -> None:
    job = simplemr.MapReduce(
        identity_mapper, failing_reducer, partitions=3, executor=executor, tmp_dir=str(work_root)
    )
    with pytest.raises(
        simplemr.TaskFailedError,
        match=r"reduce task \d of 3 failed on key 'bad': the reducer raised KeyError: 'no luck'",
    ):
        job.run(["good", "bad", "fine"])
    assert list(work_root.iterdir()) == []


def test_a_killed_worker_is_replaced_and_its_task_rerun(tmp_path: Path, work_root: Path) -> None:
    marker = str(tmp_path / "died-once")
    items = [(number, marker) for number in range(20)]
    job = simplemr.MapReduce(dying_mapper, sorted_values_reducer, workers=2, tmp_dir=str(work_root))
    result = job.run(items, chunksize=3)
    expected = reference_mapreduce(
        lambda item: [(item[0] % 3, item[0])], sorted_values_reducer, items
    )
    assert Path(marker).exists()
    assert as_multiset(result.results) == as_multiset(expected)
    assert result.counters["tasks.retries"] == 1
    assert result.counters["map.records_in"] == 20  # the dead attempt is not counted
    assert list(work_root.iterdir()) == []


@pytest.mark.timeout(60)
def test_a_task_that_always_kills_its_worker_fails_the_job(work_root: Path) -> None:
    job = simplemr.MapReduce(
        always_dying_mapper, first_reducer, workers=2, max_attempts=3, tmp_dir=str(work_root)
    )
    with pytest.raises(
        simplemr.WorkerLostError,
        match=r"map task 1 of 1 \(item 1 \(0\)\) failed after 3 attempts: .* exited with code 3",
    ):
        job.run([0])
    assert list(work_root.iterdir()) == []


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_every_start_method_gives_the_same_results(method: str) -> None:
    lines = ["one two two", "three three three"] * 50
    job = simplemr.MapReduce(
        words_mapper, sum_reducer, sum_combiner, workers=2, start_method=method
    )
    assert sorted(job.run(lines).results) == [("one", 50), ("three", 150), ("two", 100)]


def test_stream_keeps_the_work_folder_until_consumed(work_root: Path) -> None:
    job = simplemr.MapReduce(
        identity_mapper, first_reducer, executor="inline", tmp_dir=str(work_root)
    )
    stream = job.stream(range(5000))
    assert len(list(work_root.iterdir())) == 1
    first = next(stream)
    assert first in range(5000)
    rest = list(stream)
    assert sorted([first, *rest]) == list(range(5000))
    assert list(work_root.iterdir()) == []


def test_closing_a_stream_early_removes_the_work_folder(work_root: Path) -> None:
    job = simplemr.MapReduce(
        identity_mapper, first_reducer, executor="inline", tmp_dir=str(work_root)
    )
    with job.stream(range(100)) as stream:
        next(stream)
    assert list(work_root.iterdir()) == []


def test_a_job_runs_again_cleanly_after_a_failed_run() -> None:
    job = simplemr.MapReduce(failing_mapper, first_reducer, workers=2)
    with pytest.raises(simplemr.TaskFailedError):
        job.run(list(range(10)), chunksize=1)
    assert sorted(job.run([5, 6, 7, 8], chunksize=1).results) == [5, 6, 7, 8]


@pytest.mark.parametrize("executor", EXECUTORS)
def test_items_that_only_cloudpickle_can_ship(executor: str) -> None:
    items = [lambda: "a", lambda: "b", lambda: "a"]
    job = simplemr.MapReduce(lambda make: [(make(), 1)], sum_reducer, executor=executor)
    assert sorted(job.run(items).results) == [("a", 2), ("b", 1)]


@pytest.mark.parametrize("executor", EXECUTORS)
def test_an_item_that_cannot_be_pickled_is_named(executor: str) -> None:
    job = simplemr.MapReduce(identity_mapper, first_reducer, executor=executor)
    with pytest.raises(
        simplemr.TaskFailedError, match=r"map task 2 .*its input cannot be sent to a worker"
    ):
        job.run([1, threading.Lock()], chunksize=1)


@pytest.mark.parametrize("executor", EXECUTORS)
def test_an_exception_that_cannot_be_unpickled_still_reports(executor: str) -> None:
    job = simplemr.MapReduce(sample_jobs.raising_stubborn_error, first_reducer, executor=executor)
    with pytest.raises(
        simplemr.TaskFailedError, match=r"the mapper raised StubbornError: 7"
    ) as caught:
        job.run([7])
    assert "StubbornError" in caught.value.__cause__.text


def test_a_function_that_cannot_be_pickled_is_named() -> None:
    lock = threading.Lock()

    def locking_mapper(record):
        with lock:
            return [(record, 1)]

    job = simplemr.MapReduce(locking_mapper, first_reducer, executor="inline")
    with pytest.raises(
        simplemr.JobDefinitionError, match=r"the mapper .*locking_mapper cannot be sent to worker"
    ) as raised:
        job.run([1])
    # One message says it all: no chain of pickling tracebacks above it.
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"workers": 0}, "workers must be a positive integer"),
        ({"partitions": -1}, "partitions must be a positive integer"),
        ({"memory": "lots"}, "cannot read 'lots' as a size"),
        ({"memory": "1KB"}, "leaves 1000 B per worker"),
        ({"executor": "cloud"}, "unknown executor 'cloud'"),
        ({"max_attempts": 0}, "max_attempts must be a positive integer"),
        ({"tmp_dir": "/no/such/folder"}, "is not a folder"),
        ({"start_method": "teleport"}, "start method 'teleport' is not available"),
    ],
)
def test_bad_options_are_refused_with_a_hint(options: dict, message: str) -> None:
    with pytest.raises(simplemr.JobDefinitionError, match=message):
        simplemr.MapReduce(
            identity_mapper, first_reducer, workers=options.pop("workers", 1), **options
        )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"executor": "inline", "workers": 4}, "workers=4 has no effect with executor='inline'"),
        (
            {"executor": "inline", "start_method": "fork"},
            "start_method='fork' has no effect with executor='inline'",
        ),
        (
            {"executor": simplemr.executors.InlineExecutor(), "workers": 3},
            "workers=3 has no effect with the executor given, which has 1",
        ),
        (
            {"executor": "inline", "task_timeout": 30},
            "task_timeout=30 has no effect with executor='inline', which kills no task",
        ),
        (
            {"executor": simplemr.executors.InlineExecutor(), "task_timeout": 5.5},
            "task_timeout=5.5 has no effect with an executor given ready-made",
        ),
    ],
)
def test_options_an_executor_ignores_are_warned_about(options: dict, message: str) -> None:
    with pytest.warns(UserWarning, match=message) as warned:
        job = simplemr.MapReduce(identity_mapper, first_reducer, **options)
    assert warned[0].filename == __file__  # the warning points at the caller's line
    assert job.workers == 1
    assert sorted(job.run(["a", "b"]).results) == ["a", "b"]


def test_a_job_class_run_warns_at_its_callers_line() -> None:
    with pytest.warns(UserWarning, match="workers=3 has no effect") as warned:
        HookOrder().run(range(10), executor="inline", workers=3)
    assert warned[0].filename == __file__


def test_a_chunksize_for_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("a\nb\n")
    job = simplemr.MapReduce(identity_mapper, first_reducer, executor="inline")
    with pytest.raises(simplemr.JobDefinitionError, match=r"chunksize=1 .* split_size=N"):
        job.run(simplemr.text_files(tmp_path / "in.txt"), chunksize=1)
    compat = simplemr.SimpleMapReduce(lambda line: [(line, 1)], lambda pair: pair[0], 1)
    assert sorted(compat(simplemr.text_files(tmp_path / "in.txt"))) == ["a", "b"]


def test_uncallable_functions_and_string_inputs_are_refused() -> None:
    with pytest.raises(simplemr.JobDefinitionError, match="the reducer must be callable"):
        simplemr.MapReduce(identity_mapper, "sum")
    job = simplemr.MapReduce(identity_mapper, first_reducer, executor="inline")
    with pytest.raises(simplemr.JobDefinitionError, match=r"text_files\(path\)"):
        job.run("notes.txt")


class Wandering:
    """A mapper that changes its process's directory before each record."""

    def __init__(self, elsewhere: Path) -> None:
        self.elsewhere = elsewhere

    def __call__(self, n: int) -> list[tuple[int, int]]:
        os.chdir(self.elsewhere)
        return [(n % 3, 1)]


@pytest.mark.parametrize("executor", ["inline", "local"])
def test_a_mapper_that_changes_directory_keeps_a_relative_work_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, executor: str
) -> None:
    monkeypatch.chdir(tmp_path)  # and back, after the inline mapper moved this process
    (tmp_path / "work").mkdir()
    (tmp_path / "elsewhere").mkdir()
    job = simplemr.MapReduce(
        Wandering(tmp_path / "elsewhere"), lambda k, v: (k, sum(v)), workers=1,
        executor=executor, tmp_dir="work",
    )  # fmt: skip
    assert sorted(job.run(range(30), chunksize=5).results) == [(0, 10), (1, 10), (2, 10)]
    assert list((tmp_path / "work").iterdir()) == []


@pytest.mark.parametrize("executor", ["inline", "local"])
def test_run_reads_each_partition_as_it_ends_in_the_streams_order(executor: str) -> None:
    # run() reads a reduce task's results as soon as it ends, while the others run;
    # its list must be the stream's, partition after partition.
    job = simplemr.MapReduce(
        lambda n: [(n % 97, n)], lambda k, v: (k, sorted(v)), partitions=7,
        executor=executor,
    )  # fmt: skip
    with job.stream(range(5000), chunksize=500) as stream:
        streamed = list(stream)
    assert job.run(range(5000), chunksize=500).results == streamed
    assert len(streamed) == 97
