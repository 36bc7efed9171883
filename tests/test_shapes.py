"""What a mapper, combiner or reducer gives has a shape: a mapper gives (key, value)
pairs, a combiner one value. A wrong shape fails the task with one message saying
what was expected and what came, in both cores; a reducer passed as the combiner
too (mrjob's habit) is recognised."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest

import simplemr


def collect(key: Any, values: Iterable[Any]) -> tuple[Any, list[Any]]:
    return key, sorted(values)


MUST = r"the mapper must return or yield \(key, value\) pairs, such as \[\(key, value\)\]; "


@pytest.mark.parametrize(
    ("mapper", "records", "said"),
    [
        (lambda x: x * 2, [1, 2], r"it returned 2, an int$"),
        (lambda x: None, [1], r"it returned None$"),
        (lambda x: (x, 1), [5], r"it yielded 5, an int$"),  # one pair, not in a list
        (lambda line: line.split(), ["ab cd", "ef"], r"it yielded 'ab', a str$"),
        (lambda x: [(x, 1, 2)], [1], r"it yielded \(1, 1, 2\), a tuple of 3$"),
        (lambda x: [b"kv"], [1], r"it yielded b'kv', a bytes$"),
        (lambda x: 10**5000, [1], r"it returned <int too large to show>, an int$"),
    ],
    ids=["an int", "None", "one bare pair", "strings of two", "triples", "bytes of two", "huge"],
)
def test_a_mapper_of_the_wrong_shape_is_told_what_to_return(
    mapper: Callable[[Any], Any], records: list[Any], said: str, engine_core: str
) -> None:
    job = simplemr.MapReduce(mapper, collect, executor="inline")
    with pytest.raises(
        simplemr.TaskFailedError, match=r"map task 1 failed on item 1 .*" + MUST + said
    ):
        job.run(records)


def test_pairs_of_any_two_things_still_count_as_pairs(engine_core: str) -> None:
    job = simplemr.MapReduce(lambda x: [[x % 2, x], iter((x % 2, -x))], collect, executor="inline")
    assert sorted(job.run([1, 2, 3]).results) == [(0, [-2, 2]), (1, [-3, -1, 1, 3])]


def test_the_message_of_a_wrong_shape_comes_home_from_a_worker() -> None:
    job = simplemr.MapReduce(lambda line: line.split(), collect, workers=2)
    with pytest.raises(simplemr.TaskFailedError, match=MUST + "it yielded 'ab', a str"):
        job.run(["ab cd"])


def word_pairs(line: str) -> list[tuple[str, int]]:
    return [(word, 1) for word in line.split()]


def total(key: str, counts: Iterable[int]) -> tuple[str, int]:
    return key, sum(counts)


def max_pair(key: str, pairs: Iterable[tuple[int, str]]) -> tuple[int, str]:
    return max(pairs)


def scored(line: str) -> list[tuple[str, tuple[int, str]]]:
    return [(word[:1], (len(word), word)) for word in line.split()]


@pytest.mark.parametrize("executor", ["inline", "local"])
def test_the_reducer_as_the_combiner_returning_pairs_is_refused(executor: str) -> None:
    lines = ["feel the feel of it"] * 50  # 100 of "feel" a task: the combiner runs
    job = simplemr.MapReduce(word_pairs, total, combiner=total, executor=executor)
    with pytest.raises(
        simplemr.TaskFailedError,
        match=r"map task \d+( of \d+)? failed on .*the combiner, which is the reducer, returned "
        r"\('\w+', \d+\) for key '\w+': a combiner returns one value standing for the "
        r"values it is given .* not a \(key, value\) pair; pass a combiner of its own",
    ):
        job.run(lines, chunksize=25)


def test_a_reducer_of_values_is_a_combiner_too_even_of_tuples(engine_core: str) -> None:
    lines = ["feel the feel of it", "fine tea"] * 20
    for reducer in (count_only, max_pair):
        mapper = word_pairs if reducer is count_only else scored
        job = simplemr.MapReduce(mapper, reducer, combiner=reducer, executor="inline")
        result = job.run(lines, chunksize=40)
        assert result.counters["combine.records_in"] > 0
        expected = simplemr.MapReduce(mapper, reducer, executor="inline").run(lines)
        assert sorted(result.results) == sorted(expected.results)


def count_only(key: str, counts: Iterable[int]) -> int:
    return sum(counts)


def generating(key: str, counts: Iterable[int]) -> Iterable[int]:
    yield sum(counts)


def test_a_combiner_that_returns_a_generator_is_refused() -> None:
    job = simplemr.MapReduce(word_pairs, total, combiner=generating, executor="inline")
    with pytest.raises(
        simplemr.TaskFailedError,
        match=r"the combiner must return one value standing for the values of key '\w+', "
        "which the reducer then gets among them; it returned a generator",
    ):
        job.run(["feel the feel of it"] * 10, chunksize=10)


def test_a_wrong_shape_is_no_bad_record_to_skip() -> None:
    job = simplemr.MapReduce(lambda x: x, collect, executor="inline", max_bad_records=5)
    with pytest.raises(simplemr.TaskFailedError, match=MUST + "it returned 1, an int$"):
        job.run([1, 2])


def stops_at_a_breakpoint(record: int) -> list[tuple[int, int]]:
    import bdb

    raise bdb.BdbQuit  # what breakpoint() raises in a process without a terminal


def test_a_breakpoint_in_a_worker_says_how_to_debug() -> None:
    job = simplemr.MapReduce(stops_at_a_breakpoint, collect, workers=1)
    with pytest.raises(
        simplemr.TaskFailedError,
        match=r"the mapper raised BdbQuit \(a breakpoint\(\) in a worker process has no "
        r"terminal to stop at: debug with executor='inline'",
    ):
        job.run([1])
