"""Stable hashing of keys, and the partition a key belongs to.

Python's ``hash()`` of ``str``, ``bytes`` and ``None`` changes from one process to
the next, so a key could land in a different partition on every worker. This
module hashes a canonical byte encoding of the key instead, chosen so that keys
that are equal (and therefore one dict key) encode alike: ``1``, ``1.0`` and
``True`` give one hash, as do ``(1, "a")`` and ``(1.0, "a")``.

    stable_hash(k) == stable_hash(j)   whenever k == j (for the supported types)
    partition_of(k, n) == stable_hash(k) % n

The hash is for spreading keys, not for security: the CRC-32 and Adler-32 of those
bytes (both in ``zlib``, so one C call each from Python, and a few instructions a
byte in the compiled core), side by side in 64 bits, mixed by MurmurHash3's
finalizer so that every bit of the result depends on every bit of both.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import numbers
import pickle
import zlib
from typing import Any

__all__ = [
    "NAN",
    "canonical_key",
    "checksum64",
    "fmix64",
    "key_bytes",
    "partition_of",
    "same_key",
    "stable_hash",
]

#: The one NaN every NaN in a key becomes, so that NaN keys group as one.
NAN = float("nan")

_INT = b"i"
_BIG_INT = b"I"
_MISC_NUMBER = b"n"
#: Ints longer than this many bits are encoded in hexadecimal: Python refuses to write
#: a decimal of more than ``sys.get_int_max_str_digits()`` digits (640 at the least,
#: 4300 by default), and 2**2048 has 617.
_DECIMAL_BITS = 2048


def _int_bytes(number: int) -> bytes:
    """An int's canonical bytes: its decimal digits, or, past ``_DECIMAL_BITS``, its
    ``hex()`` (no digit limit applies to a power-of-two base)."""
    if number.bit_length() <= _DECIMAL_BITS:
        return _INT + str(number).encode()
    return _BIG_INT + hex(number).encode()


def _encode_number(key: numbers.Number) -> bytes:
    # The numeric hash of int, float, bool, Fraction and Decimal is unsalted and
    # agrees with ==; NaN is the exception (its hash follows identity), so it gets
    # one fixed encoding.
    number: Any = key
    if isinstance(number, complex):
        if number.imag:
            return b"c" + repr(number).encode()
        number = number.real
    try:
        if number != number:
            return b"nan"
        if number == int(number):
            return _int_bytes(int(number))
    except (OverflowError, ValueError, TypeError):
        pass
    return _MISC_NUMBER + str(hash(number)).encode()


def _encode_tuple(key: tuple[Any, ...]) -> bytes:
    parts = [b"t", str(len(key)).encode()]
    for item in key:
        encoded = key_bytes(item)
        parts.append(b"%d:" % len(encoded))
        parts.append(encoded)
    return b"".join(parts)


def _encode_frozenset(key: frozenset[Any]) -> bytes:
    # Order-independent: the members' own encodings, sorted.
    return b"f" + _encode_tuple(tuple(sorted(key_bytes(item) for item in key)))


_MICROSECOND = datetime.timedelta(microseconds=1)


def _encode_temporal(key: datetime.date | datetime.time | datetime.timedelta) -> bytes:
    # Equal moments must encode alike: aware values in UTC, and never by repr,
    # which differs for subclasses, for fold=1 and across time zones.
    if isinstance(key, datetime.timedelta):
        return b"td" + str(key // _MICROSECOND).encode()
    if isinstance(key, datetime.datetime):
        offset = key.utcoffset()
        tag = b"dn" if offset is None else b"dz"
        moment = key.replace(tzinfo=None) - (offset or datetime.timedelta())
        since = moment - datetime.datetime(1, 1, 1)
        return tag + str(since // _MICROSECOND).encode()
    if isinstance(key, datetime.date):
        return b"da" + str(key.toordinal()).encode()
    offset = key.utcoffset()
    tag = b"tn" if offset is None else b"tz"
    micros = ((key.hour * 60 + key.minute) * 60 + key.second) * 1_000_000 + key.microsecond
    return tag + str(micros - (offset or datetime.timedelta()) // _MICROSECOND).encode()


def key_bytes(key: Any) -> bytes:
    """Return the canonical bytes of ``key``: equal keys give equal bytes.

    Supported exactly: None, bool, int, float, complex, Fraction, Decimal, str,
    bytes, tuples and frozensets of these, dates, times and durations, and
    dataclasses made of them. Any other key is encoded by its pickle, which is stable as long as
    equal values of that type pickle alike.
    """
    kind = type(key)
    if kind is str:
        return b"s" + str.encode(key, "utf-8", "surrogatepass")
    if kind is int:
        return _int_bytes(key)
    if kind is bytes:
        return b"b" + bytes(key)
    if key is None:
        return b"N"
    if kind is tuple:
        return _encode_tuple(key)
    if isinstance(key, numbers.Number):
        return _encode_number(key)
    if isinstance(key, str):
        return b"s" + str(key).encode("utf-8", "surrogatepass")
    if isinstance(key, (bytes, bytearray, memoryview)):
        return b"b" + bytes(key)
    if isinstance(key, tuple):
        return _encode_tuple(tuple(key))
    if isinstance(key, frozenset):
        return _encode_frozenset(key)
    if isinstance(key, (datetime.date, datetime.time, datetime.timedelta)):
        return _encode_temporal(key)
    if dataclasses.is_dataclass(key) and not isinstance(key, type):
        name = f"{kind.__module__}.{kind.__qualname__}".encode()
        fields = tuple(getattr(key, f.name) for f in dataclasses.fields(key) if f.compare)
        return b"D" + name + _encode_tuple(fields)
    return b"p" + pickle.dumps(key, protocol=4)


def canonical_key(key: Any) -> Any:
    """``key`` with every float NaN in it (inside tuples and frozensets too) made the
    one object ``NAN``; ``key`` itself when it holds none.

    A dict keeps NaN keys apart, since a NaN is not equal to itself (only to itself
    as an object), so without this every NaN record of a job would be a key of its
    own. With it, ``canonical_key(a) == canonical_key(b)`` exactly when ``a`` and ``b``
    are equal or differ only in which NaN objects they hold.
    """
    kind = type(key)
    if kind is str or kind is int or kind is bytes or key is None:
        return key
    if kind is float:
        return NAN if key != key else key
    if kind is tuple:
        items = tuple(canonical_key(item) for item in key)
        return key if all(a is b for a, b in zip(items, key, strict=True)) else items
    if kind is frozenset:
        members = frozenset(canonical_key(item) for item in key)
        return key if members == key else members
    return key


def same_key(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` are one key when grouped: equal, or NaN alike."""
    # In a tuple, as in a dict, the one NAN equals itself (identity comes first).
    return a is b or a == b or (canonical_key(a),) == (canonical_key(b),)


