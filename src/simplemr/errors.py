"""The exceptions simplemr raises, each with a message meant for a person."""

from __future__ import annotations

import errno
import reprlib

__all__ = [
    "InputError",
    "JobDefinitionError",
    "OutputError",
    "RemoteTraceback",
    "ShapeError",
    "SimplemrError",
    "SortError",
    "TaskFailedError",
    "WorkFolderError",
    "WorkerLostError",
    "check_positive_int",
    "printable",
    "short_repr",
]


class SimplemrError(Exception):
    """Base class of every error simplemr raises on purpose."""


class JobDefinitionError(SimplemrError, ValueError):
    """The job itself is wrong: a bad argument, or a function that cannot be shipped."""


class ShapeError(TypeError):
    """A mapper, combiner or reducer gave something of the wrong shape (not pairs,
    say); the message says so in the user's words, and is the task's whole message."""


_short = reprlib.Repr()
_short.maxstring = 60
_short.maxother = 60


def short_repr(obj: object) -> str:
    """Return a repr of ``obj`` short enough for an error message."""
    try:
        return _short.repr(obj)
    except ValueError:  # an int past Python's decimal limit, somewhere in it
        return f"<{type(obj).__name__} too large to show>"


def printable(text: str) -> str:
    """``text`` safe to show on a terminal as one line: each character that is not
    printable (a line break, ESC, BEL...) written as its escape, so that a file's name
    can neither move the cursor nor forge a line of its own.

    >>> printable("data\\x1b[2J.txt")
    'data\\\\x1b[2J.txt'
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def check_positive_int(name: str, value: object) -> int:
    """Return ``value`` if it is a positive int, else raise JobDefinitionError."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise JobDefinitionError(f"{name} must be a positive integer, got {value!r}")
    return value


class InputError(SimplemrError, ValueError):
    """An input cannot be read: a missing path, an empty folder, a bad file.

    ``where`` names the record, when the error is about one.
    """

    def __init__(self, message: str, where: str | None = None) -> None:
        super().__init__(message)
        self.where = where


class WorkFolderError(SimplemrError):
    """The work folder failed the job: it cannot be written (a full disk, a file size
    limit, permissions), or what the job wrote there was cut short or changed."""

    @classmethod
    def from_os_error(cls, folder: str, error: OSError, written: int = 0) -> WorkFolderError:
        """Say what went wrong with ``folder`` (where this task had ``written``
        bytes), and what to do about it."""
        hint = {
            errno.ENOSPC: "the disk is full: free space, or point --tmp-dir "
            "(or $SIMPLEMR_TMPDIR) at a bigger disk",
            errno.EDQUOT: "the disk quota is used up: point --tmp-dir elsewhere",
            errno.EFBIG: "a file grew past the file size limit (ulimit -f)",
            errno.EACCES: "permission denied",
        }.get(error.errno or 0, error.strerror or str(error))
        so_far = f" (this task had {written:,} bytes to write there)" if written else ""
        return cls(f"cannot write to the work folder {folder!r}: {hint}{so_far}")


class OutputError(SimplemrError):
    """The results could not be written where asked; nothing half-written is left."""


class SortError(SimplemrError):
    """``sort=True`` met keys that cannot be ordered against each other: in a reduce
    task, or between partitions as the driver merges their results."""


class RemoteTraceback(Exception):
    """Carries a worker's formatted traceback home, as the ``__cause__`` of the
    error raised in the driver (as ``concurrent.futures`` does)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return "\n\nThe traceback in the worker:\n\n" + self.text


class TaskFailedError(SimplemrError):
    """A task of the job failed; the message names the task, the input and the cause.

    ``original`` is the exception raised in user code, when it could be brought
    back from the worker; its traceback is the ``__cause__`` of this error.
    """

    def __init__(self, message: str, *, original: BaseException | None = None) -> None:
        super().__init__(message)
        self.original = original


class WorkerLostError(TaskFailedError):
    """A worker process died while running a task, more times than allowed."""
