"""A compact encoding of batches of plain values, as a pickle that any reader loads.

A spill, a sorted run or a file of results is a sequence of pickled batches
(``io/batches.py``). Most batches hold only ``None``, booleans, 64-bit integers,
floats, strings, bytes, tuples and lists (``(key, [values])`` items of word counts,
bigrams, order ids): for those, pickle's generality costs more than the job's own
work. ``encode_batch`` writes such a batch in a tag-and-length encoding, wrapped in
a pickle that calls ``simplemr.core.decode_batch`` on its bytes, so files stay "a
sequence of pickles" that plain ``pickle.load`` reads, whatever wrote each one.

    encode_batch(batch) is None                   when batch holds anything else
    pickle.loads(encode_batch(batch)) == batch    otherwise, with the same types

The encoding, one tag byte a value (lengths as LEB128 varints):

    N None   T True   F False
    i <zigzag of the number>                   an int in [-2**63, 2**63)
    f <8 bytes: IEEE 754 double, little-endian>
    a <length> <ASCII bytes>                   a str of ASCII characters only
    u <length> <UTF-8 bytes>                   any other str (surrogates: not encoded)
    b <length> <bytes>
    t <count> <items>                          a tuple
    l <count> <items>                          a list (the batch itself is one)

Only the exact types are encoded: a subclass (a named tuple, an IntEnum) is left
to pickle, which keeps its type. ``_speedups.c`` is the compiled twin of this
module, byte for byte; workers running either core read what the other wrote.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

__all__ = ["PICKLE_HEAD", "PICKLE_TAIL", "SHORT", "decode_batch", "encode_batch", "encode_run",
           "run_batches"]  # fmt: skip

#: What comes before the encoded bytes: protocol 5, ``simplemr.core.decode_batch``
#: as a global, and BINBYTES8 (its 8-byte length follows).
PICKLE_HEAD = b"\x80\x05\x8c\x0dsimplemr.core\x8c\x0cdecode_batch\x93\x8e"
#: What comes after: call the global with the bytes, and stop.
PICKLE_TAIL = b"\x85R."

_DOUBLE = struct.Struct("<d")
_LENGTH = struct.Struct("<Q")


class _Unencodable(Exception):
    """A value the encoding has no tag for: the batch goes to pickle."""


def encode_batch(batch: Any) -> bytes | None:
    """``batch`` (a list) as a pickle of its compact encoding, or None when it holds a
    value of another type (or nests deeper than the recursion limit)."""
    if type(batch) is not list:
        return None
    out = bytearray()
    try:
        _encode(batch, out)
    except (_Unencodable, RecursionError):
        return None
    return b"".join((PICKLE_HEAD, _LENGTH.pack(len(out)), out, PICKLE_TAIL))


#: The longest list for which a run is cut into batches by item count.
SHORT = 16


def run_batches(
    items: list[tuple[Any, list[Any]]], batch_values: int
) -> Iterator[list[tuple[Any, list[Any]]]]:
    """A run of ``(key, [values])`` items in batches of about ``batch_values`` values
    (items count one each): where every list is short (``SHORT``), slices of as many
    items; else items in order up to that many, a list longer than it cut into
    batches of its own. So a key with millions of values is written, and read
    back, a batch at a time."""
    if batch_values < 1:
        raise ValueError("batch_values must be at least 1")
    longest = max((len(values) for _, values in items), default=0)
    if longest <= SHORT:
        step = max(1, batch_values // (longest + 1))
        for start in range(0, len(items), step):
            yield items[start : start + step]
        return
    start = 0
    while start < len(items):
        key, values = items[start]
        if len(values) > batch_values:
            for first in range(0, len(values), batch_values):
                yield [(key, values[first : first + batch_values])]
            start += 1
            continue
        end, size = start, 0
        while end < len(items) and len(items[end][1]) <= batch_values:
            size += len(items[end][1]) + 1
            end += 1
            if size >= batch_values:
                break
        yield items[start:end]
        start = end


def encode_run(items: Any, batch_values: int) -> bytes | None:
    """A run of ``(key, [values])`` items (a spill's, for one bucket) as its batches'
    encodings one after the other, or None where any batch would be (or ``items``
    is not a list of such pairs).

        encode_run(items, n) == b"".join(encode_batch(b) for b in run_batches(items, n))
    """
    if batch_values < 1:
        raise ValueError("batch_values must be at least 1")
    if type(items) is not list or not all(
        type(item) is tuple and len(item) == 2 and type(item[1]) is list for item in items
    ):
        return None
    encoded = []
    for batch in run_batches(items, batch_values):
        one = encode_batch(batch)
        if one is None:
            return None
        encoded.append(one)
    return b"".join(encoded)


def _varint(number: int, out: bytearray) -> None:
    while number >= 0x80:
        out.append((number & 0x7F) | 0x80)
        number >>= 7
    out.append(number)


def _encode(value: Any, out: bytearray) -> None:
    kind = type(value)
    if kind is str:
        if value.isascii():
            out.append(0x61)  # a
            _varint(len(value), out)
            out += value.encode("ascii")
            return
        try:
            data = value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate
            raise _Unencodable from None
        out.append(0x75)  # u
        _varint(len(data), out)
        out += data
    elif kind is int:
        if not -(2**63) <= value < 2**63:
            raise _Unencodable
        out.append(0x69)  # i
        _varint((value << 1) ^ (value >> 63), out)  # zigzag: small magnitudes, few bytes
    elif kind is tuple or kind is list:
        out.append(0x74 if kind is tuple else 0x6C)  # t, l
        _varint(len(value), out)
        for item in value:
            _encode(item, out)
    elif kind is float:
        out.append(0x66)  # f
        out += _DOUBLE.pack(value)
    elif kind is bytes:
        out.append(0x62)  # b
        _varint(len(value), out)
        out += value
    elif value is None:
        out.append(0x4E)  # N
    elif value is True or value is False:
        out.append(0x54 if value else 0x46)  # T, F
    else:
        raise _Unencodable


def decode_batch(data: bytes) -> list[Any]:
    """The batch whose encoding is ``data``; ``ValueError`` if ``data`` is not one
    whole encoded list (cut short, or with bytes left over)."""
    try:
        value, end = _decode(memoryview(data), 0)
    except (IndexError, struct.error, UnicodeDecodeError) as error:
        raise ValueError(f"a compact batch is damaged: {error}") from None
    if end != len(data) or type(value) is not list:
        raise ValueError("a compact batch is damaged: it is not one whole list")
    return value


def _read_varint(data: memoryview, at: int) -> tuple[int, int]:
    number = shift = 0
    while True:
        byte = data[at]
        at += 1
        number |= (byte & 0x7F) << shift
        if byte < 0x80:
            return number, at
        shift += 7
        if shift > 63:
            raise ValueError("a compact batch is damaged: a length is too long")


def _take(data: memoryview, at: int, length: int) -> memoryview:
    if at + length > len(data):
        raise IndexError("cut short")
    return data[at : at + length]


def _decode(data: memoryview, at: int) -> tuple[Any, int]:
    tag = data[at]
    at += 1
    if tag in (0x61, 0x75, 0x62):  # a, u, b
        length, at = _read_varint(data, at)
        raw = _take(data, at, length)
        if tag == 0x62:
            return bytes(raw), at + length
        return str(raw, "ascii" if tag == 0x61 else "utf-8"), at + length
    if tag == 0x69:  # i
        zigzag, at = _read_varint(data, at)
        return (zigzag >> 1) ^ -(zigzag & 1), at
    if tag in (0x74, 0x6C):  # t, l
        count, at = _read_varint(data, at)
        if count > len(data) - at:  # every item takes a byte at least
            raise IndexError("cut short")
        items = []
        for _ in range(count):
            item, at = _decode(data, at)
            items.append(item)
        return (tuple(items) if tag == 0x74 else items), at
    if tag == 0x66:  # f
        return _DOUBLE.unpack_from(data, at)[0], at + 8
    if tag == 0x4E:
        return None, at
    if tag in (0x54, 0x46):
        return tag == 0x54, at
    raise ValueError(f"a compact batch is damaged: unknown tag {tag:#04x}")
