"""A job class's command line: ``python job.py [INPUT ...]`` (``Job.main()``) and the
job part of ``simplemr run``: the options every job takes, the job's own, and the run
they describe, reported as the options say.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import os
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import InputError, JobDefinitionError
from ..io.filesystems import storage_options as filesystem_options
from ..io.formats import FORMATS, input_files
from ..io.output import LINE_FORMATS, check_target, line_format_for, output_kind
from ..resume import kept_steps_said
from .common import (
    EXIT_STATUS_HELP,
    PATHS_HELP,
    ArgumentParser,
    add_binary_option,
    add_compression_option,
    add_engine_options,
    check_report_paths,
    engine_options,
    report_input_problems,
    report_job,
    report_skipped_inputs,
    reported_if_it_fails,
    run_parsed,
    show_progress,
    stdin_is_piped,
    stdin_spooled,
    storage_options,
)

if TYPE_CHECKING:  # a job class comes as an argument: this layer is below jobclass
    from ..jobclass import Job

__all__ = ["add_job_options", "job_parser", "run_job", "run_job_class"]


def run_job_class(job_class: type[Job], argv: Sequence[str] | None = None) -> int:
    """Run ``job_class`` with the command line ``argv`` (``python job.py ...``)."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    prog = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else job_class.__name__
    return run_parsed(
        lambda: job_parser(job_class, prog).parse_args(arguments), "--debug" in arguments
    )


def add_job_options(
    parser: argparse.ArgumentParser, job_class: type[Job] | None, defaults: type[Job]
) -> None:
    """What ``simplemr run`` and ``python job.py`` take, the job's own options included
    (those of ``job_class``, when known; else ``defaults`` gives the defaults)."""
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
        "and _SUCCESS; - (the default): standard output; a name ending in .gz, .bz2, .xz or "
        ".zst is written compressed",
    )
    add_compression_option(parser)
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    parser.add_argument(
        "--input-format",
        choices=FORMATS,
        default=defaults.INPUT_FORMAT,
        help=f"what a record is: a line, a JSON line, a CSV row, a whole file, a Parquet row "
        f"({defaults.INPUT_FORMAT})",
    )
    parser.add_argument(
        "--output-format",
        choices=LINE_FORMATS,
        help="lines of the output, for stdout and folders, or parquet: a folder of Parquet "
        f"files ({defaults.OUTPUT_FORMAT})",
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
    parser.add_argument(
        "--step-output-dir",
        metavar="DIR",
        help="keep the results of every step but the last in DIR (empty, or of an earlier run)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="with --step-output-dir: skip the steps whose results this same job kept there",
    )
    add_binary_option(parser)
    add_engine_options(parser, skip_mode=True)
    if job_class is not None:
        job_class.add_options(parser.add_argument_group(f"options of {job_class.__name__}"))


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
    options = storage_options(args)
    if output_kind(args.output) != "stdout":
        with filesystem_options(options):
            check_target(args.output, args.overwrite, [path for path in inputs if path != "-"])
    elif args.overwrite:
        raise JobDefinitionError("--overwrite goes with -o/--output")
    check_report_paths(args)
    started = time.perf_counter()
    line_format = line_format_for(args.output, args.output_format, job_class.OUTPUT_FORMAT)
    with filesystem_options(options), stdin_spooled(inputs, args.tmp_dir) as (paths, labels):
        files = input_files(
            paths, args.input_format, encoding=args.encoding, labels=labels, binary=args.binary
        )
        report_skipped_inputs(files)
        with reported_if_it_fails(args, _title(args, job_class), started):
            result = job.run(
                files,
                output=args.output,
                overwrite=args.overwrite,
                output_format=line_format,
                compression=args.compression,
                step_output=args.step_output_dir,
                resume=args.resume,
                progress=show_progress(args),
                verbose=args.verbose,
                storage_options=options,
                sort=args.sort,
                **{**engine_options(args), "partitions": args.partitions or job_class.PARTITIONS},
            )
    if sys.stdout is not None:
        with contextlib.suppress(BrokenPipeError):
            sys.stdout.flush()
    report_input_problems(result)
    if result.resumed_steps:
        print(f"simplemr: {kept_steps_said(result.resumed_steps, args.step_output_dir)}",
              file=sys.stderr)  # fmt: skip
    report_job(args, _title(args, job_class), result, time.perf_counter() - started)
    return 0


def _title(args: argparse.Namespace, job_class: type[Job]) -> str:
    return f"simplemr run {getattr(args, 'job', None) or job_class.__name__}"


def job_parser(job_class: type[Job], prog: str) -> argparse.ArgumentParser:
    """The command line of ``python job.py``: ``simplemr run``'s, without JOB."""
    parser = ArgumentParser(
        prog=prog,
        description=(inspect.getdoc(job_class) or f"Run {job_class.__name__}.").split("\n\n")[0],
        epilog=EXIT_STATUS_HELP,
    )
    add_job_options(parser, job_class, job_class)
    parser.set_defaults(run=lambda args: run_job(job_class, args))
    return parser
