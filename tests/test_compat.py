"""SimpleMapReduce: the classic recipe's API and word count, unchanged, on the engine."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from conftest import SAMPLE
from sample_jobs import count_words, file_to_words

from simplemr import SimpleMapReduce


def expected_counts(files: list[Path]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for path in files:
        counts.update(word for word, _ in file_to_words(str(path)))
    return counts


def run_recipe(files: list[Path], **options) -> dict[str, int]:
    mapper = SimpleMapReduce(file_to_words, count_words, **options)
    word_counts = mapper([str(path) for path in files])
    assert all(isinstance(pair, tuple) and len(pair) == 2 for pair in word_counts)
    return dict(word_counts)


@pytest.mark.parametrize("num_workers", [None, 1, 2])
def test_recipe_word_count_on_the_bundled_sample(num_workers) -> None:
    files = sorted(SAMPLE.glob("*.rst"))
    assert files
    assert run_recipe(files, num_workers=num_workers) == expected_counts(files)


def test_recipe_word_count_on_the_recipes_own_files(pymotw_rst: list[Path]) -> None:
    counts = run_recipe(pymotw_rst, num_workers=2)
    assert counts == expected_counts(pymotw_rst)
    assert counts["process"] > 50


def test_chunksize_and_reduce_func_receive_what_the_recipe_gives() -> None:
    def reduce_func(item):
        key, values = item
        return key, type(values).__name__, sorted(values)

    mapper = SimpleMapReduce(lambda n: [(n % 2, n)], reduce_func, executor="inline")
    assert sorted(mapper(range(10), chunksize=3)) == [
        (0, "list", [0, 2, 4, 6, 8]),
        (1, "list", [1, 3, 5, 7, 9]),
    ]


def _log_line_to_status(line: str) -> list[tuple[str, int]]:
    return [(line.split()[1], 1)]


def _status_count(item: tuple[str, list[int]]) -> tuple[str, int]:
    status, ones = item
    return status, sum(ones)


def test_many_small_items_with_the_recipes_chunksize_give_the_recipes_result() -> None:
    # chunksize=1 (the recipe's default) is a hint: 30,000 items are not 30,000 tasks.
    lines = [f"10.0.0.{n % 7} {200 + n % 5} /page/{n}" for n in range(30_000)]
    mapper = SimpleMapReduce(_log_line_to_status, _status_count, 2)
    assert sorted(mapper(lines)) == sorted(Counter(line.split()[1] for line in lines).items())


@pytest.mark.parametrize(
    ("items", "hint", "sizes"),
    [
        (range(30_000), 1, [3750] * 8),  # a quarter of each of 2 workers' share
        (range(10), 3, [3, 3, 3, 1]),  # more than the share: the hint wins
        ((n for n in range(10)), 2, [2, 2, 4, 2]),  # a generator: doubling from the hint
    ],
)
def test_chunksize_is_the_fewest_items_a_map_task_gets(items, hint, sizes) -> None:
    from simplemr.io.inputs import ItemsInput

    splits = ItemsInput(items, min_chunk=hint).splits(2)
    assert [len(split.items) for split in splits] == sizes  # type: ignore[attr-defined]


def test_a_chunksize_below_one_is_refused() -> None:
    mapper = SimpleMapReduce(_log_line_to_status, _status_count, executor="inline")
    with pytest.raises(ValueError, match="chunksize"):
        mapper(["a 200"], chunksize=0)
