"""``mrjob.protocol``: how a line of bytes becomes a ``(key, value)`` pair and back.

A protocol has ``read(line) -> (key, value)`` and ``write(key, value) -> line``
(lines without their ``\\n``). Those with ``Value`` in their name read the whole
line as the value (the key is None) and write the value alone. The ``JSON``
protocols use the fastest JSON library installed, in the order mrjob picks one
(ujson, rapidjson, simplejson, then the standard ``json``), so that the output
is what mrjob would write on the same machine.
"""

from __future__ import annotations

import importlib
import json
import pickle
from types import ModuleType
from typing import Any

from .util import safeeval

__all__ = [
    "BytesProtocol",
    "BytesValueProtocol",
    "JSONProtocol",
    "JSONValueProtocol",
    "PickleProtocol",
    "PickleValueProtocol",
    "RapidJSONProtocol",
    "RapidJSONValueProtocol",
    "RawProtocol",
    "RawValueProtocol",
    "ReprProtocol",
    "ReprValueProtocol",
    "SimpleJSONProtocol",
    "SimpleJSONValueProtocol",
    "StandardJSONProtocol",
    "StandardJSONValueProtocol",
    "TextProtocol",
    "TextValueProtocol",
    "UltraJSONProtocol",
    "UltraJSONValueProtocol",
]


