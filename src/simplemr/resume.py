"""Steps kept and resumed: the results of every step but the last committed to a
folder, and a rerun that skips the steps whose kept results this same job made.

    DIR/step-1/part-00000 ...   step 1's results, as step 2 reads them
    DIR/step-1/_SUCCESS         written last: the fingerprint of steps 1..1 and the inputs
    DIR/step-2/...

A step's fingerprint is a digest of the inputs (files: their names, sizes and change
times, or a store's versions; a list of items: their values), of the code and options
of every step up to it (functions by their compiled code, constants, defaults,
closures and the plain data of their module they read; a job class by its methods
and options), and of simplemr's version. Code in other modules that a step calls is
not part of it: change such a helper, and empty the folder. A rerun with ``resume`` starts
after the last step whose kept fingerprint is the job's own; a step whose code
changed, and every step after it, runs again and replaces what was kept. A folder
holding anything else than kept steps is refused, never read. A step is kept under a
hidden name and renamed into place whole, so a killed job leaves no half step.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import marshal
import os
import shutil
import types
from collections.abc import Sequence
from typing import Any

from .errors import JobDefinitionError
from .executors import Executor
from .io.batches import LocalFile, Stored
from .io.inputs import NamedInputs
from .io.workdir import owner_tag, remove_path, remove_stale
from .job import JobSpec
from .shuffle.reducetask import ReduceOutput
from .version import __version__

__all__ = ["KeptFile", "StepStore"]

_SUCCESS = "_SUCCESS"
_STEP = "step-"


@dataclasses.dataclass(frozen=True)
class KeptFile(LocalFile):
    """A kept step's results file: read by the next step, never discarded by it."""

    def discard(self) -> None:
        pass


class StepStore:
    """The folder where a job keeps its steps' results (see the module docstring)."""

    def __init__(self, folder: str, fingerprints: list[str]) -> None:
        self.folder = folder
        #: The fingerprint of steps 1..k+1 at index k.
        self.fingerprints = fingerprints

    @classmethod
    def open(cls, folder: str, job: JobSpec, inputs: Any, resume: bool) -> StepStore:
        """The store at ``folder`` for ``job`` over ``inputs``: checked to hold kept
        steps only (and, without ``resume``, nothing at all)."""
        folder = os.path.abspath(os.fspath(folder))
        try:
            fingerprints = _fingerprints(job, inputs)
        except JobDefinitionError:
            if resume:
                raise
            # Kept, never to be resumed (a generator's items): no fingerprint matches.
            fingerprints = [f"unknown-{os.urandom(8).hex()}"] * (len(job.steps) - 1)
        store = cls(folder, fingerprints)
        if os.path.lexists(folder) and not os.path.isdir(folder):
            raise JobDefinitionError(f"the step output {folder!r} is a file, not a folder")
        os.makedirs(folder, exist_ok=True)
        remove_stale(folder, ".simplemr-step-")  # what a killed job left half written
        names = sorted(os.listdir(folder))
        foreign = [name for name in names if not store._is_kept_step(name)]
        if foreign:
            raise JobDefinitionError(
                f"the step output {folder!r} holds {foreign[0]!r}, which is no step kept by "
                "simplemr; it will not be read or replaced: empty the folder, or choose another"
            )
        if names and not resume:
            raise JobDefinitionError(
                f"the step output {folder!r} holds the steps of an earlier run: pass "
                "resume=True (--resume) to skip those this same job made, or empty it"
            )
        return store

    def _is_kept_step(self, name: str) -> bool:
        number = name[len(_STEP) :]
        if not name.startswith(_STEP) or not number.isdigit():
            return False
        return os.path.isfile(os.path.join(self.folder, name, _SUCCESS))

    def resumed(self) -> tuple[int, list[ReduceOutput]]:
        """How many steps their kept results can stand for (from the first, while the
        fingerprints are the job's own), and the results of the last of them."""
        done = 0
        for step, fingerprint in enumerate(self.fingerprints):
            if self._kept_fingerprint(step) != fingerprint:
                break
            done = step + 1
        if done == 0:
            return 0, []
        folder = self._step_folder(done - 1)
        parts = sorted(name for name in os.listdir(folder) if name.startswith("part-"))
        return done, [ReduceOutput(KeptFile(os.path.join(folder, name))) for name in parts]

    def _kept_fingerprint(self, step: int) -> str | None:
        try:
            with open(os.path.join(self._step_folder(step), _SUCCESS)) as file:
                return str(json.load(file).get("fingerprint"))
        except (OSError, ValueError, AttributeError):
            return None

    def keep(self, step: int, outputs: Sequence[ReduceOutput], executor: Executor) -> None:
        """Keep step ``step``'s results (``outputs``, one a partition): written under a
        hidden name, ``_SUCCESS`` last, then renamed into place over any earlier one."""
        temporary = os.path.join(self.folder, f".simplemr-step-{owner_tag()}")
        remove_path(temporary)
        os.mkdir(temporary, 0o700)  # its files are the work folder's, private too
        try:
            for partition, output in enumerate(outputs):
                assert output.stored is not None  # not the last step: no output written
                _copy(output.stored, os.path.join(temporary, f"part-{partition:05d}"), executor)
            record = {"fingerprint": self.fingerprints[step], "step": step + 1}
            with open(os.path.join(temporary, _SUCCESS), "w") as file:
                json.dump(record, file)
            final = self._step_folder(step)
            if os.path.exists(final):  # the earlier one goes aside whole, then away
                old = os.path.join(self.folder, f".simplemr-step-old-{owner_tag()}")
                os.rename(final, old)
                os.rename(temporary, final)
                remove_path(old)
            else:
                os.rename(temporary, final)
        except BaseException:
            remove_path(temporary)
            raise

    def _step_folder(self, step: int) -> str:
        return os.path.join(self.folder, f"{_STEP}{step + 1}")


