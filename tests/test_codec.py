"""The compact batch encoding: the pure reference and its compiled twin, byte for byte."""

from __future__ import annotations

import collections
import enum
import io
import pickle
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simplemr import core
from simplemr.core import codec
from simplemr.io.batches import dumps, read_pickles

CODECS = [pytest.param(codec, id="pure")]
if core.compiled is not None:
    CODECS.append(pytest.param(core.compiled, id="compiled"))

plain = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text()
    | st.binary(),
    lambda inner: st.lists(inner, max_size=5) | st.lists(inner, max_size=5).map(tuple),
    max_leaves=30,
)
batches = st.lists(plain, max_size=20)

BODY = len(codec.PICKLE_HEAD) + 8  # where the encoding starts, after its pickle's head


def body(encoded: bytes) -> bytes:
    return encoded[BODY : -len(codec.PICKLE_TAIL)]


def same_types(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same_types(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@pytest.mark.parametrize("twin", CODECS)
@given(batch=batches)
def test_a_batch_of_plain_values_comes_back_as_it_went(twin: Any, batch: list[Any]) -> None:
    encoded = twin.encode_batch(batch)
    assert encoded is not None
    assert same_types(pickle.loads(encoded), batch)  # plain pickle reads it
    assert same_types(twin.decode_batch(body(encoded)), batch)


@pytest.mark.skipif(core.compiled is None, reason="the compiled core is not built")
@given(batch=batches)
def test_both_cores_write_the_same_bytes_and_read_each_other(batch: list[Any]) -> None:
    assert core.compiled is not None
    encoded = codec.encode_batch(batch)
    assert encoded is not None
    assert core.compiled.encode_batch(batch) == encoded
    assert same_types(core.compiled.decode_batch(body(encoded)), batch)


def test_nan_and_negative_zero_keep_their_bits() -> None:
    for twin in (codec, core.compiled or codec):
        nan, zero = twin.decode_batch(body(twin.encode_batch([float("nan"), -0.0])))
        assert nan != nan and str(zero) == "-0.0"


class Colour(enum.IntEnum):
    RED = 1


@pytest.mark.parametrize("twin", CODECS)
@pytest.mark.parametrize(
    "batch",
    [
        [2**63],
        [-(2**63) - 1],
        ["\ud800"],
        [collections.namedtuple("Point", "x y")(1, 2)],
        [Colour.RED],
        [{"a": 1}],
        [{1, 2}],
        [("ok", [1, object()])],
        ("not", "a list"),
    ],
    ids=[
        "big int",
        "small int",
        "surrogate",
        "named tuple",
        "IntEnum",
        "dict",
        "set",
        "deep object",
        "tuple",
    ],
)
def test_anything_else_is_left_to_pickle(twin: Any, batch: Any) -> None:
    assert twin.encode_batch(batch) is None


@pytest.mark.parametrize("twin", CODECS)
def test_nesting_deeper_than_the_recursion_limit_is_left_to_pickle(twin: Any) -> None:
    deep: list[Any] = []
    for _ in range(100_000):
        deep = [deep]
    assert twin.encode_batch(deep) is None


@pytest.mark.parametrize("twin", CODECS)
def test_a_damaged_encoding_is_refused_whole(twin: Any) -> None:
    encoded = body(twin.encode_batch([("word", [1, 2, 300]), "é", b"x", 1.5, None, True]))
    for cut in range(len(encoded)):
        with pytest.raises(ValueError, match="a compact batch is damaged"):
            twin.decode_batch(encoded[:cut])
    with pytest.raises(ValueError, match="not one whole list"):
        twin.decode_batch(encoded + b"N")
    with pytest.raises(ValueError, match="not one whole list"):
        twin.decode_batch(b"N")
    with pytest.raises(ValueError, match="unknown tag 0x7a"):
        twin.decode_batch(b"l\x01z")
    with pytest.raises(ValueError, match="damaged"):
        twin.decode_batch(b"l\x01a\x01\xff")  # not ASCII
    with pytest.raises(ValueError, match="damaged"):
        twin.decode_batch(b"l\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01")  # a length too long


def test_a_file_mixes_compact_and_pickled_batches() -> None:
    batches = [[("a", [1])] * 20, [Colour.RED] * 20, [("b", [2.5, None])], [{"x": 1}]]
    data = b"".join(dumps(batch) for batch in batches)
    assert list(read_pickles(io.BytesIO(data))) == batches
    if core.compiled is not None:  # a batch of a few items is pickled: a shorter head
        assert dumps(batches[0]).startswith(codec.PICKLE_HEAD)
        assert not dumps(batches[2]).startswith(codec.PICKLE_HEAD)


@pytest.mark.skipif(core.compiled is None, reason="the compiled core is not built")
def test_decoded_tuples_of_plain_values_are_left_out_of_the_collectors_walks() -> None:
    import gc

    assert core.compiled is not None
    encoded = core.compiled.encode_batch([(("a", 1), [2]), ("b", (3.5, None))] * 10)
    assert encoded is not None
    item, flat = pickle.loads(encoded)[:2]
    assert not gc.is_tracked(item[0]) and not gc.is_tracked(flat)  # nothing to walk
    assert gc.is_tracked(item)  # it holds a list, which may come to hold anything


runs = st.lists(
    st.tuples(
        st.text(max_size=3) | st.integers(-(2**63), 2**63 - 1),
        st.lists(st.integers(0, 99), max_size=3)
        | st.lists(st.integers(0, 99), min_size=17, max_size=60),
    ),
    max_size=40,
)


def flattened(batches: list[list[tuple[Any, list[Any]]]]) -> list[tuple[Any, Any]]:
    return [(key, value) for batch in batches for key, values in batch for value in values]


@given(items=runs, batch_values=st.integers(1, 50))
def test_a_run_is_cut_into_batches_that_hold_it_all_in_order(
    items: list[tuple[Any, list[Any]]], batch_values: int
) -> None:
    batches = list(codec.run_batches(items, batch_values))
    assert flattened(batches) == flattened([items])
    assert all(batches)
    for batch in batches:  # a batch passes the size asked by one item at most
        if len(batch) > 1:
            assert sum(len(values) + 1 for _, values in batch[:-1]) < batch_values


@pytest.mark.parametrize("twin", CODECS)
@given(items=runs, batch_values=st.integers(1, 50))
def test_a_run_encoded_reads_back_as_its_batches(
    twin: Any, items: list[tuple[Any, list[Any]]], batch_values: int
) -> None:
    encoded = twin.encode_run(items, batch_values)
    assert encoded is not None
    expected = [list(batch) for batch in codec.run_batches(items, batch_values)]
    assert list(read_pickles(io.BytesIO(encoded))) == expected
    assert encoded == b"".join(codec.encode_batch(batch) or b"" for batch in expected)


@pytest.mark.parametrize("twin", CODECS)
def test_a_run_with_anything_else_is_left_to_pickle(twin: Any) -> None:
    assert twin.encode_run([("a", [1]), ("b", [Colour.RED])], 10) is None
    assert twin.encode_run([("a", (1,))], 10) is None  # values in a tuple: not a run
    assert twin.encode_run((("a", [1]),), 10) is None
    with pytest.raises(ValueError, match="batch_values must be at least 1"):
        twin.encode_run([("a", [1])], 0)
