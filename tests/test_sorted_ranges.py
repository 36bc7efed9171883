"""``sort=True`` in parallel: a sample of the keys cut into ordered ranges, one a
reduce task, so that the parts in order are the sorted output and no process merges
them (``shuffle/ranges.py``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simplemr
from simplemr.shuffle.ranges import RangePartitioner, cut_points


def pair_of(key: Any) -> list[tuple[Any, int]]:
    return [(key, 1)]


def counted(key: Any, ones: Any) -> tuple[Any, int]:
    return key, sum(ones)


def reference(keys: list[Any]) -> list[tuple[Any, int]]:
    counts: dict[Any, int] = {}
    for key in keys:
        counts[key] = counts.get(key, 0) + 1
    return sorted(counts.items())


def parts_of(folder: Path) -> list[list[Any]]:
    return [
        [json.loads(line) for line in part.read_text().splitlines()]
        for part in sorted(folder.glob("part-*"))
    ]


keys = st.one_of(
    st.lists(st.integers(-50, 10**6), max_size=2000),
    st.lists(st.text(alphabet="abcz", max_size=4), max_size=2000),
)


@settings(max_examples=12, deadline=None)
@given(
    keys=keys,
    partitions=st.integers(1, 6),
    kibibytes=st.sampled_from([16, 1024]),
    hot=st.integers(0, 3000),
)
def test_sorted_results_are_the_sorted_reference_at_any_budget(
    keys: list[Any], partitions: int, kibibytes: int, hot: int, engine_core: str
) -> None:
    keys = keys + [keys[0]] * hot if keys else keys  # one key may hold most pairs
    job = simplemr.MapReduce(
        pair_of, counted, sort=True, partitions=partitions, memory=kibibytes * 1024,
        executor="inline",
    )  # fmt: skip
    assert job.run(keys, chunksize=300).results == reference(keys)


@pytest.mark.parametrize("executor", ["inline", "local", "dask"])
def test_each_part_is_a_range_in_order_and_a_hot_key_has_one_to_itself(
    executor: str, dask_client: Any, tmp_path: Path
) -> None:
    from simplemr.executors.dask import DaskExecutor

    keys = [f"k{(n * 7919) % 3001:05d}" for n in range(12000)] + ["k01500"] * 20000
    job = simplemr.MapReduce(
        pair_of, counted, sort=True, partitions=4,
        workers=None if executor == "inline" else 2,
        executor=DaskExecutor(2, client=dask_client) if executor == "dask" else executor,
    )  # fmt: skip
    job.run(keys, output=str(tmp_path / "out"), output_format="jsonl", chunksize=2000)
    parts = parts_of(tmp_path / "out")
    assert len(parts) == 4
    assert [key for part in parts for key, _ in part] == [key for key, _ in reference(keys)]
    assert [["k01500", 20004]] in parts  # the hot key, alone in its part
    assert sum(1 for part in parts if part) >= 3  # the other keys spread over the rest


def test_a_sorted_file_output_is_the_parts_one_after_the_other(tmp_path: Path) -> None:
    keys = [n % 997 for n in range(10000)]
    job = simplemr.MapReduce(pair_of, counted, sort=True, partitions=3, executor="inline")
    job.run(keys, output=str(tmp_path / "counts.tsv"))
    lines = (tmp_path / "counts.tsv").read_text().splitlines()
    assert lines == [f"{key}\t{count}" for key, count in reference(keys)]


def test_keys_that_cannot_be_ordered_fail_as_a_sort_error() -> None:
    job = simplemr.MapReduce(pair_of, counted, sort=True, partitions=2, executor="inline")
    with pytest.raises(simplemr.SortError, match="sort=True needs keys that < can order"):
        job.run([1, "a", 2, "b"])


def test_cut_points_give_each_range_a_share_of_the_pairs() -> None:
    samples = [[("a", 1), ("b", 1)], [("c", 1), ("d", 1), ("e", 4)]]
    assert cut_points(samples, 2) == ("d",)
    assert cut_points(samples, 4) == ("b", "d", "e")  # "e", half the pairs, alone
    assert cut_points([[("a", 1), ("e", 9)], [("e", 3)]], 3) == ("a", "e")
    assert cut_points([], 3) == ()
    partitioner = RangePartitioner(("b", "d", "e"))
    assert [partitioner(key, 4) for key in "abcdef"] == [0, 0, 1, 1, 2, 3]


def test_a_job_class_without_a_reducer_sorts_in_ranges(tmp_path: Path) -> None:
    from simplemr.examples.sort_lines import SortLines

    data = tmp_path / "data.tsv"
    data.write_text("".join(f"r{n}\t{(n * 7919) % 10007:05d}\n" for n in range(6000)))
    job = SortLines(field=2)
    job.run(job.files([str(data)]), output=str(tmp_path / "out"), partitions=3, workers=2)
    parts = [part.read_text().splitlines() for part in sorted((tmp_path / "out").glob("part-*"))]
    assert len(parts) == 3 and all(len(part) > 1000 for part in parts)  # balanced ranges
    keys = [line.split("\t")[1] for part in parts for line in part]
    assert keys == sorted(keys) and len(keys) == 6000


class RenamingKeys(simplemr.Job):
    SORT = True

    def mapper(self, _: None, word: str) -> Any:
        yield word, 1

    def reducer(self, word: str, ones: Any) -> Any:
        yield word[::-1], sum(ones)  # keys of its own: ranges of the grouped keys would not do


def test_a_job_class_whose_reducer_yields_its_own_keys_is_merged(tmp_path: Path) -> None:
    words = ["ab", "ba", "cd", "zy", "ab", "mn"] * 50
    RenamingKeys().run(words, output=str(tmp_path / "out"), partitions=3, executor="inline")
    parts = sorted((tmp_path / "out").glob("part-*"))
    assert [part.name for part in parts] == ["part-00000"]  # the driver merged them
    keys = [line.split("\t")[0] for line in parts[0].read_text().splitlines()]
    assert keys == sorted(word[::-1] for word in set(words))


@settings(max_examples=10, deadline=None)
@given(
    keys=st.lists(st.integers(-500, 500), max_size=1500),
    by=st.sampled_from([None, abs, lambda key: (key % 7, key)]),
    reverse=st.booleans(),
    partitions=st.integers(1, 5),
)
def test_sort_key_and_reverse_order_the_results_and_their_ranges(
    keys: list[int], by: Any, reverse: bool, partitions: int, engine_core: str
) -> None:
    job = simplemr.MapReduce(
        pair_of, counted, sort=True, sort_key=by, reverse=reverse, partitions=partitions,
        memory=32 * 1024, executor="inline",
    )  # fmt: skip
    results = job.run(keys, chunksize=200).results
    assert sorted(results) == reference(keys)
    order = by or (lambda key: key)
    assert [order(key) for key, _ in results] == sorted(
        (order(key) for key, _ in results), reverse=reverse
    )


class Counted(simplemr.Job):
    def mapper(self, _: None, word: str) -> Any:
        yield word, 1

    def reducer(self, word: str, ones: Any) -> Any:
        yield word, sum(ones)


def test_a_job_class_takes_sort_key_and_reverse_when_run() -> None:
    words = ["bb", "a", "ccc", "a", "dddd"]
    result = Counted().run(words, sort=True, sort_key=len, reverse=True, executor="inline")
    assert result.results == [("dddd", 1), ("ccc", 1), ("bb", 1), ("a", 2)]


def test_a_sort_key_that_raises_fails_as_a_sort_error_naming_the_key() -> None:
    def by(key: str) -> int:
        return int(key)

    for partitions in (1, 3):  # in a reduce task; in the driver's sample
        job = simplemr.MapReduce(
            pair_of, counted, sort=True, sort_key=by, partitions=partitions, executor="inline"
        )
        with pytest.raises(simplemr.SortError, match=r"the sort_key raised on key 'x': ValueError"):
            job.run(["1", "x", "2"])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"sort_key": len}, r"sort_key= and reverse= order sorted results: add sort=True"),
        ({"reverse": True}, r"add sort=True"),
        ({"sort": True, "sort_key": "len"}, r"sort_key must be a function of a key"),
        ({"sort": True, "reverse": 1}, r"reverse must be True or False, got 1"),
    ],
)
def test_a_bad_sort_order_is_refused_up_front(options: dict[str, Any], message: str) -> None:
    with pytest.raises(simplemr.JobDefinitionError, match=message):
        simplemr.MapReduce(pair_of, counted, **options)


def test_a_generator_is_sampled_from_its_first_splits_and_sorted() -> None:
    pulled = []

    def numbers() -> Any:
        for number in range(60000):
            pulled.append(number)
            yield (number * 7919) % 60000

    job = simplemr.MapReduce(pair_of, counted, sort=True, partitions=3, executor="inline")
    results = job.run(numbers()).results
    assert [key for key, _ in results] == list(range(60000))
    assert len(pulled) == 60000
