"""``simplemr run JOB [INPUT ...]``: the command line of ``launch.jobs``, JOB first.

JOB is a file or a module, loaded by ``simplemr.loading``.
"""

from __future__ import annotations

import argparse

from ..jobclass import Job
from ..launch.common import EXIT_STATUS_HELP, ArgumentParser
from ..launch.jobs import add_job_options, run_job

JOB_HELP = "a job file (job.py, or job.py:ClassName) or a module (package.module:ClassName)"


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    add_job_options(parser, job_class, job_class or Job)
    parser.set_defaults(run=lambda args: run_job(job_class, args))
    return parser