def checksum64(data: bytes) -> int:
    """The Adler-32 and the CRC-32 of ``data``, in the high and low 32 bits."""
    return zlib.adler32(data) << 32 | zlib.crc32(data)


_MASK = (1 << 64) - 1


def fmix64(word: int) -> int:
    """MurmurHash3's 64-bit finalizer: a bijection of 64-bit words that mixes every
    input bit into every output bit."""
    word ^= word >> 33
    word = word * 0xFF51AFD7ED558CCD & _MASK
    word ^= word >> 33
    word = word * 0xC4CEB9FE1A85EC53 & _MASK
    return word ^ word >> 33


@functools.lru_cache(maxsize=64)
def _salt_word(salt: bytes) -> int:
    if not isinstance(salt, bytes):
        raise TypeError("salt must be bytes")
    if len(salt) > 64:
        raise ValueError("salt must be at most 64 bytes")
    return checksum64(salt)


_NO_SALT = checksum64(b"")


def stable_hash(key: Any, salt: bytes = b"") -> int:
    """Return a 64-bit hash of ``key`` that is the same in every process.

    A different ``salt`` (up to 64 bytes) gives an independent hash, used to split a
    partition again without sending every key of it to the same piece.

        stable_hash(key, salt) == fmix64(checksum64(key_bytes(key)) ^ checksum64(salt))
    """
    salt_word = _NO_SALT if salt == b"" else _salt_word(salt)
    return fmix64(checksum64(key_bytes(key)) ^ salt_word)


def partition_of(key: Any, partitions: int, salt: bytes = b"") -> int:
    """Return the partition in ``range(partitions)`` that ``key`` belongs to."""
    if partitions == 1:
        return 0
    return stable_hash(key, salt) % partitions
