"""What every task receives, and how a task reports a failure of user code."""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import os
import shutil
from dataclasses import dataclass

from .errors import SimplemrError

__all__ = ["TaskContext", "UserCodeError"]


@dataclass(frozen=True)
class TaskContext:
    """One attempt of one task: its number (from 0), its attempt (from 1), its folder,
    and whether to say on stderr what it reads."""

    phase: str
    index: int
    attempt: int
    workdir: str
    verbose: bool = False

    def path(self, suffix: str) -> str:
        """Return a path in the work folder that belongs to this attempt only."""
        return os.path.join(self.workdir, f"{self.phase}-{self.index:05d}-{self.attempt}{suffix}")

    def next_attempt(self) -> TaskContext:
        """The context of the same task's next attempt."""
        return dataclasses.replace(self, attempt=self.attempt + 1)

    def remove_files(self) -> None:
        """Remove whatever this attempt wrote (a failed attempt's files are never read)."""
        for path in glob.glob(glob.escape(self.path("")) + ".*"):
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)


class UserCodeError(SimplemrError):
    """Raised by a task when the user's mapper, combiner or reducer raised.

    ``where`` says which input the user code was working on; the user's
    exception is the ``__cause__``.
    """

    def __init__(self, role: str, where: str) -> None:
        super().__init__(f"the {role} raised while processing {where}")
        self.role = role
        self.where = where
