"""``import mrjob.job`` resolved to ``simplemr.mrjob.job``, in this process only.

``simplemr mrjob`` installs a finder for the ``mrjob`` names before it loads a job
file, and each task installs it again before it makes the job's instance, so the
file's imports, at its top or inside a method, get simplemr's modules. Nothing
named ``mrjob`` is installed on disk: a real mrjob stays importable by every
other program. A module of mrjob this layer has no counterpart for fails to import
with a message that says so.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

__all__ = ["PROVIDED", "install"]

#: The modules of mrjob that job files import, and simplemr provides.
PROVIDED = ("job", "step", "protocol", "util", "compat", "py2", "runner")


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname != "mrjob" and not fullname.startswith("mrjob."):
            return None
        submodule = fullname.split(".")[1] if "." in fullname else None
        if submodule is not None and submodule not in PROVIDED:
            raise ModuleNotFoundError(
                f"simplemr mrjob has no {fullname}: it runs jobs locally, with "
                f"{', '.join('mrjob.' + name for name in PROVIDED)}",
                name=fullname,
            )
        module = importlib.import_module("simplemr." + fullname)
        return importlib.util.spec_from_loader(fullname, _Existing(module))


class _Existing(importlib.abc.Loader):
    """Hands out a module already imported under its own name."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        return self.module

    def exec_module(self, module: ModuleType) -> None:
        pass


def install(purge: bool = True) -> None:
    """Resolve ``mrjob`` imports of this process to simplemr's layer (once is enough).
    With ``purge``, the modules of a real mrjob imported before are set aside, so
    that a job file's imports cannot find them."""
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
    if not purge:
        return
    for name in [name for name in sys.modules if name == "mrjob" or name.startswith("mrjob.")]:
        if not getattr(sys.modules[name], "__name__", "").startswith("simplemr."):
            del sys.modules[name]
