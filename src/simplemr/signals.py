"""Stopping on a signal: the driver unwinds, cleans up, and only then ends.

SIGTERM, SIGHUP (the terminal closed), SIGQUIT, SIGUSR1 and SIGUSR2 end a Python
process at once by default, leaving its work folder and workers behind. While a job
runs, ``stopping_on_signals`` turns each into ``Stopped``, raised in the main thread
as Ctrl-C raises ``KeyboardInterrupt``, so the job's clean-up runs. Once one signal has
arrived, the rest (Ctrl-C included) are ignored until the context ends: clean-up is
never cut short by a second signal.

The command line catches ``Stopped`` and exits with ``128 + signal``. A script using
the API gets the signal's own default action once the job has cleaned up
(``redeliver=True``): it ends as it would have, leaving nothing.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from types import FrameType
from typing import Any, TypeAlias

__all__ = [
    "TERMINAL_KEYS",
    "TERMINATING",
    "Stopped",
    "signals_held",
    "stopping",
    "stopping_on_signals",
]

TERMINATING = (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)


class Stopped(BaseException):
    """A terminating signal arrived while a job ran."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_status(self) -> int:
        return 128 + self.signum


_ALL = (*TERMINATING, signal.SIGINT)
#: A signal's disposition, as ``signal.getsignal`` returns it and ``signal.signal`` takes it.
_Handler: TypeAlias = Callable[[int, FrameType | None], Any] | int | None
_state = {"depth": 0, "stopping": False}


def stopping() -> bool:
    """Whether a signal has stopped the running job, which is now cleaning up."""
    return bool(_state["stopping"])


def _ignore_further() -> None:
    _state["stopping"] = True
    for signum in _ALL:
        signal.signal(signum, signal.SIG_IGN)


def _stop(signum: int, frame: FrameType | None) -> None:
    _ignore_further()
    raise Stopped(signum)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    _ignore_further()
    raise KeyboardInterrupt


@contextlib.contextmanager
def stopping_on_signals(*, take_over: bool = False, redeliver: bool = False) -> Iterator[None]:
    """Turn terminating signals into ``Stopped`` while the block runs.

    Only signals left at their default action are taken, unless ``take_over`` (the
    command line, which owns its process, takes them all, and Ctrl-C too, and after a
    stop leaves them ignored until it exits). With
    ``redeliver``, a ``Stopped`` for a signal this block took is replaced, once the
    block has cleaned up, by the signal itself under its default action. Blocks nest;
    outside the main thread, nothing is installed.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved: dict[int, _Handler] = {signum: signal.getsignal(signum) for signum in _ALL}
    taken = [signum for signum in TERMINATING if take_over or saved[signum] is signal.SIG_DFL]
    for signum in taken:
        signal.signal(signum, _stop)
    if take_over:
        signal.signal(signal.SIGINT, _interrupt)
    _state["depth"] += 1
    try:
        yield
    except Stopped as stopped:
        if redeliver and stopped.signum in taken and _state["depth"] == 1:
            _restore(saved)
            signal.raise_signal(stopped.signum)
        raise
    finally:
        _state["depth"] -= 1
        # After a stop, an outer block still cleaning up keeps signals ignored, and so
        # does a process that took them over: it is about to exit.
        if not _state["stopping"] or (_state["depth"] == 0 and not take_over):
            _restore(saved)
        if _state["depth"] == 0:
            _state["stopping"] = False


#: What a terminal's keys send to the whole foreground process group: Ctrl-C, Ctrl-\\.
TERMINAL_KEYS = (signal.SIGINT, signal.SIGQUIT)


@contextlib.contextmanager
def signals_held(also: Iterable[int] = ()) -> Iterator[None]:
    """Start processes that ignore Ctrl-C and Ctrl-\\ from their first instruction,
    without losing one that comes meanwhile.

    Both reach the whole process group, and stopping the job is the driver's to do. An
    ignored signal stays ignored across fork and exec, and Python leaves it so, so a
    worker, fork server or Dask nanny is never cut short while its interpreter starts
    or imports, which would print a traceback. In this thread the signals are blocked
    as well, and Linux keeps a blocked signal pending even while it is ignored: it is
    delivered to the driver's own handler when the block ends. ``also`` are held back
    (blocked) too, but not ignored. Outside the main thread, nothing is ignored.
    """
    previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {*TERMINAL_KEYS, *also})
    main = threading.current_thread() is threading.main_thread()
    previous = {key: signal.signal(key, signal.SIG_IGN) for key in TERMINAL_KEYS} if main else {}
    try:
        yield
    finally:
        if not stopping():  # a job being stopped keeps every signal ignored
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)


def _restore(saved: dict[int, _Handler]) -> None:
    for signum, handler in saved.items():
        signal.signal(signum, handler)
