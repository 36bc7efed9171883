"""What a mapper, combiner or reducer gives has a shape: a mapper gives (key, value)
pairs, a combiner one value. A wrong shape fails the task with one message saying
what was expected and what came, in both cores; a reducer passed as the combiner
too (mrjob's habit) is recognised."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest

import simplemr
from simplemr import core
from simplemr.core import partition
from simplemr.core import pure as kernels


@pytest.fixture(params=["compiled", "pure"])
def engine_core(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "compiled" and core.compiled is None:
        pytest.skip("the compiled core is not built")
    if request.param == "pure":
        for name in ("map_records", "merge_items", "spread"):
            monkeypatch.setattr(core, name, getattr(kernels, name))
        monkeypatch.setattr(core, "partition_of", partition.partition_of)
    return str(request.param)


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
    ],
    ids=["an int", "None", "one bare pair", "strings of two", "triples", "bytes of two"],
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


def test_the_reducer_as_the_combiner_is_recognised(engine_core: str) -> None:
    lines = ["feel the feel of it"] * 50  # 100 of "feel" a task: the combiner runs
    for executor in ("inline", "local"):
        result = simplemr.MapReduce(
            word_pairs, total, combiner=total, executor=executor, workers=None
        ).run(lines, chunksize=25)
        assert sorted(result.results) == [("feel", 100), ("it", 50), ("of", 50), ("the", 50)]
        assert result.counters["combine.records_in"] > result.counters["combine.records_out"] > 0


def count_only(key: str, counts: Iterable[int]) -> int:
    return sum(counts)


def other_key(key: str, counts: Iterable[int]) -> tuple[str, int]:
    return key.upper(), sum(counts)


def test_a_reducer_that_returns_no_value_of_its_key_is_refused_as_the_combiner() -> None:
    lines = ["feel the feel of it"] * 10
    job = simplemr.MapReduce(word_pairs, other_key, combiner=other_key, executor="inline")
    with pytest.raises(
        simplemr.TaskFailedError,
        match=r"the reducer, given as the combiner too, returned \('FEEL', 20\) for key "
        r"'feel': as a combiner it must return one \(key, value\) pair for the same key",
    ):
        job.run(lines, chunksize=10)
    # A reducer that returns one value is a combiner's shape already.
    plain = simplemr.MapReduce(word_pairs, count_only, combiner=count_only, executor="inline")
    assert sorted(plain.run(lines, chunksize=10).results) == [10, 10, 10, 20]
