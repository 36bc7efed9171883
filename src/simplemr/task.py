"""What every task receives, and how a task reports a failure of user code."""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import SimplemrError

__all__ = ["TaskContext", "UserCodeError", "call_hook"]


@dataclass(frozen=True)
class TaskContext:
    """One attempt of one task: its number (from 0), its attempt (from 1), its folder,
    whether to say on stderr what it reads, and its job step (from 0)."""

    phase: str
    index: int
    attempt: int
    workdir: str
    verbose: bool = False
    step: int = 0

    def path(self, suffix: str) -> str:
        """Return a path in the work folder that belongs to this attempt only."""
        name = f"{self.step + 1}-{self.phase}-{self.index:05d}-{self.attempt}{suffix}"
        return os.path.join(self.workdir, name)

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


def call_hook(role: str, hook: Callable[[], Any], where: str) -> Any:
    """Call a user's hook, blaming it by name if it raises."""
    try:
        result = hook()
        return list(result) if result is not None else []
    except Exception as error:
        raise UserCodeError(role, where) from error
