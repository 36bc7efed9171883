"""The library's messages in command-line words: ``overwrite=True`` becomes ``--overwrite``.

Errors are raised by the library, often in a worker, in the words of its Python API.
The command line shows them after this rewriting, so a user of the command line is
told which option to pass, not which keyword argument.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["in_command_line_words"]

_REWRITES: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (re.compile(r"\bpass overwrite=True\b"), "pass --overwrite"),
    (re.compile(r"\bsort=True\b"), "--sort"),
    (re.compile(r"\bmax_bad_records=(\d+)"), r"--max-bad-records \1"),
    (re.compile(r"\bmemory=(?:'([^']*)'|(\d+))"), lambda m: f"--memory {m[1] or m[2]}"),
    (re.compile(r"\ba larger memory= budget\b"), "a larger --memory"),
    (re.compile(r"\btmp_dir\b"), "--tmp-dir"),
    (re.compile(r"\bworkers=(\d+)"), r"--workers \1"),
    (re.compile(r"\bpartitions=(\d+)"), r"--partitions \1"),
]


def in_command_line_words(message: str) -> str:
    """Rewrite ``message``'s keyword arguments as the options that set them.

    >>> in_command_line_words("'x' already exists; choose another or pass overwrite=True")
    "'x' already exists; choose another or pass --overwrite"
    """
    for pattern, replacement in _REWRITES:
        message = pattern.sub(replacement, message)
    return message
