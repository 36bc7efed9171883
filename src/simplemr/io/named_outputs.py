"""Named outputs (Hadoop's MultipleOutputs): a result sent to an output of its own.

A reducer returns (or yields) ``To("errors", result)`` in place of ``result``; a folder
output then holds ``errors/part-00000``... beside its own parts, written and
committed with them (``io/commit.py``: ``_SUCCESS`` last, nothing of a failed attempt
visible). Results kept in memory (``run()`` without ``output``) are the ``To``
objects themselves, for the caller to sort out.

    out/part-00000          results of partition 0
    out/errors/part-00000   what partition 0 sent to "errors"
    out/_SUCCESS
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable
from typing import IO, Any

__all__ = ["To", "check_output_name", "write_partition"]

#: A part file's name, which a named output must not take.
_PART_NAME = re.compile(r"part-\d+.*")


def check_output_name(name: Any) -> str:
    """``name`` if it can name an output folder beside the parts: a non-empty str
    without ``/`` or ``\\``, not ``.``/``..``, not hidden (``.``, ``_``, which readers
    of the folder skip) and not a part's name; else ``ValueError`` naming it."""
    if not isinstance(name, str):
        raise ValueError(f"an output's name must be a str, not {name!r}")
    if (
        not name
        or "/" in name
        or "\\" in name
        or "\0" in name
        or name.startswith((".", "_"))
        or _PART_NAME.fullmatch(name)
    ):
        raise ValueError(
            f"{name!r} cannot name an output: use a non-empty name without '/', not starting "
            "with '.' or '_', and not a part's name"
        )
    return name


class To:
    """A result sent to the named output ``name``: ``To("errors", (key, value))``.

    Returned or yielded by a reducer in place of the result itself; the name is
    checked here (``check_output_name``), so a bad one fails the reduce task that made
    it, naming it."""

    __slots__ = ("name", "result")

    def __init__(self, name: str, result: Any) -> None:
        self.name = check_output_name(name)
        self.result = result

    def __repr__(self) -> str:
        return f"To({self.name!r}, {self.result!r})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not To:
            return NotImplemented
        return (self.name, self.result) == (other.name, other.result)

    def __hash__(self) -> int:
        return hash((To, self.name, self.result))

    def __reduce__(self) -> tuple[Any, ...]:
        return (To, (self.name, self.result))


def write_partition(
    open_part: Callable[[str], IO[str]],
    part: str,
    results: Iterable[Any],
    render: Callable[[Any], str],
) -> int:
    """Write each of ``results`` as a line (``render``) to the file ``open_part(part)``,
    or, sent to a named output, to ``open_part(name + "/" + part)``, opened at its
    first result; return how many lines were written in all."""
    count = 0
    with contextlib.ExitStack() as files:
        default = files.enter_context(open_part(part))
        named: dict[str, IO[str]] = {}
        for result in results:
            if type(result) is To:
                file = named.get(result.name)
                if file is None:
                    file = files.enter_context(open_part(f"{result.name}/{part}"))
                    named[result.name] = file
                file.write(render(result.result))
            else:
                file = default
                file.write(render(result))
            file.write("\n")
            count += 1
    return count
