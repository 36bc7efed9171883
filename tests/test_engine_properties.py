"""The engine against the plain sequential reference, over random jobs and settings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import as_multiset, reference_mapreduce
from sample_jobs import (
    exploding_reducer,
    joining_reducer,
    letters_mapper,
    max_combiner,
    max_reducer,
    mixed_key_mapper,
    normalise_joined,
    sorted_values_reducer,
    sum_combiner,
    sum_reducer,
    words_mapper,
)

import simplemr

words = st.text(alphabet="abc de\tf", max_size=30)
JOBS = {
    "wordcount": (words_mapper, sum_reducer, sum_combiner, st.lists(words, max_size=200)),
    "mixed keys": (
        mixed_key_mapper,
        sorted_values_reducer,
        None,
        st.lists(st.integers(-1000, 1000), max_size=300),
    ),
    "max with combiner": (
        mixed_key_mapper,
        max_reducer,
        max_combiner,
        st.lists(st.integers(-1000, 1000), max_size=300),
    ),
    "generator reducer": (
        mixed_key_mapper,
        exploding_reducer,
        None,
        st.lists(st.integers(-50, 50), max_size=100),
    ),
    "order-sensitive reducer": (
        letters_mapper,
        joining_reducer,
        None,
        st.lists(words, max_size=100),
    ),
}


def bulk(mapper: Any) -> Any:
    """The same mapper as a bulk mapper, taking a list of records at once."""
    return lambda records: [pair for record in records for pair in mapper(record)]


settings_strategy = st.fixed_dictionaries(
    {
        "workers": st.integers(1, 3),
        "partitions": st.integers(1, 8),
        "tiny_memory": st.booleans(),
        "bulk": st.booleans(),
        "chunksize": st.one_of(st.none(), st.integers(1, 50)),
    }
)


def run_case(
    job_name: str,
    executor: Any,
    records: list[Any],
    options: dict[str, Any],
    start_method: str | None = None,
) -> None:
    mapper, reducer, combiner, _ = JOBS[job_name]
    memory = 16 * 1024 * options["workers"] if options["tiny_memory"] else None
    job = simplemr.MapReduce(
        bulk(mapper) if options["bulk"] else mapper,
        reducer,
        combiner,
        workers=None if executor == "inline" else options["workers"],
        partitions=options["partitions"],
        memory=memory,
        executor=executor,
        bulk=options["bulk"],
        start_method=start_method,
    )
    result = job.run(records, chunksize=options["chunksize"])
    expected = reference_mapreduce(mapper, reducer, records)
    if reducer is joining_reducer:
        assert normalise_joined(result.results) == normalise_joined(expected)
    else:
        assert as_multiset(result.results) == as_multiset(expected)
    assert result.counters["map.records_in"] == len(records)
    assert result.counters["reduce.records_out"] == len(expected)


@pytest.mark.parametrize("job_name", sorted(JOBS))
@given(data=st.data(), options=settings_strategy)
def test_inline_matches_reference(
    job_name: str, data: st.DataObject, options: dict, engine_core: str
) -> None:
    records = data.draw(JOBS[job_name][3])
    run_case(job_name, "inline", records, options)


@pytest.mark.parametrize("job_name", sorted(JOBS))
@settings(max_examples=10)
@given(data=st.data(), options=settings_strategy)
def test_local_matches_reference(job_name: str, data: st.DataObject, options: dict) -> None:
    """What worker processes add to the inline runs above: tasks and their outputs
    pickled between processes, several workers, completions in any order (the
    engine's logic itself is what the inline test covers, at four times the cases)."""
    records = data.draw(JOBS[job_name][3])
    run_case(job_name, "local", records, options)


@pytest.mark.parametrize("job_name", sorted(JOBS))
@settings(max_examples=12)
@given(data=st.data(), options=settings_strategy)
def test_dask_matches_reference(
    job_name: str, data: st.DataObject, options: dict, dask_client: Any
) -> None:
    from simplemr.executors.dask import DaskExecutor

    records = data.draw(JOBS[job_name][3])
    run_case(job_name, DaskExecutor(options["workers"], client=dask_client), records, options)


@pytest.mark.parametrize("job_name", sorted(JOBS))
@settings(max_examples=4)
@given(data=st.data(), options=settings_strategy)
def test_local_on_the_pure_core_matches_reference(
    job_name: str, data: st.DataObject, options: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers started afresh with SIMPLEMR_PURE=1 run the pure core (test_core.py checks
    that they do)."""
    monkeypatch.setenv("SIMPLEMR_PURE", "1")
    records = data.draw(JOBS[job_name][3])
    run_case(job_name, "local", records, options, start_method="spawn")


@pytest.mark.parametrize("job_name", sorted(JOBS))
@settings(max_examples=4)
@given(data=st.data(), options=settings_strategy)
def test_dask_on_the_pure_core_matches_reference(
    job_name: str, data: st.DataObject, options: dict, dask_pure_client: Any
) -> None:
    from simplemr.executors.dask import DaskExecutor

    records = data.draw(JOBS[job_name][3])
    executor = DaskExecutor(options["workers"], client=dask_pure_client)
    run_case(job_name, executor, records, options)


def hot_and_cold_mapper(number: int) -> list[tuple[Any, Any]]:
    """Pairs for the same-output test: one hot key with most values, a few warm
    ones, and many cold keys of several types, each value unique to its record."""
    return [
        ("hot", number),
        (number % 7, f"w{number}"),
        ((number % 97, str(number % 5)), number * 3),
        (f"cold-{number}", None),
    ]


def listing_reducer(key: Any, values: Iterable[Any]) -> tuple[Any, int, list[Any]]:
    """Every value in the order the reducer got it: what differs first if two
    executors group a partition differently."""
    values = list(values)
    return key, len(values), values[:3] + values[-3:]


@settings(max_examples=6, deadline=None)
@given(
    count=st.one_of(st.just(0), st.integers(1500, 8000)),
    partitions=st.integers(1, 4),
    kibibytes=st.sampled_from([16, 32, 64]),
    chunksize=st.sampled_from([200, 1000, 2500]),
)
def test_every_executor_gives_the_same_output_at_any_budget(
    count: int, partitions: int, kibibytes: int, chunksize: int, dask_client: Any, engine_core: str
) -> None:
    """The same job, input and budget give the same results, in the same order, on
    the inline, local and Dask executors: past the budget each spills, sends hot keys
    to disk and splits again at the same points (the docs promise the same output
    bytes on every executor)."""
    from simplemr.executors.dask import DaskExecutor

    records = list(range(count))
    outputs = {}
    for name, executor, workers in [
        ("inline", "inline", None),
        ("local", "local", 2),
        ("dask", DaskExecutor(2, client=dask_client), 2),
    ]:
        job = simplemr.MapReduce(
            hot_and_cold_mapper,
            listing_reducer,
            workers=workers,
            partitions=partitions,
            memory=(workers or 1) * kibibytes * 1024,  # the same budget for every worker
            executor=executor,
        )
        result = job.run(records, chunksize=chunksize)
        outputs[name] = result.results
        assert bool(result.counters.get("map.spills")) == bool(count)  # past the budget
    assert outputs["local"] == outputs["inline"]
    assert outputs["dask"] == outputs["inline"]
    assert len(outputs["inline"]) == (count and min(count, 7) + min(count, 97 * 5) + count + 1)
