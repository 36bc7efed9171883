"""A step's own partitioner: every key goes to the reduce task it chooses, on every
executor and both cores, at any budget; what it returns is checked as it runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simplemr
from simplemr.errors import JobDefinitionError


def by_first_letter(key: str, partitions: int) -> int:
    return ord(key[0]) % partitions


def words_of(line: str) -> list[tuple[str, int]]:
    return [(word, 1) for word in line.split()]


def total(word: str, counts: Any) -> tuple[str, int]:
    return word, sum(counts)


def parts_of(folder: Path) -> dict[int, list[Any]]:
    """The results in each ``part-N`` of an output folder of JSON lines, by N."""
    return {
        int(part.name.split("-")[1]): [
            tuple(json.loads(line)) for line in part.read_text().splitlines()
        ]
        for part in sorted(folder.glob("part-*"))
    }


def executor_of(name: str, dask_client: Any) -> Any:
    if name == "dask":
        from simplemr.executors.dask import DaskExecutor

        return DaskExecutor(2, client=dask_client)
    return name


words = st.text(alphabet="abcdefgh", min_size=1, max_size=6)


@settings(max_examples=8, deadline=None)
@given(
    lines=st.lists(st.lists(words, max_size=8).map(" ".join), max_size=200),
    partitions=st.integers(1, 5),
    kibibytes=st.sampled_from([16, 256]),
)
def test_every_key_reaches_the_reduce_task_its_partitioner_chose(
    lines: list[str], partitions: int, kibibytes: int, engine_core: str, tmp_path_factory: Any
) -> None:
    folder = tmp_path_factory.mktemp("out") / "counts"
    job = simplemr.MapReduce(
        words_of,
        total,
        lambda word, counts: sum(counts),
        partitions=partitions,
        partitioner=by_first_letter,
        memory=kibibytes * 1024,
        executor="inline",
    )
    job.run(lines, output=str(folder), output_format="jsonl", chunksize=20)
    parts = parts_of(folder)
    assert sorted(parts) == list(range(partitions))
    for number, results in parts.items():
        assert all(by_first_letter(word, partitions) == number for word, _ in results)
    expected: dict[str, int] = {}
    for line in lines:
        for word in line.split():
            expected[word] = expected.get(word, 0) + 1
    assert sorted(result for results in parts.values() for result in results) == sorted(
        expected.items()
    )


@pytest.mark.parametrize("executor", ["inline", "local", "dask"])
def test_a_lambda_partitioner_is_used_alike_on_every_executor(
    executor: str, dask_client: Any, tmp_path: Path
) -> None:
    lines = [f"w{number % 50} x{number % 7}" for number in range(2000)]
    job = simplemr.MapReduce(
        words_of,
        total,
        workers=None if executor == "inline" else 2,
        partitions=3,
        partitioner=lambda key, partitions: 2 if key.startswith("x") else 0,
        memory=2 * 64 * 1024,
        executor=executor_of(executor, dask_client),
    )
    job.run(lines, output=str(tmp_path / "out"), output_format="jsonl", chunksize=300)
    parts = parts_of(tmp_path / "out")
    assert sorted(word for word, _ in parts[2]) == [f"x{n}" for n in range(7)]
    assert parts[1] == []
    assert len(parts[0]) == 50 and {count for _, count in parts[0]} == {40}


def run_with(partitioner: Any, executor: str = "inline") -> Any:
    job = simplemr.MapReduce(
        words_of, total, partitions=2, partitioner=partitioner, executor=executor
    )
    return job.run(["apple banana", "apple"])


@pytest.mark.parametrize(
    ("returned", "shown"),
    [(2, "2"), (-1, "-1"), ("0", "'0'"), (True, "True"), (None, "None"), (1.0, "1.0")],
)
def test_a_partitioner_must_return_a_reduce_task_of_the_job(returned: Any, shown: str) -> None:
    with pytest.raises(
        simplemr.TaskFailedError,
        match=r"the partitioner must return the reduce task of a key, an int in range\(2\); "
        rf"for key '\w+' it returned {shown}",
    ):
        run_with(lambda key, partitions: returned)


def test_an_integer_that_is_not_an_int_is_taken() -> None:
    class Index:
        def __init__(self, number: int) -> None:
            self.number = number

        def __index__(self) -> int:
            return self.number

    result = run_with(lambda key, partitions: Index(len(key) % partitions))
    assert sorted(result.results) == [("apple", 2), ("banana", 1)]


@pytest.mark.parametrize("executor", ["inline", "local"])
def test_a_partitioner_that_raises_fails_its_task_naming_the_key(executor: str) -> None:
    def failing(key: str, partitions: int) -> int:
        raise LookupError(f"no rule for {key}")

    with pytest.raises(
        simplemr.TaskFailedError,
        match=r"map task \d+( of \d+)? failed on key '\w+': "
        "the partitioner raised LookupError: no rule",
    ):
        run_with(failing, executor)


@pytest.mark.parametrize("partitioner", ["by_first_letter", 3])
def test_a_partitioner_that_is_not_a_function_is_refused_up_front(partitioner: Any) -> None:
    with pytest.raises(JobDefinitionError, match="the partitioner must be callable or None"):
        simplemr.MapReduce(words_of, total, partitioner=partitioner)


class ByLength(simplemr.Job):
    def steps(self) -> list[simplemr.Step]:
        return [
            simplemr.Step(
                mapper=self.split_words,
                reducer=self.count,
                partitioner=lambda word, partitions: min(len(word), partitions) - 1,
            )
        ]

    def split_words(self, key: None, line: str) -> Any:
        for word in line.split():
            yield word, 1

    def count(self, word: str, counts: Any) -> Any:
        yield word, sum(counts)


def test_a_job_class_step_takes_a_partitioner(tmp_path: Path) -> None:
    ByLength().run(
        ["a bb ccc dddd", "a bb"],
        output=str(tmp_path / "out"),
        output_format="jsonl",
        executor="inline",
        partitions=3,
    )
    parts = parts_of(tmp_path / "out")
    assert {number: sorted(results) for number, results in parts.items()} == {
        0: [("a", 2)],
        1: [("bb", 2)],
        2: [("ccc", 1), ("dddd", 1)],
    }
