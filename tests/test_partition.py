"""Stable partitioning: equal keys hash alike, in every process, whatever PYTHONHASHSEED."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sample_jobs import Point

import simplemr
from simplemr.core.partition import key_bytes, partition_of, stable_hash


class Moment(datetime.datetime):
    """A datetime subclass (like pandas.Timestamp) with a repr of its own."""

    def __repr__(self) -> str:
        return "Moment!"


KEYS = [
    None,
    0,
    1,
    -7,
    2**70,
    1.5,
    float("inf"),
    "",
    "word",
    "naïve ☃",
    b"",
    b"\x00bytes",
    (None,),
    (1, "a", None),
    ((1, 2), (b"x", None)),
    frozenset({1, 2, 3}),
    Point(1, "p"),
    datetime.date(2024, 2, 29),
]

PROGRAM = """
import json, sys
sys.path.insert(0, {tests!r})
from test_partition import KEYS
from simplemr.core.partition import stable_hash
print(json.dumps([stable_hash(key) for key in KEYS]))
"""


def hashes_in_child(seed: str) -> list[int]:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    tests = os.path.dirname(os.path.abspath(__file__))
    output = subprocess.run(
        [sys.executable, "-c", PROGRAM.format(tests=tests)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output)


def test_same_hash_in_processes_with_different_hash_seeds() -> None:
    first, second = hashes_in_child("1"), hashes_in_child("2")
    assert first == second == [stable_hash(key) for key in KEYS]


def test_python_hash_really_differs_between_those_processes() -> None:
    # Guards the test above: it would prove nothing if hash() were stable here.
    program = "print(hash('word'), hash((None, 'x')))"
    outputs = {
        subprocess.run(
            [sys.executable, "-c", program],
            env=dict(os.environ, PYTHONHASHSEED=seed),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 2


@pytest.mark.parametrize(
    "equal_keys",
    [
        (1, 1.0, True, Fraction(1), Decimal(1)),
        (0, 0.0, False, -0.0),
        (0.5, Fraction(1, 2), Decimal("0.5")),
        ((1, "a"), (1.0, "a"), (True, "a")),
        (frozenset({1, 2}), frozenset({2.0, 1})),
        (1, 1 + 0j),
        (datetime.timedelta(hours=1), datetime.timedelta(minutes=60)),
        (datetime.datetime(2024, 11, 3, 1, 30), datetime.datetime(2024, 11, 3, 1, 30, fold=1)),
        (
            datetime.time(12, 30, tzinfo=datetime.timezone.utc),
            datetime.time(13, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=1))),
        ),
        (Point(1, "p"), Point(1, "p")),
        (
            datetime.datetime(2024, 1, 1, 12, tzinfo=datetime.timezone.utc),
            datetime.datetime(
                2024, 1, 1, 13, tzinfo=datetime.timezone(datetime.timedelta(hours=1))
            ),
        ),
        (datetime.datetime(2024, 1, 1, 12), Moment(2024, 1, 1, 12)),
        (10**5000, Fraction(10**5000), Decimal(10) ** 5000),  # past Python's decimal limit
        (2**2048, Fraction(2**2048), Decimal(2**2048)),
    ],
)
def test_keys_that_are_equal_hash_alike(equal_keys: tuple) -> None:
    assert len(set(equal_keys)) == 1  # they really are one dict key
    assert len({stable_hash(key) for key in equal_keys}) == 1


def test_distinct_kinds_do_not_collide() -> None:
    distinct = [
        "1", b"1", 1, (1,), None, "None", (), "", frozenset({1}), 1j,
        datetime.date(2024, 1, 1), datetime.datetime(2024, 1, 1), datetime.timedelta(1),
    ]  # fmt: skip
    assert len({key_bytes(key) for key in distinct}) == len(distinct)


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(), st.binary()
)
keys = st.recursive(scalars, lambda inner: st.tuples(inner, inner), max_leaves=6)


def numeric_twin(key):
    """An equal key of other types: ints as floats, bools as ints, tuples deeply."""
    if isinstance(key, bool):
        return int(key)
    if isinstance(key, int) and abs(key) < 2**53:
        return float(key)
    if isinstance(key, float) and key.is_integer():
        return int(key)
    if isinstance(key, tuple):
        return tuple(numeric_twin(item) for item in key)
    return key


@given(keys)
def test_equal_keys_always_hash_alike(key) -> None:
    twin = numeric_twin(key)
    assert twin == key
    assert stable_hash(twin) == stable_hash(key)


@given(keys, st.integers(1, 64))
def test_partition_is_in_range_with_and_without_salt(key, partitions) -> None:
    assert 0 <= partition_of(key, partitions) < partitions
    assert 0 <= partition_of(key, partitions, b"salt") < partitions


def test_salted_hash_spreads_keys_of_one_partition() -> None:
    # Keys that share a partition must not share a salted partition too, or
    # splitting a partition again would not split it at all.
    same = [k for k in range(5000) if partition_of(k, 4) == 0]
    pieces = {partition_of(k, 4, b"again") for k in same}
    assert pieces == {0, 1, 2, 3}


def _nans(count: int) -> list[float]:
    return [float("nan") for _ in range(count)]  # distinct objects, as records make them


@pytest.mark.parametrize("memory", ["64MB", "40KB"])
@pytest.mark.parametrize("executor", ["inline", "local"])
def test_every_nan_is_one_key_however_it_is_grouped(memory: str, executor: str) -> None:
    items = [(value, 1) for value in _nans(3000)] + [((1, nan), 1) for nan in _nans(500)]
    items += [("a", 1)] * 100
    job = simplemr.MapReduce(
        lambda pair: [pair], lambda key, ones: (repr(key), sum(ones)), executor=executor,
        memory=memory, workers=1 if executor == "inline" else 2, partitions=3,
    )  # fmt: skip
    assert sorted(job.run(items, chunksize=100).results) == [
        ("'a'", 100), ("(1, nan)", 500), ("nan", 3000),
    ]  # fmt: skip


def test_a_job_class_combiner_keeps_a_nan_key() -> None:
    class Nans(simplemr.Job):
        def mapper(self, _, value):
            yield float("nan"), value

        def combiner(self, key, values):
            yield key, sum(values)

        def reducer(self, key, values):
            yield repr(key), sum(values)

    assert Nans().run([1] * 200, executor="inline").results == [("nan", 200)]


def test_canonical_keys_merge_nans_and_leave_the_rest_alone() -> None:
    from simplemr.core.partition import NAN, canonical_key, same_key

    key = ("a", 1, (2.5, "b"))
    assert canonical_key(key) is key
    assert canonical_key(float("nan")) is NAN
    assert canonical_key((1, (float("nan"), "x")))[1][0] is NAN
    assert canonical_key(frozenset({float("nan")})) == frozenset({NAN})
    assert same_key(float("nan"), float("nan"))
    assert same_key((1, float("nan")), (1.0, float("nan")))
    assert not same_key((1, float("nan")), (2, float("nan")))


def test_a_hot_nan_key_keeps_its_spilled_values_through_a_resplit(tmp_path) -> None:
    from collections import defaultdict

    from simplemr.shuffle.reducetask import _Scratch, group_within_budget

    items = [(float("nan"), list(range(5000)))] + [(i, [i]) for i in range(20_000)]
    scratch = _Scratch(str(tmp_path), defaultdict(int))
    groups = {
        "nan" if key != key else key: len(list(values))
        for chunk in group_within_budget(items, 16 * 1024, scratch)
        for key, values in chunk
    }
    assert groups["nan"] == 5000
    assert len(groups) == 20_001


@pytest.mark.parametrize("executor", ["inline", "local"])
def test_ints_of_thousands_of_digits_are_keys_like_any(executor: str) -> None:
    big = [10**5000 + n for n in range(3)]
    job = simplemr.MapReduce(lambda n: [(n, 1), (n, 2)], lambda k, v: (k, sum(v)),
                             executor=executor, partitions=3)  # fmt: skip
    assert sorted(job.run(big).results) == [(n, 3) for n in big]
