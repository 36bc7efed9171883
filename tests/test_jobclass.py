"""Job classes: hooks once per task and in order, pipelines, options, counters, sort."""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from reference import as_multiset, reference_pipeline
from sample_jobs import PIPELINE, CountingDyingOnce, HookOrder, ThreeSteps

import simplemr
from simplemr.core import partition_of

EXECUTORS = ["local", "inline"]
WORKERS = {"local": 2, "inline": None}


@pytest.mark.parametrize("executor", EXECUTORS)
def test_every_hook_runs_once_per_task_in_order(executor: str) -> None:
    result = HookOrder().run(
        range(1000), executor=executor, workers=WORKERS[executor], partitions=3, chunksize=100
    )
    counters = result.counters
    map_tasks, reduce_tasks = counters["tasks.map"], counters["tasks.reduce"]
    assert (map_tasks, reduce_tasks) == (10, 3)
    for hook in ("mapper_init", "mapper_final", "combiner_init", "combiner_final"):
        assert counters[f"hooks.{hook}"] == map_tasks, hook
    for hook in ("reducer_init", "reducer_final"):
        assert counters[f"hooks.{hook}"] == reduce_tasks, hook
    results = dict(pair for pair in result.results if pair[0] != "reducer_final")
    assert results == {
        **{key: sum(range(key, 1000, 5)) for key in range(5)},
        "mapper_final": map_tasks,
        "combiner_final": map_tasks,
    }
    assert result.results.count(("reducer_final", 1)) == reduce_tasks


@pytest.mark.parametrize("executor", EXECUTORS)
def test_a_three_step_pipeline_equals_its_steps_composed_by_hand(executor: str) -> None:
    lines = ["a b a c", "b a", "d d d e", "c", "", "e f g a"] * 7
    result = ThreeSteps().run(lines, executor=executor, workers=WORKERS[executor], partitions=3)
    assert as_multiset(result) == as_multiset(reference_pipeline(PIPELINE, lines))
    assert result.counters["tasks.reduce"] == 3 * 3


@given(
    lines=st.lists(st.text(alphabet="abcde ", max_size=12), max_size=40),
    partitions=st.integers(1, 5),
    memory=st.sampled_from(["64KB", None]),
)
def test_pipeline_property_inline(lines: list[str], partitions: int, memory: str | None) -> None:
    result = ThreeSteps().run(lines, executor="inline", partitions=partitions, memory=memory)
    assert as_multiset(result) == as_multiset(reference_pipeline(PIPELINE, lines))


