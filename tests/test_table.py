"""The budgeted table and the reduce side's pieces, on their own: the table's
cadence and estimate, grouping within a budget (a hot key sent to disk, a partition
split again by a salted hash), and how many pieces a split makes."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simplemr import counters as C
from simplemr.core import partition_of
from simplemr.io.batches import LocalFile, read_batches
from simplemr.shuffle.reducetask import (
    _fanout,
    _Scratch,
    _split_again,
    group_within_budget,
)
from simplemr.shuffle.segments import ReadProgress, Segment, read_segment
from simplemr.shuffle.table import GroupTable, check_interval

# --- GroupTable ------------------------------------------------------------------------


def test_a_check_of_the_budget_is_due_every_so_many_values() -> None:
    table = GroupTable(1024 * 1024)
    every = check_interval(1024 * 1024)
    assert table.room == every
    assert not table.took(every - 1)  # not yet due
    assert table.took(1)  # due: room starts again
    assert table.room == every and table.values == every
    assert not table.took(0)  # a fill that took nothing ran out of input


def test_the_estimate_grows_with_the_table_and_passes_a_small_budget() -> None:
    table = GroupTable(4096)
    assert not table.over_budget()  # empty
    for number in range(200):
        table.groups[f"key {number}"] = [number, number]
    table.values = 400
    assert table.over_budget()
    estimate = table.estimate()
    assert estimate > 4096
    table.clear()
    assert table.groups == {} and table.values == 0
    assert table.estimate() == 0  # what it learned of sizes stays, applied to nothing


# --- _fanout ---------------------------------------------------------------------------


def test_the_fanout_projects_the_whole_partition_from_the_part_read() -> None:
    read = ReadProgress([Segment("a-file", ((0, 600), (600, 1000)), 1000)])
    read.done = 100  # a tenth read, holding 2 budgets: the whole is about 20
    assert _fanout(2.0, 1.0, read) == 30  # pieces of two thirds of a budget
    read.done = 1000
    assert _fanout(2.0, 1.0, read) == 8  # all read: 3 pieces wanted, 8 at least
    assert _fanout(1000.0, 1.0, read) == 64  # never more than 64 at one level


def test_without_progress_the_fanout_cuts_generously() -> None:
    assert _fanout(5.0, 1.0, None) == 20
    assert _fanout(0.5, 1.0, None) == 8


# --- _split_again ----------------------------------------------------------------------


def _scratch(tmp_path: Path) -> _Scratch:
    return _Scratch(str(tmp_path / "scratch"), {C.REDUCE_SPILLED_BYTES: 0})


@given(
    items=st.lists(st.tuples(st.integers(0, 50), st.lists(st.integers(), max_size=4)), max_size=80),
    fanout=st.integers(1, 9),
    held=st.integers(0, 80),
)
@settings(max_examples=60)
def test_split_again_puts_every_value_in_its_keys_salted_piece(
    tmp_path_factory: pytest.TempPathFactory, items: list, fanout: int, held: int
) -> None:
    scratch = _scratch(tmp_path_factory.mktemp("split"))
    items = [(key, list(values)) for key, values in items]
    table: dict[Any, list[Any]] = {}
    for key, values in items[:held]:  # some items already grouped, the rest still coming
        table.setdefault(key, []).extend(values)
    expected = Counter((key, value) for key, values in items for value in values)
    path, pieces = _split_again(table, iter(items[held:]), fanout, 1, scratch, flush_at=7)
    assert table == {}  # drained as it was written
    assert len(pieces) == fanout
    found: Counter = Counter()
    for number, piece in enumerate(pieces):
        for key, values in read_segment(piece) if piece is not None else ():
            assert partition_of(key, fanout, b"simplemr-resplit-1") == number
            found.update((key, value) for value in values)
    assert found == expected
    assert scratch.counters[C.REDUCE_SPILLED_BYTES] == Path(path).stat().st_size


# --- group_within_budget --------------------------------------------------------------


def _grouped(items: list, budget: float, tmp_path: Path) -> dict[Any, list[Any]]:
    scratch = _scratch(tmp_path)
    fresh = [(key, list(values)) for key, values in items]  # the table takes the lists
    try:
        return {
            key: list(values)
            for chunk in group_within_budget(fresh, budget, scratch)
            for key, values in chunk
        }
    finally:
        scratch.remove()


def _reference(items: list) -> dict[Any, list[Any]]:
    grouped: dict[Any, list[Any]] = {}
    for key, values in items:
        grouped.setdefault(key, []).extend(values)
    return grouped


@given(
    items=st.lists(
        st.tuples(
            st.one_of(st.integers(0, 300), st.text(max_size=3)), st.lists(st.integers(), max_size=5)
        ),
        max_size=400,
    ),
    budget=st.sampled_from([2_000, 20_000, 10**9]),
)
@settings(max_examples=60)
def test_grouping_within_any_budget_equals_one_dict_of_lists(
    tmp_path_factory: pytest.TempPathFactory, items: list, budget: int
) -> None:
    grouped = _grouped(items, budget, tmp_path_factory.mktemp("group"))
    reference = _reference(items)
    assert grouped.keys() == reference.keys()
    for key, values in reference.items():
        assert Counter(grouped[key]) == Counter(values)  # a split may reorder values


def test_a_hot_key_goes_to_disk_and_streams_back_in_full(tmp_path: Path) -> None:
    hot = [("hot", list(range(start, start + 100))) for start in range(0, 20_000, 100)]
    cold = [(f"cold {number}", [number]) for number in range(50)]
    items = [
        (key, list(values)) for pair in zip(hot, itertools.cycle(cold)) for key, values in pair
    ]
    scratch = _scratch(tmp_path)
    chunks = group_within_budget(items, 50_000, scratch)
    grouped = {key: list(values) for chunk in chunks for key, values in chunk}
    assert sorted(grouped["hot"]) == list(range(20_000))
    for number in range(50):  # the cold keys came in turn, one a hot item
        assert grouped[f"cold {number}"] == [number] * len(range(number, len(hot), len(cold)))
    [overflow] = [path for path in (tmp_path / "scratch").iterdir() if "overflow" in path.name]
    on_disk = list(read_batches(LocalFile(str(overflow))))
    assert on_disk and set(on_disk) <= set(range(20_000))  # only the hot key's values
    assert scratch.counters[C.REDUCE_SPILLED_BYTES] == overflow.stat().st_size
    scratch.remove()
