"""The budget's arithmetic: sizes read and written, and what a table of values is
estimated to hold."""

from __future__ import annotations

import sys

import pytest

from simplemr.memory import format_size, parse_size
from simplemr.shuffle.table import SizeEstimator, deep_size


@pytest.mark.parametrize(
    ("text", "size"),
    [("512MB", 512_000_000), ("1.5GiB", 1536 * 1024**2), ("1000", 1000), (" 2 kib ", 2048)],
)
def test_sizes_are_read_with_or_without_units(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize(
    ("value", "message"), [("lots", "cannot read"), (0, "positive"), (True, "size like")]
)
def test_a_size_that_is_not_one_says_how_to_write_it(value: object, message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        parse_size(value)  # type: ignore[arg-type]


def test_sizes_are_written_for_people() -> None:
    assert format_size(512) == "512 B"
    assert format_size(1536 * 1024) == "1.5 MiB"


def _fresh_text(n: int) -> str:
    return "".join(chr(ord("a") + i % 26) for i in range(n))


def _full(*objects: object) -> int:
    return sum(sys.getsizeof(obj) for obj in objects)


def test_objects_held_only_by_their_value_are_charged_in_full() -> None:
    pair = (_fresh_text(40), 10**6 + len(sys.argv))
    assert deep_size(pair) == _full(pair, *pair)
    items = [_fresh_text(30), _fresh_text(50)]
    assert deep_size(items) == _full(items, *items)
    nested = [[_fresh_text(100)], (_fresh_text(7), 10**9 + len(sys.argv))]
    assert deep_size(nested) == _full(nested, *nested, *nested[0], *nested[1])


def test_a_few_passing_references_do_not_make_an_object_shared() -> None:
    # Paused at ``yield``, a mapper still holds the list a line was split into.
    fields = [_fresh_text(20), _fresh_text(30)]
    held_also_by = [fields[0]] * 5
    value = (fields[0], fields[1])
    assert deep_size(value) == _full(value, *value)
    del held_also_by  # held until the size was taken


def test_an_object_every_value_shares_is_charged_only_its_share() -> None:
    name = _fresh_text(200)
    values = [(name, 10**6 + line) for line in range(1000)]
    alone = sys.getsizeof(values[0]) + sys.getsizeof(values[0][1])
    assert alone < deep_size(values[500]) <= alone + sys.getsizeof(name) / 1000
    # A thousand values estimated from one: close to what they really take.
    estimator = SizeEstimator()
    estimator.sample_value(values[500])
    assert estimator.estimate(0, 1000) < 1000 * (alone + 8) + sys.getsizeof(name)
