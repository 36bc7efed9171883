"""The compiled core against the pure-Python one: the same hashes, tables and errors."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simplemr import core
from simplemr.core import codec, partition
from simplemr.core import pure as kernels
from simplemr.core.pure import MapCursor, PairShapeError

compiled = core.compiled
needs_compiled = pytest.mark.skipif(compiled is None, reason="the compiled core is not built")

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63 - 5, max_value=2**200),
    st.sampled_from([2**2048 - 1, 2**2048, -(2**2048) - 1, 10**700, -(10**1000)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1.0, 1, True, 2**63, float(2**63), 1e300, -1e19, 0.5]),
    st.text(),
    st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), max_size=3),
    st.binary(),
    st.complex_numbers(allow_nan=False),
)
keys = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.tuples(inner), st.tuples(inner, inner), st.frozensets(inner, max_size=3)
    ),
    max_leaves=8,
)


@needs_compiled
@given(key=keys, salt=st.sampled_from([b"", b"simplemr-resplit-1", b"x" * 64]))
def test_the_hash_and_partition_of_every_key_are_the_pure_ones(key: Any, salt: bytes) -> None:
    assert compiled.key_bytes(key) == partition.key_bytes(key)
    assert compiled.stable_hash(key, salt) == partition.stable_hash(key, salt)
    for partitions in (1, 2, 7, 256):
        assert compiled.partition_of(key, partitions, salt) == partition.partition_of(
            key, partitions, salt
        )


@needs_compiled
def test_ints_past_pythons_decimal_limit_hash_as_in_the_pure_core() -> None:
    for number in (10**5000, -(10**5000) - 1, 7 * 2**20000):
        for key in (number, (number, "x"), frozenset({number})):
            assert compiled.key_bytes(key) == partition.key_bytes(key)
            assert compiled.stable_hash(key) == partition.stable_hash(key)


@needs_compiled
@given(key=keys)
def test_canonical_keys_are_the_pure_ones(key: Any) -> None:
    assert partition.same_key(compiled.canonical_key(key), partition.canonical_key(key))
    assert (compiled.canonical_key(key),) == (partition.canonical_key(key),)


@needs_compiled
def test_other_keys_are_hashed_through_the_pure_encoding() -> None:
    import datetime
    import fractions

    for key in (fractions.Fraction(1, 3), datetime.date(2026, 12, 1), ("a", frozenset({1.5}))):
        assert compiled.stable_hash(key) == partition.stable_hash(key)


@needs_compiled
def test_bad_arguments_are_refused() -> None:
    with pytest.raises(TypeError, match="salt must be bytes"):
        compiled.stable_hash("a", "salt")
    with pytest.raises(ValueError, match="at most 64 bytes"):
        compiled.partition_of("a", 2, b"x" * 65)
    with pytest.raises(ValueError, match="partitions must be at least 1"):
        compiled.partition_of("a", 0)
    with pytest.raises(TypeError, match="map_records"):
        compiled.map_records(None, iter(()), {}, 1, [])


@needs_compiled
def test_both_cores_refuse_what_the_other_refuses() -> None:
    deep: Any = "leaf"
    for _ in range(100_000):
        deep = (deep,)
    for encode in (partition.key_bytes, compiled.key_bytes):
        with pytest.raises(RecursionError):
            encode(deep)
    for implementation in (kernels, compiled):
        with pytest.raises(ValueError, match="limit must be at least 1"):
            implementation.map_records(spread_pairs, iter([]), {}, 0, MapCursor())
        with pytest.raises(ValueError, match="limit must be at least 1"):
            implementation.merge_items({}, iter([]), 0, [None, []])


@needs_compiled
def test_records_and_items_may_be_any_iterable() -> None:
    for implementation in (kernels, compiled):
        table: dict = {}
        assert (
            implementation.map_records(spread_pairs, [["a", "b"], ["a"]], table, 9, MapCursor())
            == 3
        )
        assert table == {"a": [0, 0], "b": [1]}
        merged: dict = {}
        assert implementation.merge_items(merged, [("a", [1]), ("a", [2])], 9, [None, []]) == 2
        assert merged == {"a": [1, 2]}


def _fill(
    implementation: Any, records: list[Any], mapper: Any, limit: int
) -> tuple[dict, list[int], list]:
    table: dict = {}
    cursor = MapCursor()
    counts = []
    records_left = iter(records)
    while True:
        count = implementation.map_records(mapper, records_left, table, limit, cursor)
        counts.append(count)
        if count < limit:
            return table, counts, [cursor.taken, cursor.record]


def spread_pairs(record: Any) -> list[tuple[Any, Any]]:
    return [(key, index) for index, key in enumerate(record)]


records = st.lists(st.lists(keys.filter(lambda k: k == k), max_size=6), max_size=40)


@needs_compiled
@given(records=records, limit=st.integers(1, 10))
def test_the_map_table_fills_as_the_pure_one(records: list[Any], limit: int) -> None:
    pure = _fill(kernels, records, spread_pairs, limit)
    fast = _fill(compiled, records, spread_pairs, limit)
    assert pure == fast
    assert sum(pure[1]) == sum(len(record) for record in records)


@needs_compiled
@pytest.mark.parametrize(
    ("output", "error", "message"),
    [
        ([("a", 1), ("b", 2, 3)], PairShapeError, r"it yielded \('b', 2, 3\), a tuple of 3$"),
        ([("a", 1), "b"], PairShapeError, "it yielded 'b', a str$"),
        ([("a", 1), "bc"], PairShapeError, "it yielded 'bc', a str$"),
        ([("a", 1), 7], PairShapeError, "it yielded 7, an int$"),
        ([("a", 1), (["unhashable"], 1)], TypeError, "unhashable type"),
        (None, PairShapeError, "it returned None$"),
        (3.5, PairShapeError, "it returned 3.5, a float$"),
    ],
)
def test_a_bad_mapper_output_fails_as_in_the_pure_table(
    output: Any, error: type, message: str
) -> None:
    """Both cores refuse what is not pairs alike, saying what came (``PairShapeError``)."""
    for implementation in (kernels, compiled):
        table: dict = {}
        cursor = MapCursor()
        with pytest.raises(error, match=message):
            implementation.map_records(lambda r: output, iter(["x", "y"]), table, 100, cursor)
        assert (cursor.taken, cursor.record, cursor.pairs) == (1, "x", None)  # where it failed
        assert table == ({"a": [1]} if isinstance(output, list) else {})


@needs_compiled
def test_a_mapper_that_raises_leaves_the_cursor_on_its_record() -> None:
    def mapper(record: int) -> list[tuple[int, int]]:
        if record == 3:
            raise ZeroDivisionError("record 3")
        return [(record, record)]

    for implementation in (kernels, compiled):
        cursor = MapCursor()
        with pytest.raises(ZeroDivisionError, match="record 3"):
            implementation.map_records(mapper, iter(range(10)), {}, 100, cursor)
        assert (cursor.taken, cursor.record, cursor.pairs) == (4, 3, None)


items = st.lists(
    st.tuples(st.one_of(keys, st.just(float("nan")), st.just((1, float("nan")))), st.lists(
        st.integers(), max_size=4
    )),
    max_size=40,
)  # fmt: skip


def _merged(implementation: Any, items: list[Any], limit: int) -> tuple[list, list[int]]:
    table: dict = {}
    cursor: list[Any] = [None, []]
    counts = []
    source = iter([(key, list(values)) for key, values in items])
    while True:
        count = implementation.merge_items(table, source, limit, cursor)
        counts.append(count)
        if count < limit:
            # NaN keys compare by identity: describe the table by canonical encodings.
            return sorted(
                (partition.key_bytes(key), sorted(values)) for key, values in table.items()
            ), counts


@needs_compiled
@given(items=items, limit=st.integers(1, 10))
def test_reduce_side_merging_is_the_pure_one(items: list[Any], limit: int) -> None:
    assert _merged(kernels, items, limit) == _merged(compiled, items, limit)


@needs_compiled
def test_every_nan_merges_into_one_key() -> None:
    for implementation in (kernels, compiled):
        table: dict = {}
        source = iter(
            [(float("nan"), [n]) for n in range(4)] + [((1, float("nan")), [n]) for n in range(2)]
        )
        implementation.merge_items(table, source, 100, [None, []])
        assert len(table) == 2
        assert sorted(map(len, table.values())) == [2, 4]
        assert any(isinstance(key, float) and math.isnan(key) for key in table)


@needs_compiled
@given(
    table=st.dictionaries(keys.filter(lambda k: k == k), st.lists(st.integers(), max_size=2)),
    slots=st.integers(1, 9),
    salt=st.sampled_from([b"", b"pieces"]),
)
def test_a_spill_is_spread_as_the_pure_one_spreads_it(table: dict, slots: int, salt: bytes) -> None:
    assert compiled.spread(table, slots, salt) == kernels.spread(table, slots, salt)


@given(
    table=st.dictionaries(st.integers(), st.lists(st.integers(), max_size=4)),
    least=st.integers(0, 5),
)
def test_the_keys_worth_combining_are_those_with_enough_values(table: dict, least: int) -> None:
    expected = [key for key, values in table.items() if len(values) >= least]
    assert kernels.crowded(table, least) == expected
    if compiled is not None:
        assert compiled.crowded(table, least) == expected


def test_crowded_needs_a_table_of_lists() -> None:
    if compiled is not None:
        with pytest.raises(TypeError, match="a table of lists"):
            compiled.crowded({"a": (1, 2)}, 1)


def _reduced(implementation: Any, groups: list[tuple[Any, Any]]) -> tuple[list[Any], list[Any]]:
    """What ``reduce_groups`` gives for ``groups``, calling again after each generator
    (streamed into the results), and where the watchdog was sent at each call."""
    followed: list[Any] = []

    def reduce(key: Any, values: Any) -> Any:
        followed.append(spot[0] is values)
        if key % 3 == 0:
            return (item for item in [key, *values])
        return key, sum(values)

    keys = iter(groups)
    spot: list[Any] = [keys]
    out: list[Any] = []
    while (stream := implementation.reduce_groups(reduce, keys, spot, out)) is not None:
        out.extend(stream)
        spot[0] = keys
    assert spot[0] is keys
    return out, followed


@given(
    groups=st.lists(
        st.tuples(
            st.integers(0, 20),
            st.one_of(st.lists(st.integers(), max_size=3), st.tuples(st.integers())),
        )
    )
)
def test_the_reducer_loop_calls_as_a_plain_loop_does(groups: list[tuple[Any, Any]]) -> None:
    results, followed = _reduced(kernels, groups)
    expected = []
    for key, values in groups:
        expected.extend([key, *values] if key % 3 == 0 else [(key, sum(values))])
    assert results == expected
    # The watchdog follows a key's values unless it has one value in a list.
    assert followed == [type(vs) is not list or len(vs) != 1 for _, vs in groups]
    if compiled is not None:
        assert _reduced(compiled, groups) == (results, followed)


@needs_compiled
def test_the_reducer_loop_lets_a_reducer_error_through_and_refuses_bad_groups() -> None:
    def failing(key: Any, values: Any) -> Any:
        raise KeyError(key)

    for implementation in (kernels, compiled):
        keys = iter([("a", [1]), ("b", [2])])
        with pytest.raises(KeyError, match="a"):
            implementation.reduce_groups(failing, keys, [keys], [])
        assert next(keys) == ("b", [2])  # the failing group was taken, no more
    with pytest.raises(TypeError, match=r"\(key, values\) groups"):
        compiled.reduce_groups(failing, iter([["a", [1]]]), [None], [])
    with pytest.raises(TypeError, match="spot"):
        compiled.reduce_groups(failing, iter([]), [], [])


@needs_compiled
@given(data=st.lists(st.sampled_from([b"a", b"\n", b"\r", b"\r\n", b"\n\r", b"xy"])).map(b"".join))
def test_line_endings_are_counted_as_the_pure_core_counts_them(data: bytes) -> None:
    assert compiled.line_endings(data) == kernels.line_endings(data)
    text = data.decode()
    assert kernels.line_endings(data) == len(text.splitlines()) - (
        0 if not text or text.endswith(("\n", "\r")) else 1
    )


# Bytes near the edges of UTF-8: overlong forms, surrogates, the last code point and
# past it, lone and cut sequences, between runs of ASCII long enough to be skipped.
_UTF8_EDGES = [b"\xc1\xbf", b"\xc2\x80", b"\xe0\x9f\xbf", b"\xe0\xa0\x80", b"\xed\x9f\xbf",
               b"\xed\xa0\x80", b"\xef\xbf\xbf", b"\xf0\x8f\xbf\xbf", b"\xf0\x90\x80\x80",
               b"\xf4\x8f\xbf\xbf", b"\xf4\x90\x80\x80", b"\xf5", b"\xff", b"\x80", b"\xe2\x82",
               b"a", b"abcdefghij", "é€𝄞".encode()]  # fmt: skip


@needs_compiled
@given(
    data=st.one_of(
        st.binary(),
        st.text().map(str.encode),
        st.lists(st.sampled_from(_UTF8_EDGES)).map(b"".join),
    )
)
def test_utf8_is_told_valid_as_the_pure_core_tells_it(data: bytes) -> None:
    assert compiled.utf8_valid(data) == kernels.utf8_valid(data)


def _in_python(code: str, **environment: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **environment},
        check=True,
        timeout=120,
    )
    return result.stdout


def test_simplemr_pure_forces_the_pure_core_and_version_says_which() -> None:
    code = "import simplemr.core as c; print(c.NAME, c.compiled is None)"
    assert _in_python(code, SIMPLEMR_PURE="1") == "pure-Python core True\n"
    version = subprocess.run(
        [sys.executable, "-m", "simplemr", "--version"],
        capture_output=True,
        text=True,
        env={**os.environ, "SIMPLEMR_PURE": "1"},
        timeout=120,
    )
    assert "pure-Python core" in version.stdout


@pytest.mark.skipif(not os.environ.get("CI"), reason="a machine without a compiler may lack it")
def test_the_install_built_the_compiled_core() -> None:
    assert compiled is not None, "pip install did not build simplemr.core._speedups"
    assert core.NAME == "compiled core (C)"


def test_a_job_gives_the_same_results_on_both_cores(tmp_path: Any) -> None:
    """Worker processes of each core, with spills under a tiny budget."""
    code = (
        "import simplemr\n"
        "job = simplemr.MapReduce(lambda n: [((n % 97, str(n % 13)), n), (float(n % 5), 1)],\n"
        "    lambda k, v: (k, sum(v)), lambda k, v: sum(v), workers=2, memory='64KiB')\n"
        "print(sorted(map(repr, job.run(range(60000)).results)))\n"
        "cores = simplemr.MapReduce(lambda n: [(simplemr.core.NAME, 1)], lambda k, v: k,\n"
        "    workers=2).run(range(10)).results\n"
        "print(cores)\n"
    )
    pure, compiled = _in_python(code, SIMPLEMR_PURE="1"), _in_python(code, SIMPLEMR_PURE="")
    assert pure.splitlines()[0] == compiled.splitlines()[0]
    assert pure.splitlines()[1] == "['pure-Python core']"  # in the workers too
    if core.compiled is not None:
        assert compiled.splitlines()[1] == "['compiled core (C)']"


def test_every_kernel_the_core_offers_has_a_pure_twin_and_a_compiled_one() -> None:
    kernels_offered = [
        name for name in core.__all__ if name not in ("NAME", "compiled", "MapCursor")
    ]
    for name in kernels_offered:
        pure = (
            getattr(kernels, name, None)
            or getattr(partition, name, None)
            or getattr(codec, name, None)
        )
        assert callable(pure), f"no pure {name}"
        if compiled is not None:
            assert callable(getattr(compiled, name, None)), f"no compiled {name}"
            assert getattr(core, name) is getattr(compiled, name)
        else:
            assert getattr(core, name) is pure


def test_a_compiled_core_from_another_version_gives_way_to_the_pure_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import types

    import simplemr.core as core_package

    stale = types.ModuleType("simplemr.core._speedups")
    stale.__file__ = "/somewhere/_speedups.so"

    def configure(key_bytes: Any, pair: Any, canonical_key: Any) -> None:  # three, as before
        pass

    stale.configure = configure  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "simplemr.core._speedups", stale)
    monkeypatch.setattr(core_package, "_speedups", stale, raising=False)
    monkeypatch.delenv("SIMPLEMR_PURE", raising=False)
    with pytest.warns(UserWarning, match=r"compiled core \(/somewhere/_speedups.so\) is from "
                      r"another version: running the pure-Python core. Rebuild it"):  # fmt: skip
        assert core_package._compiled() is None
