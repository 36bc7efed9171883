"""``mrjob.py2``: the names job files written for Python 2 and 3 import."""

from __future__ import annotations

import sys
from io import StringIO
from typing import Any
from urllib.parse import ParseResult, urljoin, urlparse, urlunparse
from urllib.parse import quote as url_quote
from urllib.parse import unquote as url_unquote

__all__ = [
    "IN_PY2",
    "PY2",
    "ParseResult",
    "StringIO",
    "integer_types",
    "string_types",
    "to_unicode",
    "url_quote",
    "url_unquote",
    "urljoin",
    "urlparse",
    "urlunparse",
    "xrange",
]

PY2 = IN_PY2 = sys.version_info[0] == 2
string_types = (str,)
integer_types = (int,)
xrange = range


def to_unicode(s: Any) -> str:
    """``s`` as text: bytes decoded as UTF-8, or as Latin-1 if they are not UTF-8."""
    if isinstance(s, bytes):
        try:
            return s.decode("utf_8")
        except UnicodeDecodeError:
            return s.decode("latin_1")
    return s  # type: ignore[no-any-return]
