"""Secondary sort: ``sort_values=`` hands the reducer each key's values in order, within
the memory budget however many values a key has, on every executor and both cores."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simplemr
from simplemr.errors import JobDefinitionError


def pairs_of(record: tuple[str, Any]) -> list[tuple[str, Any]]:
    return [record]


def listed(key: str, values: Iterable[Any]) -> tuple[str, list[Any]]:
    return key, list(values)


def last_digit(value: int) -> int:
    return value % 10


def check_in_order(
    results: list[tuple[str, list[Any]]],
    records: list[tuple[str, Any]],
    by: Callable[[Any], Any] | None,
    reverse: bool,
) -> None:
    """Each key's values are all there, and ordered by ``by`` (ties in any order)."""
    expected: dict[str, list[Any]] = {}
    for key, value in records:
        expected.setdefault(key, []).append(value)
    assert sorted(key for key, _ in results) == sorted(expected)
    order = by or (lambda value: value)
    for key, values in results:
        assert sorted(values) == sorted(expected[key])
        assert [order(v) for v in values] == sorted(map(order, values), reverse=reverse)


records = st.lists(
    st.tuples(st.sampled_from(["hot", "a", "b", "c"]), st.integers(-1000, 1000)), max_size=3000
)


@settings(max_examples=10, deadline=None)
@given(
    records=records,
    by=st.sampled_from([None, last_digit, abs]),
    reverse=st.booleans(),
    kibibytes=st.sampled_from([16, 1024]),
)
def test_each_key_s_values_reach_the_reducer_in_order(
    records: list[tuple[str, int]], by: Any, reverse: bool, kibibytes: int, engine_core: str
) -> None:
    job = simplemr.MapReduce(
        pairs_of,
        listed,
        combiner=None,
        sort_values=by or True,
        reverse_values=reverse,
        memory=kibibytes * 1024,
        executor="inline",
    )
    check_in_order(job.run(records, chunksize=500).results, records, by, reverse)


def executor_of(name: str, dask_client: Any) -> Any:
    if name == "dask":
        from simplemr.executors.dask import DaskExecutor

        return DaskExecutor(2, client=dask_client)
    return name


@pytest.mark.parametrize("executor", ["inline", "local", "dask"])
def test_a_key_past_the_budget_is_sorted_in_runs_on_every_executor(
    executor: str, dask_client: Any
) -> None:
    records = [("hot", (n * 7919) % 20011) for n in range(20000)] + [("cold", 3), ("cold", 1)]
    job = simplemr.MapReduce(
        pairs_of,
        listed,
        workers=None if executor == "inline" else 2,
        memory=2 * 64 * 1024,
        sort_values=True,
        reverse_values=True,
        executor=executor_of(executor, dask_client),
    )
    result = job.run(records, chunksize=5000)
    assert result.counters["reduce.spilled_bytes"] > 0  # the hot key went past the budget
    check_in_order(result.results, records, None, True)


def test_values_that_cannot_be_ordered_fail_the_task_naming_the_key_and_types() -> None:
    job = simplemr.MapReduce(pairs_of, listed, sort_values=True, executor="inline")
    with pytest.raises(
        simplemr.SortError,
        match=r"^reduce task \d+ of \d+ \(partition \d+\): sort_values needs values that < "
        r"can order, and those of key 'mixed' cannot "
        r"be: '<' not supported between instances of '(str|int)' and '(str|int)'",
    ):
        job.run([("fine", 1), ("mixed", 1), ("mixed", "one")])


def test_values_past_the_budget_that_cannot_be_ordered_fail_alike() -> None:
    records = [("hot", n) for n in range(20000)] + [("hot", "one")]
    job = simplemr.MapReduce(
        pairs_of, listed, sort_values=True, memory=64 * 1024, executor="inline"
    )
    with pytest.raises(
        simplemr.SortError,
        match=r"those of key 'hot' cannot be: '<' not supported between instances of",
    ):
        job.run(records, chunksize=5000)


def test_a_sort_values_function_that_raises_fails_naming_the_key() -> None:
    def order(value: int) -> int:
        raise ArithmeticError("no order")

    job = simplemr.MapReduce(pairs_of, listed, sort_values=order, executor="inline")
    with pytest.raises(
        simplemr.TaskFailedError,
        match=r"failed on key 'a': the sort_values function raised ArithmeticError: no order",
    ):
        job.run([("a", 1), ("a", 2)])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"sort_values": "yes"}, "sort_values must be True .*, a function of a value"),
        ({"sort_values": 1}, "sort_values must be True"),
        ({"reverse_values": True}, r"reverse_values=True needs sort_values too"),
        ({"sort_values": True, "reverse_values": "no"}, "reverse_values must be True or False"),
    ],
)
def test_a_bad_value_order_is_refused_up_front(options: dict[str, Any], message: str) -> None:
    with pytest.raises(JobDefinitionError, match=message):
        simplemr.MapReduce(pairs_of, listed, **options)


class LatestVisit(simplemr.Job):
    """The last page each user saw: visits ordered by time, newest first."""

    def steps(self) -> list[simplemr.Step]:
        return [
            simplemr.Step(
                mapper=self.visit,
                reducer=self.latest,
                sort_values=lambda visit: visit[0],
                reverse_values=True,
            )
        ]

    def visit(self, _: None, line: str) -> Any:
        user, time, page = line.split()
        yield user, (int(time), page)

    def latest(self, user: str, visits: Any) -> Any:
        yield user, next(iter(visits))[1]


class Ordered(simplemr.Job):
    SORT_VALUES = True

    def mapper(self, _: None, line: str) -> Any:
        user, time, _page = line.split()
        yield user, int(time)

    def reducer(self, user: str, times: Any) -> Any:
        yield user, list(times)


def test_a_job_class_orders_values_by_step_or_for_every_step() -> None:
    lines = ["ann 5 /b", "bob 2 /x", "ann 9 /c", "ann 1 /a", "bob 7 /y"]
    latest = LatestVisit().run(lines, executor="inline")
    assert sorted(latest.results) == [("ann", "/c"), ("bob", "/y")]
    ordered = Ordered().run(lines, executor="inline")
    assert sorted(ordered.results) == [("ann", [1, 5, 9]), ("bob", [2, 7])]


def test_a_step_with_a_bad_value_order_is_refused() -> None:
    with pytest.raises(JobDefinitionError, match="sort_values must be True"):
        simplemr.Step(reducer=listed, sort_values="time")
