"""``simplemr run JOB [INPUT ...]``, and ``python job.py [INPUT ...]`` through ``Job.main()``.

JOB is a file (``jobs/top_words.py``, or ``jobs/top_words.py:TopWords`` when it
holds several job classes) or a module (``mypackage.jobs:TopWords``). A job
file is loaded as a module of its own and shipped to workers by value, so it
need not be importable where the workers run.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.machinery
import importlib.util
import inspect
import os
import sys
import time
from collections.abc import Iterator
from types import ModuleType

import cloudpickle

from ..errors import InputError, JobDefinitionError
from ..io.formats import FORMATS, input_files
from ..io.output import LINE_FORMATS, check_target, output_kind, resolve_line_format
from ..jobclass import Job
from .common import (
    EXIT_STATUS_HELP,
    PATHS_HELP,
    ArgumentParser,
    add_binary_option,
    add_engine_options,
    check_report_paths,
    engine_options,
    report_input_problems,
    report_job,
    report_skipped_inputs,
    show_progress,
    stdin_is_piped,
    stdin_spooled,
)

JOB_HELP = "a job file (job.py, or job.py:ClassName) or a module (package.module:ClassName)"


def add_command(commands: argparse._SubParsersAction) -> None:
    """List ``run`` among the commands (``run_parser`` parses its command line)."""
    commands.add_parser("run", help="run a job class from a file or a module", add_help=False)


def run_parser(job_class: type[Job] | None) -> argparse.ArgumentParser:
    """The command line of ``simplemr run``, with the options of ``job_class`` if known;
    parse it with ``parse_intermixed_args``, so options may come after inputs."""
    parser = ArgumentParser(
        prog="simplemr run",
        description="Run a simplemr.Job subclass over input files; the results go to "
        "standard output unless -o names a file or a folder. JOB comes first.",
        epilog=EXIT_STATUS_HELP,
    )
    parser.add_argument("job", metavar="JOB", help=JOB_HELP)
    add_job_options(parser, job_class)
    parser.set_defaults(run=lambda args: run_job(job_class, args))
    return parser


def add_job_options(parser: argparse.ArgumentParser, job_class: type[Job] | None) -> None:
    """What ``simplemr run`` and ``python job.py`` take, the job's own options included."""
    defaults = job_class or Job
    parser.add_argument(
        "inputs",
        nargs="*",
        metavar="INPUT",
        help=f"{PATHS_HELP}; - or none for standard input",
    )
    parser.add_argument(
        "-o",
        "--output",
        default="-",
        metavar="PATH",
        help="PATH.tsv, PATH.jsonl, PATH.txt: one file; any other PATH: a folder of part files "
        "and _SUCCESS; - (the default): standard output",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    parser.add_argument(
        "--input-format",
        choices=FORMATS,
        default=defaults.INPUT_FORMAT,
        help=f"what a record is: a line, a JSON line, a CSV row, a whole file "
        f"({defaults.INPUT_FORMAT})",
    )
    parser.add_argument(
        "--output-format",
        choices=LINE_FORMATS,
        help=f"lines of the output, for stdout and folders ({defaults.OUTPUT_FORMAT})",
    )
    parser.add_argument(
        "--sort",
        action=argparse.BooleanOptionalAction,
        default=defaults.SORT,
        help="order the output by key",
    )
    parser.add_argument(
        "--encoding", default=defaults.ENCODING, help=f"of text inputs ({defaults.ENCODING})"
    )
    add_binary_option(parser)
    add_engine_options(parser, skip_mode=True)
    if job_class is not None:
        job_class.add_options(parser.add_argument_group(f"options of {job_class.__name__}"))


def load_job(spec: str) -> type[Job]:
    """Find the job class JOB names; any problem is a JobDefinitionError saying what."""
    where, _, name = spec.partition(":")
    if where.endswith(".py") or os.sep in where or os.path.isfile(where):
        module = _load_file(where)
    else:
        if "" not in sys.path and os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())  # as python -m does, for modules of this folder
        try:
            with _loading():
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


#: Whether a job file or module is being loaded (``Job.main()`` must not run then).
loading = False


@contextlib.contextmanager
def _loading() -> Iterator[None]:
    global loading
    loading = True
    try:
        yield
    finally:
        loading = False


def _load_file(path: str) -> ModuleType:
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
        with _loading():
            loader.exec_module(module)
    except JobDefinitionError:
        raise
    except Exception as error:
        raise JobDefinitionError(
            f"the job file {path!r} raised {type(error).__name__}: {error}"
        ) from error
    return module


def run_job(job_class: type[Job] | None, args: argparse.Namespace) -> int:
    """Run the job ``args`` describe; report it as the options say (summary, stats, report)."""
    if job_class is None:
        raise JobDefinitionError(
            "name the job to run right after run: simplemr run JOB [INPUT ...] [options]"
        )
    job = job_class(**{name: getattr(args, name) for name in job_class._option_names()})
    inputs = list(args.inputs)
    if not inputs:
        if not stdin_is_piped():
            raise InputError("give INPUT files, or - to read standard input")
        inputs = ["-"]
    if output_kind(args.output) == "stdout" and sys.stdout is None:
        raise JobDefinitionError("standard output is closed: name an output with -o PATH")
    if output_kind(args.output) != "stdout":
        check_target(args.output, args.overwrite, [path for path in inputs if path != "-"])
    elif args.overwrite:
        raise JobDefinitionError("--overwrite goes with -o/--output")
    check_report_paths(args)
    started = time.perf_counter()
    named = output_kind(args.output) in LINE_FORMATS
    line_format = resolve_line_format(
        args.output, args.output_format or (None if named else job_class.OUTPUT_FORMAT)
    )
    with stdin_spooled(inputs, args.tmp_dir) as (paths, labels):
        files = input_files(
            paths, args.input_format, encoding=args.encoding, labels=labels, binary=args.binary
        )
        report_skipped_inputs(files)
        result = job.run(
            files,
            output=args.output,
            overwrite=args.overwrite,
            output_format=line_format,
            progress=show_progress(args),
            verbose=args.verbose,
            sort=args.sort,
            **{**engine_options(args), "partitions": args.partitions or job_class.PARTITIONS},
        )
    if sys.stdout is not None:
        with contextlib.suppress(BrokenPipeError):
            sys.stdout.flush()
    report_input_problems(result)
    title = f"simplemr run {getattr(args, 'job', None) or job_class.__name__}"
    report_job(args, title, result, time.perf_counter() - started)
    return 0


def job_parser(job_class: type[Job], prog: str) -> argparse.ArgumentParser:
    """The command line of ``python job.py``: ``simplemr run``'s, without JOB."""
    parser = ArgumentParser(
        prog=prog,
        description=(inspect.getdoc(job_class) or f"Run {job_class.__name__}.").split("\n\n")[0],
        epilog=EXIT_STATUS_HELP,
    )
    add_job_options(parser, job_class)
    parser.set_defaults(run=lambda args: run_job(job_class, args))
    return parser