@pytest.mark.timeout(120)
def test_counters_count_a_retried_task_once(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SIMPLEMR_TEST_MARKER", str(tmp_path / "killed"))
    result = CountingDyingOnce().run(range(40), workers=2, chunksize=5)
    assert (tmp_path / "killed").exists()
    assert result.counters["tasks.retries"] == 1
    assert result.counters["test.records"] == 40
    assert result.counters["test.values"] == 40
    assert result.counters.user() == {"test.records": 40, "test.values": 40}
    assert sorted(result) == [(k, sum(range(k, 40, 4))) for k in range(4)]


def test_increment_counter_from_a_plain_function_job() -> None:
    def mapper(word: str) -> Iterator[tuple[str, int]]:
        simplemr.increment_counter("words", "long" if len(word) > 3 else "short")
        yield word, 1

    job = simplemr.MapReduce(mapper, lambda w, c: (w, sum(c)), executor="inline")
    counters = job.run(["tree", "a", "house", "of", "tree"]).counters
    assert counters.user() == {"words.long": 3, "words.short": 2}


def test_increment_counter_outside_a_task_does_nothing() -> None:
    simplemr.increment_counter("words", "seen")  # no error, and counted nowhere:
    job = simplemr.MapReduce(lambda n: [(n, 1)], lambda k, v: k, executor="inline")
    assert job.run([1, 2]).counters.user() == {}


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        (("map", "x"), ValueError, "simplemr's own"),
        (("", "x"), TypeError, "strings"),
        (("g", "x", 1.5), TypeError, "integer"),
    ],
)
def test_increment_counter_checks_its_arguments(args: tuple, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        simplemr.increment_counter(*args)


class Options(simplemr.Job):
    def configure_options(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--times", type=int, default=2)

    def mapper(self, _: None, word: str) -> Iterator[tuple[str, int]]:
        yield word, self.options.times


def test_job_options_have_defaults_and_take_keywords() -> None:
    assert Options().options.times == 2
    result = Options(times=5).run(["a", "b", "a"], executor="inline")
    assert sorted(result) == [("a", 5), ("a", 5), ("b", 5)]  # no reducer: values pass through


def test_an_unknown_option_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(simplemr.JobDefinitionError, match=r"no option tims \(its options: times\)"):
        Options(tims=3)


class Nothing(simplemr.Job):
    pass


class NotSteps(simplemr.Job):
    def steps(self) -> list[Any]:
        return ["mapper"]


class KeyChangingCombiner(simplemr.Job):
    def mapper(self, _: None, word: str) -> Iterator[tuple[str, int]]:
        yield word, 1

    def combiner(self, word: str, counts: Iterable[int]) -> Iterator[tuple[str, int]]:
        yield word.upper(), sum(counts)


class ReducerYieldingNoPairs(simplemr.Job):
    def reducer(self, key: Any, values: Iterable[Any]) -> Iterator[Any]:
        yield key


def test_a_job_class_without_mapper_or_reducer_is_refused() -> None:
    with pytest.raises(simplemr.JobDefinitionError, match="defines no mapper and no reducer"):
        Nothing().run([1])


def test_steps_must_return_steps() -> None:
    with pytest.raises(
        simplemr.JobDefinitionError, match=r"item 1 is 'mapper', not a simplemr.Step"
    ):
        NotSteps().run([1])


def test_a_step_needs_a_mapper_or_a_reducer_and_callables() -> None:
    with pytest.raises(simplemr.JobDefinitionError, match="needs a mapper, a reducer"):
        simplemr.Step()
    with pytest.raises(simplemr.JobDefinitionError, match="reducer must be callable"):
        simplemr.Step(mapper=print, reducer="sum")


def test_a_combiner_must_keep_its_key() -> None:
    with pytest.raises(simplemr.TaskFailedError, match="combiner must keep its key"):
        KeyChangingCombiner().run(["a", "a", "b"] * 10, executor="inline")


def test_a_reducer_must_yield_pairs() -> None:
    with pytest.raises(simplemr.TaskFailedError, match=r"reducer must yield \(key, value\) pairs"):
        ReducerYieldingNoPairs().run(["a"], executor="inline")


@given(
    keys=st.lists(st.integers(-50, 50), max_size=200),
    partitions=st.integers(1, 6),
    memory=st.sampled_from(["16KiB", None]),
)
def test_sort_orders_results_by_key(keys: list[int], partitions: int, memory: str | None) -> None:
    job = simplemr.MapReduce(
        lambda k: [(k, 1)],
        lambda k, ones: (k, sum(ones)),
        executor="inline",
        partitions=partitions,
        memory=memory,
        sort=True,
    )
    expected = sorted({k: keys.count(k) for k in keys}.items())
    assert job.run(keys).results == expected


@pytest.mark.parametrize("executor", EXECUTORS)
def test_sort_larger_than_the_budget_spills_sorted_runs(executor: str) -> None:
    job = simplemr.MapReduce(
        lambda n: [((n * 7919) % 20011, n)],
        lambda k, values: (k, sorted(values)),
        workers=WORKERS[executor],
        partitions=3,
        memory="64KB",
        executor=executor,
        sort=True,
    )
    result = job.run(range(20011))
    assert [key for key, _ in result] == list(range(20011))
    assert result.counters["reduce.spilled_bytes"] > 0


@pytest.mark.parametrize(
    ("partitions", "where"),
    [(1, "reduce task 1 of 1 \\(partition 1\\): "), (2, "")],
)
def test_sort_with_keys_that_cannot_be_ordered_fails_with_a_sort_error(
    partitions: int, where: str
) -> None:
    # Numbers all in partition 1 of 2 and letters all in partition 2: with one
    # partition the reduce task meets them, with two the driver's merge.
    numbers = [n for n in range(20) if partition_of(n, 2) == 0][:4]
    letters = [c for c in "abcdefghijklmnop" if partition_of(c, 2) == 1][:4]
    job = simplemr.MapReduce(
        lambda x: [(x, 1)], lambda k, v: (k, 1), executor="inline", sort=True,
        partitions=partitions,
    )  # fmt: skip
    with pytest.raises(simplemr.SortError, match="^" + where + "sort=True needs keys") as raised:
        job.run([key for pair in zip(numbers, letters, strict=True) for key in pair])
    if where:  # from a task: its traceback comes home too
        assert "_sorted_in_place" in str(raised.value.__cause__)


class InMapperCombining(simplemr.Job):
    """The mrjob habit: a dict built by the mapper, yielded by mapper_final."""

    def mapper_init(self) -> None:
        self.seen: dict[int, int] = {}

    def mapper(self, _: None, number: int) -> Iterator[Any]:
        self.seen[number] = self.seen.get(number, 0) + 1
        return iter(())

    def mapper_final(self) -> Iterator[tuple[int, int]]:
        yield from self.seen.items()

    def reducer(self, key: int, counts: Iterable[int]) -> Iterator[tuple[int, int]]:
        yield key, sum(counts)


def test_pairs_from_mapper_final_are_spilled_within_the_budget() -> None:
    result = InMapperCombining().run(
        range(60_000), executor="inline", memory="256KiB", chunksize=60_000
    )
    assert result.counters["map.spills"] > 1  # not one table of 60,000 keys
    assert len(result) == 60_000 and all(count == 1 for _, count in result)


class DroppingCombiner(simplemr.Job):
    def mapper(self, _: None, pair: tuple[str, int]) -> Iterator[tuple[str, int]]:
        yield pair

    def combiner(self, key: str, values: Iterable[int]) -> Iterator[tuple[str, int]]:
        kept = [value for value in values if value > 0]
        if kept:
            yield key, sum(kept)

    def reducer(self, key: str, values: Iterable[int]) -> Iterator[tuple[str, list[int]]]:
        yield key, sorted(values)


def test_a_key_the_combiner_drops_never_reaches_the_reducer() -> None:
    records = [("a", 1), ("a", 2), ("b", -1), ("b", -2)]
    result = DroppingCombiner().run(records, executor="inline", chunksize=4)
    assert result.results == [("a", [3])]


class MrjobSpelling(simplemr.Job):
    def configure_args(self) -> None:
        super().configure_args()
        self.add_passthru_arg("--shout", action="store_true")

    def mapper(self, _: None, word: str) -> Iterator[tuple[str, int]]:
        yield (word.upper() if self.options.shout else word), 1


def test_mrjob_spellings(tmp_path: Path, capsys) -> None:
    result = MrjobSpelling(shout=True).run(["a"], executor="inline")
    assert result.results == [("A", 1)]
    with pytest.raises(
        simplemr.JobDefinitionError, match=r"options as keywords .*main\(\[\.\.\.\]\)"
    ):
        MrjobSpelling(args=["--shout"])
    (tmp_path / "in.txt").write_text("b\n")
    with pytest.raises(SystemExit) as exit_info:  # MyJob.run() is mrjob's entry point
        MrjobSpelling.run([str(tmp_path / "in.txt"), "--shout", "--executor", "inline"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == "B\t1\n"


def test_user_counters_may_not_use_a_builtin_group_even_dotted() -> None:
    with pytest.raises(ValueError, match="simplemr's own"):
        simplemr.increment_counter("map.mine", "n")


class Misspelt(simplemr.Job):
    def mapp(self, key: Any, line: str) -> Iterator[tuple[str, int]]:
        yield line, 1

    def reducer(self, key: str, values: Iterable[Any]) -> Iterator[tuple[str, int]]:
        yield key, len(list(values))


class Reduce(simplemr.Job):
    def mapper(self, key: Any, line: str) -> Iterator[tuple[str, int]]:
        yield line, 1

    def reduce(self, key: str, values: Iterable[int]) -> Iterator[tuple[str, int]]:
        yield key, sum(values)

    def mapper_int(self) -> None:
        pass


class OwnNames(simplemr.Job):
    """Methods of its own names (a step's, a helper's) and every hook spelt right."""

    def mapper(self, key: Any, line: str) -> Iterator[tuple[str, int]]:
        yield self.cleaned(line), 1

    def reducer(self, key: str, values: Iterable[int]) -> Iterator[tuple[str, int]]:
        yield key, sum(values)

    def reducer_final(self) -> Iterator[tuple[str, int]]:
        yield from ()

    def cleaned(self, line: str) -> str:
        return line.strip()

    def mapper_words(self, key: Any, line: str) -> Iterator[tuple[str, int]]:
        yield from ()


def test_a_misspelt_hook_is_named_beside_the_hook_it_looks_like() -> None:
    with pytest.warns(UserWarning, match=r"Misspelt defines mapp\(\), which looks like a "
                      r"misspelt mapper\(\), and has no mapper\(\)"):  # fmt: skip
        ran = Misspelt().run(["a", "b"], executor="inline")
    assert ran.results == [(None, 2)]  # reducer-only, as the warning says
    with pytest.warns(UserWarning) as seen:
        Reduce().run(["a"], executor="inline")
    said = sorted(str(warning.message).split(", and has")[0] for warning in seen)
    assert said == [
        "Reduce defines mapper_int(), which looks like a misspelt mapper_init()",
        "Reduce defines reduce(), which looks like a misspelt reducer()",
    ]


def test_methods_of_a_jobs_own_names_are_not_taken_for_misspelt_hooks(
    recwarn: pytest.WarningsRecorder,
) -> None:
    assert sorted(OwnNames().run([" a", "a "], executor="inline").results) == [("a", 2)]
    assert not [w for w in recwarn if "misspelt" in str(w.message)]


def test_run_with_file_names_points_at_files(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text("a\nb\n")
    job = OwnNames()
    with pytest.warns(UserWarning, match=r"OwnNames.run\(\) got names of existing files "
                      r".*To read the files, pass job.files\(names\)"):  # fmt: skip
        names = job.run([str(log)], executor="inline").results
    assert names == [(str(log), 1)]  # what it said: the name itself was mapped
    for one in (str(log), log):
        with pytest.raises(simplemr.JobDefinitionError, match=r"got one (str|PosixPath) .* as "
                           r"inputs: to read files, pass job.files\("):  # fmt: skip
            job.run(one, executor="inline")  # type: ignore[arg-type]
    assert sorted(job.run(job.files(str(log)), executor="inline").results) == [("a", 1), ("b", 1)]