def _copy(stored: Stored, path: str, executor: Executor) -> None:
    """Copy a step's results file (a hard link where it lies on the same disk)."""
    if isinstance(stored, LocalFile):
        try:
            os.link(stored.path, path)
        except OSError:
            shutil.copyfile(stored.path, path)
        return
    with open(path, "wb") as file:
        file.write(executor.fetch(stored))


# --- fingerprints ----------------------------------------------------------------------


def _fingerprints(job: JobSpec, inputs: Any) -> list[str]:
    """The fingerprint of steps 1..k+1 for each step k but the last (whose results are
    the job's own, never kept)."""
    import hashlib  # here: most jobs keep no steps, and it loads OpenSSL

    digest = hashlib.sha256()
    digest.update(f"simplemr {__version__}\n".encode())
    digest.update(_inputs_digest(inputs))
    found = []
    for step in job.steps[:-1]:
        # A job class's step says what it runs (``ClassStep.definition``): changing
        # another step's method leaves this one's fingerprint as it was.
        digest.update(_digest(getattr(step, "definition", step)))
        found.append(digest.copy().hexdigest())
    return found


def _inputs_digest(inputs: Any) -> bytes:
    """What identifies ``inputs`` again in a later run: files by name, size and
    change time; items by their pickled bytes. A generator cannot be read twice."""
    if isinstance(inputs, NamedInputs):
        return _digest(sorted((name, _inputs_digest(s)) for name, s in inputs.sources.items()))
    files = getattr(inputs, "files", inputs)  # the TextFiles under another format
    if hasattr(files, "paths") and hasattr(files, "sizes"):
        shape = {key: repr(value) for key, value in sorted(vars(inputs).items()) if key != "files"}
        versions = (getattr(files, "mtimes", ()), getattr(files, "versions", ()))
        return _digest((type(inputs).__name__, files.paths, files.sizes, versions, shape))
    if isinstance(inputs, (list, tuple, range)):
        return _digest(list(inputs))
    raise JobDefinitionError(
        f"resuming needs inputs it can know again in a later run: files, or a list of "
        f"items; {type(inputs).__name__} inputs are read once"
    )


def _digest(value: Any) -> bytes:
    import hashlib

    return hashlib.sha256(repr(_shape(value, set())).encode()).digest()


def _shape(value: Any, seen: set[int]) -> Any:
    """``value`` as nested plain data that stands for its behaviour: code objects as
    their bytes, functions by their code, defaults and closures, classes by their
    members, dataclasses by their fields."""
    if id(value) in seen:
        return "<cycle>"
    if isinstance(value, (str, bytes, int, float, bool, type(None))):
        return value
    seen = seen | {id(value)}
    if isinstance(value, types.CodeType):
        return marshal.dumps(value)
    if isinstance(value, functools.partial):
        return ("partial", _shape(value.func, seen), _shape(value.args, seen),
                _shape(value.keywords, seen))  # fmt: skip
    if isinstance(value, (staticmethod, classmethod)):
        return _shape(value.__func__, seen)
    if isinstance(value, property):
        return ("property", _shape(value.fget, seen), _shape(value.fset, seen))
    if isinstance(value, types.MethodType):
        return _shape(value.__func__, seen)
    if isinstance(value, types.FunctionType):
        return _function_shape(value, seen)
    if inspect.isclass(value):
        return ("class", value.__module__, value.__qualname__, _members(value, seen))
    if dataclasses.is_dataclass(value):
        fields = [(f.name, _shape(getattr(value, f.name), seen)) for f in dataclasses.fields(value)]
        return ("dataclass", type(value).__qualname__, fields)
    if isinstance(value, dict):
        return ("dict", sorted((repr(k), _shape(v, seen)) for k, v in value.items()))
    if isinstance(value, (set, frozenset)):
        return ("set", sorted(repr(_shape(item, seen)) for item in value))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [_shape(item, seen) for item in value])
    return ("object", type(value).__qualname__, repr(value))


def _function_shape(function: types.FunctionType, seen: set[int]) -> Any:
    """A function by its code, defaults, closure, and the globals it reads that are
    plain data or functions and classes of its own module."""
    cells = [cell.cell_contents for cell in function.__closure__ or ()]
    read = []
    for name in sorted(_names_read(function.__code__)):
        found = function.__globals__.get(name)
        plain = isinstance(found, (str, bytes, int, float, bool, tuple, frozenset, list, dict, set))
        own = getattr(found, "__module__", None) == function.__module__
        if plain or (own and callable(found)):
            read.append((name, _shape(found, seen)))
    return ("function", function.__module__, function.__qualname__,
            marshal.dumps(function.__code__), _shape(function.__defaults__, seen),
            _shape(function.__kwdefaults__, seen), _shape(cells, seen), read)  # fmt: skip


def _names_read(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _names_read(constant)
    return names


def _members(cls: type, seen: set[int]) -> list[Any]:
    """A class's own members and those of its bases but simplemr's own and object."""
    members = []
    for klass in cls.__mro__:
        if klass is object or klass.__module__.startswith("simplemr."):
            continue
        for name, member in sorted(vars(klass).items()):
            if name in ("__dict__", "__weakref__", "__doc__", "__module__"):
                continue
            members.append((klass.__qualname__, name, _shape(member, seen)))
    return members


def kept_steps_said(skipped: int, folder: str) -> str:
    """The line that says which steps a resumed run skipped."""
    steps = "step 1" if skipped == 1 else f"steps 1-{skipped}"
    return f"resumed: {steps} skipped, their results kept in {folder} by this same job"
