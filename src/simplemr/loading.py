"""Loading a job from where the command line names it: a file (``jobs/top_words.py``,
or ``jobs/top_words.py:TopWords`` when it holds several job classes) or a module
(``mypackage.jobs:TopWords``).

A job file is loaded as a module of its own and shipped to workers by value, so it
need not be importable where the workers run. While it loads, ``Job.main()``
refuses to run (an unguarded ``main()`` call at the file's top level).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import inspect
import os
import sys
import traceback
from types import ModuleType

import cloudpickle

from .errors import JobDefinitionError
from .jobclass import Job, loading_job_code

__all__ = ["load_file", "load_job"]


def load_job(spec: str) -> type[Job]:
    """Find the job class JOB names; any problem is a JobDefinitionError saying what."""
    where, _, name = spec.partition(":")
    if where.endswith(".py") or os.sep in where or os.path.isfile(where):
        module = load_file(where)
    else:
        if "" not in sys.path and os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())  # as python -m does, for modules of this folder
        try:
            with loading_job_code():
                module = importlib.import_module(where)
        except ImportError as error:
            raise JobDefinitionError(f"cannot import the job module {where!r}: {error}") from error
        except Exception as error:
            raise JobDefinitionError(
                f"importing the job module {where!r} raised {type(error).__name__}: {error}"
            ) from error
    classes = [
        value
        for value in vars(module).values()
        if inspect.isclass(value)
        and issubclass(value, Job)
        and value is not Job
        and value.__module__ == module.__name__
    ]
    if name:
        found = getattr(module, name, None)
        if not (inspect.isclass(found) and issubclass(found, Job)):
            raise JobDefinitionError(f"{where} has no job class {name!r}{_listed(classes)}")
        return found
    if len(classes) != 1:
        if not classes:
            raise JobDefinitionError(f"{where} defines no subclass of simplemr.Job")
        raise JobDefinitionError(f"{where} defines several job classes: name one{_listed(classes)}")
    return classes[0]


def _listed(classes: list[type[Job]]) -> str:
    if not classes:
        return ""
    return " (it has " + ", ".join(f"{cls.__name__}" for cls in classes) + ")"


def load_file(path: str) -> ModuleType:
    if not os.path.isfile(path):
        raise JobDefinitionError(f"no such job file: {path!r}")
    stem = os.path.splitext(os.path.basename(path))[0]
    name = f"simplemr_job_{stem}" if stem.isidentifier() else "simplemr_job"
    # An absolute path in the module's code, so workers elsewhere name the same file.
    loader = importlib.machinery.SourceFileLoader(name, os.path.abspath(path))
    spec = importlib.util.spec_from_loader(name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    # Modules beside the job file import as they do under `python job.py` (workers
    # started from here get this path too).
    folder = os.path.dirname(os.path.abspath(path))
    if folder not in sys.path:
        sys.path.insert(0, folder)
    # Workers receive the module's code with its classes, so it needs no import path.
    cloudpickle.register_pickle_by_value(module)
    try:
        with loading_job_code():
            loader.exec_module(module)
    except JobDefinitionError:
        raise
    except Exception as error:
        raise JobDefinitionError(
            f"the job file {path!r}{_line_in(path, error)} raised {type(error).__name__}: {error}"
        ) from error
    return module


def _line_in(path: str, error: BaseException) -> str:
    """ ", line N": where in the file at ``path`` ``error`` was raised, as a
    SyntaxError says it (the deepest line of that file in the traceback)."""
    real = os.path.realpath(path)
    lines = [
        frame.lineno
        for frame in traceback.extract_tb(error.__traceback__)
        if os.path.realpath(frame.filename) == real
    ]
    return f", line {lines[-1]}," if lines else ""
