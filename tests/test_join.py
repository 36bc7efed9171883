"""Several named inputs, each with its own mapper, and ``simplemr.join`` on top of them:
against a plain in-memory join, at tiny budgets, on every executor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simplemr
from simplemr.errors import JobDefinitionError


def reference_join(left: list[Any], right: list[Any], how: str) -> list[Any]:
    """The join of ``left`` and ``right`` records, ``(key, value)`` pairs, keyed by
    their first field, as a plain loop does it."""
    results = [(one[0], one, other) for one in left for other in right if one[0] == other[0]]
    if how in ("left", "outer"):
        keys = {other[0] for other in right}
        results += [(one[0], one, None) for one in left if one[0] not in keys]
    if how in ("right", "outer"):
        keys = {one[0] for one in left}
        results += [(other[0], None, other) for other in right if other[0] not in keys]
    return sorted(results, key=repr)


def first(record: tuple[int, int]) -> int:
    return record[0]


records = st.lists(st.tuples(st.integers(0, 30), st.integers()), max_size=300)


@settings(max_examples=15, deadline=None)
@given(
    left=records,
    right=records,
    how=st.sampled_from(simplemr.joins.HOW),
    kibibytes=st.sampled_from([16, 1024]),
)
def test_a_join_is_the_plain_loop_s_join(
    left: list[Any], right: list[Any], how: str, kibibytes: int, engine_core: str
) -> None:
    job = simplemr.join(first, first, how=how, memory=kibibytes * 1024, executor="inline")
    result = job.run({"left": left, "right": right}, chunksize=50)
    assert sorted(result.results, key=repr) == reference_join(left, right, how)
    assert result.counters.get("map.records_in.left", 0) == len(left)
    assert result.counters.get("map.records_in.right", 0) == len(right)


@pytest.mark.parametrize("executor", ["local", "dask"])
def test_a_join_of_files_on_every_executor(executor: str, dask_client: Any, tmp_path: Path) -> None:
    from simplemr.executors.dask import DaskExecutor

    (tmp_path / "customers.csv").write_text("id,name\n1,ann\n2,bob\n4,dan\n")
    (tmp_path / "orders.csv").write_text(
        "order,customer\n" + "".join(f"o{n},{n % 4}\n" for n in range(40))
    )
    job = simplemr.join(
        lambda customer: customer["id"], lambda order: order["customer"], how="left",
        workers=2, memory=2 * 64 * 1024,
        executor=DaskExecutor(2, client=dask_client) if executor == "dask" else executor,
    )  # fmt: skip
    result = job.run({
        "left": simplemr.input_files([str(tmp_path / "customers.csv")], "csv"),
        "right": simplemr.input_files([str(tmp_path / "orders.csv")], "csv"),
    })  # fmt: skip
    by_name: dict[str, int] = {}
    for _key, customer, order in result.results:
        by_name[customer["name"]] = by_name.get(customer["name"], 0) + (order is not None)
    assert by_name == {"ann": 10, "bob": 10, "dan": 0}
    assert result.counters["map.records_in.left"] == 3
    assert result.counters["map.records_in.right"] == 40


def test_each_named_input_is_mapped_by_its_own_mapper() -> None:
    job = simplemr.MapReduce(
        {"words": lambda line: [(w, 1) for w in line.split()], "counts": lambda kv: [kv]},
        lambda word, counts: (word, sum(counts)),
        executor="inline",
    )
    result = job.run({"words": ["a b a"], "counts": [("a", 10), ("c", 1)]})
    assert sorted(result.results) == [("a", 12), ("b", 1), ("c", 1)]
    assert result.counters["map.records_in.words"] == 1
    assert result.counters["map.records_in.counts"] == 2


def test_one_mapper_may_read_several_named_inputs_counted_apart() -> None:
    job = simplemr.MapReduce(lambda x: [(x, 1)], lambda k, v: (k, sum(v)), executor="inline")
    result = job.run({"monday": ["a", "b"], "tuesday": ["a"]})
    assert sorted(result.results) == [("a", 2), ("b", 1)]
    assert result.counters["map.records_in.monday"] == 2


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (["a"], r"maps inputs named 'left', 'right', each with its own mapper; pass a dict"),
        ({"left": [], "other": []}, r"pass a dict of them, .*, not of 'left', 'other'"),
        ({"left": [], "right": [], "x": []}, r"not of 'left', 'right', 'x'"),
        ({"a b": []}, r"an input's name must be a word"),
        ({}, "inputs is an empty dict"),
    ],
)
def test_named_inputs_that_do_not_match_the_mappers_are_refused(inputs: Any, message: str) -> None:
    job = simplemr.join(first, first, executor="inline")
    with pytest.raises(JobDefinitionError, match=message):
        job.run(inputs)


@pytest.mark.parametrize(
    ("arguments", "options", "message"),
    [
        ((first, first), {"how": "cross"}, "how must be one of 'inner', 'left', 'right', 'outer'"),
        ((first, "id"), {}, "right_key must be a function of a record, got 'id'"),
        ((first, first), {"sort_values": True}, "join orders and combines values itself"),
    ],
)
def test_a_bad_join_is_refused_up_front(arguments: Any, options: Any, message: str) -> None:
    with pytest.raises(JobDefinitionError, match=message):
        simplemr.join(*arguments, **options)


def test_a_mapper_of_a_named_input_must_be_callable() -> None:
    with pytest.raises(JobDefinitionError, match="the mapper of input 'orders' must be callable"):
        simplemr.MapReduce({"orders": "parse"}, lambda k, v: k)


class CustomerOrders(simplemr.Job):
    """How many orders each customer placed, by name: a mapper for each input."""

    def steps(self) -> list[simplemr.Step]:
        mappers = {"customers": self.customer, "orders": self.order}
        return [
            simplemr.Step(mapper=mappers, reducer=self.named, sort_values=lambda tagged: tagged[0])
        ]

    def customer(self, _: None, row: tuple[int, str]) -> Any:
        yield row[0], (0, row[1])

    def order(self, _: None, row: tuple[str, int]) -> Any:
        yield row[1], (1, row[0])

    def named(self, customer: int, tagged: Any) -> Any:
        side, name = next(iter(tagged))  # the customer's row comes first
        if side == 0:
            yield name, sum(1 for _ in tagged)


@pytest.mark.parametrize("executor", ["inline", "local"])
def test_a_job_class_step_maps_each_named_input_with_its_own_mapper(executor: str) -> None:
    customers = [(1, "ann"), (2, "bob"), (3, "cy")]
    orders = [(f"o{n}", n % 3 + 1) for n in range(10)] + [("o99", 7)]
    result = CustomerOrders().run(
        {"customers": customers, "orders": orders},
        executor=executor,
        **({} if executor == "inline" else {"workers": 2}),
    )
    assert sorted(result.results) == [("ann", 4), ("bob", 3), ("cy", 3)]
    assert result.counters["map.records_in.orders"] == 11
    with pytest.raises(JobDefinitionError, match="maps inputs named 'customers', 'orders'"):
        CustomerOrders().run(customers, executor="inline")
