"""Progress bars on stderr, one per phase, drawn by tqdm.

The engine reports each finished task; a map bar counts input MiB when the
input's size is known (text files), else tasks; a reduce bar counts partitions.
Where the executor can tell what its running map tasks have read (``reading``), a
map bar also moves while they run (local workers say it once a second), so one big
file does not look hung. Sizes are binary (MiB), as in the summary.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

from .. import counters as C
from ..memory import MiB

__all__ = ["Progress", "TerminalProgress"]


class Progress:
    """What the engine tells about a job's progress; this base class shows nothing."""

    def phase_started(
        self,
        phase: str,
        total_tasks: int | None,
        total_bytes: int | None,
        reading: Callable[[], int | None] | None = None,
    ) -> None:
        """A phase starts, with its number of tasks and input bytes when known, and
        ``reading()``: the input bytes its running tasks have read so far."""

    def task_done(self, phase: str, counters: dict[str, int]) -> None:
        """A task of ``phase`` finished with ``counters``."""

    def close(self) -> None:
        """The job ended, however it ended."""


#: A bytes bar counts MiB, as the summary does ("28.6/286.1 MiB [..., 21.40MiB/s]").
_BYTES_BAR = "{l_bar}{bar}| {n:.1f}/{total:.1f} MiB [{elapsed}<{remaining}, {rate_fmt}{postfix}]"


class TerminalProgress(Progress):
    """A tqdm bar per phase on stderr."""

    #: Seconds between two looks at what running tasks have read.
    LOOK_EVERY = 0.5

    def __init__(self, file: Any = None) -> None:
        self.file = file or sys.stderr
        self._bar: Any = None
        self._by_bytes = False
        self._done = 0.0  # what finished tasks read (MiB), or how many finished
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def phase_started(
        self,
        phase: str,
        total_tasks: int | None,
        total_bytes: int | None,
        reading: Callable[[], int | None] | None = None,
    ) -> None:
        from tqdm import tqdm  # imported only when bars are wanted

        self.close()
        self._by_bytes = total_bytes is not None
        self._done = 0.0
        self._bar = tqdm(
            total=total_bytes / MiB if total_bytes is not None else total_tasks,
            desc=phase,
            unit="MiB" if self._by_bytes else " tasks",
            bar_format=_BYTES_BAR if self._by_bytes else None,
            file=self.file,
            leave=True,
            dynamic_ncols=True,
        )
        if self._by_bytes and reading is not None:
            self._stop = threading.Event()
            watcher = threading.Thread(target=self._follow, args=(reading, self._stop))
            watcher.daemon = True
            watcher.start()

    def _follow(self, reading: Callable[[], int | None], stop: threading.Event) -> None:
        """Move the bar to what finished tasks read plus what running ones have."""
        while not stop.wait(self.LOOK_EVERY):
            running = reading() or 0
            with self._lock:
                bar = self._bar
                if bar is None or stop.is_set():
                    return
                shown = min(self._done + running / MiB, bar.total)
                if shown > bar.n:
                    bar.update(shown - bar.n)
                    bar.refresh()  # tqdm would wait for the next update to draw it

    def task_done(self, phase: str, counters: dict[str, int]) -> None:
        with self._lock:
            if self._bar is None:
                return
            self._done += counters.get(C.INPUT_BYTES, 0) / MiB if self._by_bytes else 1
            if self._done > self._bar.n:  # never back: running tasks may have shown more
                self._bar.update(self._done - self._bar.n)

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            if self._bar is not None:
                self._bar.close()
                self._bar = None
