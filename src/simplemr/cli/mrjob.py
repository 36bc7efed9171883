"""``simplemr mrjob JOB.py [OPTIONS] [INPUT ...]``: an mrjob job file, unmodified.

The file's ``mrjob`` imports resolve to ``simplemr.mrjob`` (see its ``aliases``),
its job class parses the rest of the command line as mrjob would (mrjob's options,
the job's own, and simplemr's engine options), and the output is printed as
mrjob prints it (``simplemr.mrjob.launch``, where ``MRJob.run()`` goes too).
"""

from __future__ import annotations

import argparse
import ast
import inspect
import sys
from collections.abc import Sequence
from typing import Any

from ..errors import JobDefinitionError
from ..launch.common import run_parsed
from ..mrjob.launch import execute

__all__ = ["add_command", "load_mrjob_class", "main"]

USAGE = "simplemr mrjob JOB.py[:ClassName] [OPTIONS] [INPUT ...]"


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """List ``mrjob`` among the commands (``main`` parses its command line)."""
    commands.add_parser("mrjob", help="run an mrjob job file unmodified", add_help=False)


def main(arguments: Sequence[str]) -> int:
    """``simplemr mrjob`` with ``arguments`` (those after ``mrjob``)."""
    arguments = list(arguments)
    if not arguments or arguments[0] in ("-h", "--help"):
        print(f"usage: {USAGE}\n{_HELP}", file=sys.stdout if arguments else sys.stderr)
        return 0 if arguments else 2

    def parse() -> argparse.Namespace:
        if arguments[0].startswith("-"):
            raise JobDefinitionError(f"name the job file first: {USAGE}")
        job_class = load_mrjob_class(arguments[0])
        job = _instance(job_class, arguments[0].partition(":")[0], arguments[1:])
        return argparse.Namespace(run=lambda _: execute(job))

    return run_parsed(parse, "--debug" in arguments)


_HELP = """
Run a job file written for mrjob (from mrjob.job import MRJob) as it is, on simplemr.
OPTIONS are the job's own, mrjob's (-r local, -o/--output-dir, --no-output,
--jobconf, --files, ...) and simplemr's (--workers, --memory, --executor, ...):
see simplemr mrjob JOB.py --help."""


def load_mrjob_class(spec: str) -> type:
    """The job class of a job file (``job.py``, or ``job.py:ClassName``): the one its
    ``__main__`` block runs, else the only one it defines."""
    from ..loading import load_file
    from ..mrjob import aliases
    from ..mrjob.job import MRJob

    path, _, name = spec.partition(":")
    aliases.install()
    module = load_file(path)
    if name:
        found = getattr(module, name, None)
        if not (inspect.isclass(found) and issubclass(found, MRJob)):
            raise JobDefinitionError(f"{path} has no mrjob job class {name!r}")
        return found
    run = _classes_run_by_main(path)
    classes = [
        value
        for value in vars(module).values()
        if inspect.isclass(value) and issubclass(value, MRJob) and value is not MRJob
    ]
    chosen = [cls for cls in classes if cls.__name__ in run] or [
        cls for cls in classes if cls.__module__ == module.__name__
    ]
    if len(chosen) == 1:
        return chosen[0]
    if not chosen:
        raise JobDefinitionError(f"{path} defines no job class (a subclass of mrjob.job.MRJob)")
    names = ", ".join(cls.__name__ for cls in chosen)
    raise JobDefinitionError(
        f"{path} defines several job classes ({names}): name one as {path}:Name"
    )


def _classes_run_by_main(path: str) -> set[str]:
    """The names ``X`` of ``X.run()`` calls under ``if __name__ == "__main__":``."""
    try:
        with open(path, "rb") as file:
            tree = ast.parse(file.read())
    except (OSError, SyntaxError, ValueError):
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            for inner in ast.walk(node):
                if (
                    isinstance(inner, ast.Call)
                    and isinstance(inner.func, ast.Attribute)
                    and inner.func.attr == "run"
                    and isinstance(inner.func.value, ast.Name)
                ):
                    names.add(inner.func.value.id)
    return names


def _instance(job_class: type, prog: str, args: list[str]) -> Any:
    """The job made from ``args`` as ``python JOB.py args`` would make it."""
    saved = sys.argv
    sys.argv = [prog, *args]
    try:
        return job_class()
    finally:
        sys.argv = saved