def _optional(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


ujson = _optional("ujson")
rapidjson = _optional("rapidjson")
simplejson = _optional("simplejson")


def _missing(name: str) -> ModuleType:
    raise ImportError(f"this protocol needs the {name} library: pip install {name}")


class _KeyCachingProtocol:
    """``key<TAB>value``, each part encoded alone; decoding the same key bytes twice
    in a row reuses the first result (a reducer's lines share their key)."""

    _last_key_encoded: bytes | None = None
    _last_key_decoded: Any = None

    def _loads(self, value: bytes) -> Any:
        raise NotImplementedError

    def _dumps(self, value: Any) -> bytes:
        raise NotImplementedError

    def read(self, line: bytes) -> tuple[Any, Any]:
        raw_key, raw_value = line.split(b"\t", 1)
        if raw_key != self._last_key_encoded:
            self._last_key_encoded = raw_key
            self._last_key_decoded = self._loads(raw_key)
        return self._last_key_decoded, self._loads(raw_value)

    def write(self, key: Any, value: Any) -> bytes:
        return self._dumps(key) + b"\t" + self._dumps(value)


_encode_str = json.encoder.encode_basestring_ascii  # what json.dumps does with a str
_decoded: dict[bytes, Any] = {}
_KEPT = 1 << 16


_encoded: dict[type, dict[Any, bytes]] = {str: {}, int: {}}


def json_dumps(value: Any) -> bytes:
    """``json.dumps(value).encode()``; a ``str`` or ``int`` (exactly those types, so that
    ``True`` is never taken for ``1``) encoded once is remembered."""
    kept = _encoded.get(type(value))
    if kept is None:
        return _dumps_any(value)
    data = kept.get(value)
    if data is None:
        text = _encode_str(value) if type(value) is str else int.__repr__(value)
        data = text.encode("ascii")
        if len(kept) >= _KEPT:
            kept.clear()
        kept[value] = data
    return data


_markers: dict[int, Any] = {}
# json.dumps makes this encoder anew for every call; it can be made once.
_make_encoder = getattr(json.encoder, "c_make_encoder", None)
_c_encode = (
    None
    if _make_encoder is None
    else _make_encoder(
        _markers, json.JSONEncoder().default, _encode_str, None, ": ", ", ", False, False, True
    )
)


def _dumps_any(value: Any) -> bytes:
    """``json.dumps(value).encode()`` with the encoder made once."""
    if _c_encode is None or isinstance(value, str):
        return json.dumps(value).encode("utf_8")
    try:
        chunks = _c_encode(value, 0)
    except BaseException:
        _markers.clear()  # what a failed encoding left there
        raise
    return "".join(chunks).encode("utf_8")


def json_loads(data: bytes) -> Any:
    """``json.loads(data.decode())``; a ``str`` or ``int`` decoded once is remembered
    (they are immutable, so handing out the same object again is safe)."""
    value = _decoded.get(data)
    if value is not None:
        return value
    value = json.loads(data.decode("utf_8"))
    if type(value) in (str, int):
        if len(_decoded) >= _KEPT:
            _decoded.clear()
        _decoded[data] = value
    return value


class StandardJSONProtocol(_KeyCachingProtocol):
    """Key and value as JSON, with Python's ``json``."""

    _loads = staticmethod(json_loads)  # type: ignore[assignment]
    _dumps = staticmethod(json_dumps)


class StandardJSONValueProtocol:
    """The value as JSON, with Python's ``json``."""

    def read(self, line: bytes) -> tuple[Any, Any]:
        return None, json_loads(line)

    def write(self, key: Any, value: Any) -> bytes:
        return json_dumps(value)


class RapidJSONProtocol(_KeyCachingProtocol):
    """Key and value as JSON, with ``rapidjson``."""

    def _loads(self, value: bytes) -> Any:
        return (rapidjson or _missing("python-rapidjson")).loads(value)

    def _dumps(self, value: Any) -> bytes:
        return (rapidjson or _missing("python-rapidjson")).dumps(value).encode("utf_8")  # type: ignore[no-any-return]


class RapidJSONValueProtocol:
    """The value as JSON, with ``rapidjson``."""

    def read(self, line: bytes) -> tuple[Any, Any]:
        return None, (rapidjson or _missing("python-rapidjson")).loads(line)

    def write(self, key: Any, value: Any) -> bytes:
        return (rapidjson or _missing("python-rapidjson")).dumps(value).encode("utf_8")  # type: ignore[no-any-return]


class SimpleJSONProtocol(_KeyCachingProtocol):
    """Key and value as JSON, with ``simplejson``."""

    def _loads(self, value: bytes) -> Any:
        return (simplejson or _missing("simplejson")).loads(value)

    def _dumps(self, value: Any) -> bytes:
        return (simplejson or _missing("simplejson")).dumps(value).encode("utf_8")  # type: ignore[no-any-return]


class SimpleJSONValueProtocol:
    """The value as JSON, with ``simplejson``."""

    def read(self, line: bytes) -> tuple[Any, Any]:
        return None, (simplejson or _missing("simplejson")).loads(line)

    def write(self, key: Any, value: Any) -> bytes:
        return (simplejson or _missing("simplejson")).dumps(value).encode("utf_8")  # type: ignore[no-any-return]


class UltraJSONProtocol(_KeyCachingProtocol):
    """Key and value as JSON, with ``ujson`` (no spaces after ``:`` and ``,``)."""

    def _loads(self, value: bytes) -> Any:
        return (ujson or _missing("ujson")).loads(value)

    def _dumps(self, value: Any) -> bytes:
        return (ujson or _missing("ujson")).dumps(value).encode("utf_8")  # type: ignore[no-any-return]


class UltraJSONValueProtocol:
    """The value as JSON, with ``ujson``."""

    def read(self, line: bytes) -> tuple[Any, Any]:
        return None, (ujson or _missing("ujson")).loads(line)

    def write(self, key: Any, value: Any) -> bytes:
        return (ujson or _missing("ujson")).dumps(value).encode("utf_8")  # type: ignore[no-any-return]


JSONProtocol: type[_KeyCachingProtocol]
JSONValueProtocol: type[Any]
if ujson is not None:
    JSONProtocol, JSONValueProtocol = UltraJSONProtocol, UltraJSONValueProtocol
elif rapidjson is not None:
    JSONProtocol, JSONValueProtocol = RapidJSONProtocol, RapidJSONValueProtocol
elif simplejson is not None:
    JSONProtocol, JSONValueProtocol = SimpleJSONProtocol, SimpleJSONValueProtocol
else:
    JSONProtocol, JSONValueProtocol = StandardJSONProtocol, StandardJSONValueProtocol


def _pickle_loads(data: bytes) -> Any:
    return pickle.loads(data.decode("unicode_escape").encode("latin_1"))


def _pickle_dumps(value: Any) -> bytes:
    # Escaped, so that no tab or newline of the pickle splits the line.
    return pickle.dumps(value).decode("latin_1").encode("unicode_escape")


class PickleProtocol(_KeyCachingProtocol):
    """Key and value as escaped pickles: any picklable value, for Python readers only."""

    def _loads(self, value: bytes) -> Any:
        return _pickle_loads(value)

    def _dumps(self, value: Any) -> bytes:
        return _pickle_dumps(value)


class PickleValueProtocol:
    """The value as an escaped pickle."""

    def read(self, line: bytes) -> tuple[Any, Any]:
        return None, _pickle_loads(line)

    def write(self, key: Any, value: Any) -> bytes:
        return _pickle_dumps(value)


class BytesProtocol:
    """Key and value are bytes, split at the first tab (no tab: the value is None)."""

    def read(self, line: bytes) -> tuple[Any, Any]:
        key, tab, value = line.partition(b"\t")
        return key, (value if tab else None)

    def write(self, key: Any, value: Any) -> bytes:
        return b"\t".join(part for part in (key, value) if part is not None)


class BytesValueProtocol:
    """The line is the value, as bytes."""

    def read(self, line: bytes) -> tuple[Any, Any]:
        return None, line

    def write(self, key: Any, value: Any) -> bytes:
        return value  # type: ignore[no-any-return]


def _text(line: bytes) -> str:
    try:
        return line.decode("utf_8")
    except UnicodeDecodeError:
        return line.decode("latin_1")


class TextProtocol:
    """Key and value are text (UTF-8, else Latin-1), split at the first tab."""

    def read(self, line: bytes) -> tuple[Any, Any]:
        key, tab, value = _text(line).partition("\t")
        return key, (value if tab else None)

    def write(self, key: Any, value: Any) -> bytes:
        return b"\t".join(part.encode("utf_8") for part in (key, value) if part is not None)


class TextValueProtocol:
    """The line is the value, as text (UTF-8, else Latin-1): how input is read by default."""

    def read(self, line: bytes) -> tuple[Any, Any]:
        return None, _text(line)

    def write(self, key: Any, value: Any) -> bytes:
        return value.encode("utf_8")  # type: ignore[no-any-return]


RawProtocol = TextProtocol
RawValueProtocol = TextValueProtocol


class ReprProtocol(_KeyCachingProtocol):
    """Key and value as ``repr()``, read back with ``safeeval`` (basic types only)."""

    def _loads(self, value: bytes) -> Any:
        return safeeval(value)

    def _dumps(self, value: Any) -> bytes:
        return repr(value).encode("utf_8")


class ReprValueProtocol:
    """The value as ``repr()``."""

    def read(self, line: bytes) -> tuple[Any, Any]:
        return None, safeeval(line)

    def write(self, key: Any, value: Any) -> bytes:
        return repr(value).encode("utf_8")


#: Protocols whose encoded key never holds a raw tab or newline (their encodings
#: escape both), so that a line of theirs is ``_dumps(key) TAB _dumps(value)`` exactly.
TAB_FREE_KEYS = (
    StandardJSONProtocol, UltraJSONProtocol, SimpleJSONProtocol, RapidJSONProtocol, PickleProtocol,
)  # fmt: skip
