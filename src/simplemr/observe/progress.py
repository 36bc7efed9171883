"""Progress bars on stderr, one per phase, drawn by tqdm.

The engine reports each finished task; a map bar counts input MiB when the
input's size is known (text files), else tasks; a reduce bar counts partitions.
Sizes are binary (MiB), as in the summary.
"""

from __future__ import annotations

import sys
from typing import Any

from .. import counters as C
from ..memory import MiB

__all__ = ["Progress", "TerminalProgress"]


class Progress:
    """What the engine tells about a job's progress; this base class shows nothing."""

    def phase_started(self, phase: str, total_tasks: int | None, total_bytes: int | None) -> None:
        """A phase starts, with its number of tasks and input bytes when known."""

    def task_done(self, phase: str, counters: dict[str, int]) -> None:
        """A task of ``phase`` finished with ``counters``."""

    def close(self) -> None:
        """The job ended, however it ended."""


#: A bytes bar counts MiB, as the summary does ("28.6/286.1 MiB [..., 21.40MiB/s]").
_BYTES_BAR = "{l_bar}{bar}| {n:.1f}/{total:.1f} MiB [{elapsed}<{remaining}, {rate_fmt}{postfix}]"


class TerminalProgress(Progress):
    """A tqdm bar per phase on stderr."""

    def __init__(self, file: Any = None) -> None:
        self.file = file or sys.stderr
        self._bar: Any = None
        self._by_bytes = False

    def phase_started(self, phase: str, total_tasks: int | None, total_bytes: int | None) -> None:
        from tqdm import tqdm  # imported only when bars are wanted

        self.close()
        self._by_bytes = total_bytes is not None
        self._bar = tqdm(
            total=total_bytes / MiB if total_bytes is not None else total_tasks,
            desc=phase,
            unit="MiB" if self._by_bytes else " tasks",
            bar_format=_BYTES_BAR if self._by_bytes else None,
            file=self.file,
            leave=True,
            dynamic_ncols=True,
        )

    def task_done(self, phase: str, counters: dict[str, int]) -> None:
        if self._bar is not None:
            self._bar.update(counters.get(C.INPUT_BYTES, 0) / MiB if self._by_bytes else 1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
