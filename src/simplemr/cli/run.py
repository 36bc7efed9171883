"""``simplemr run JOB [INPUT ...]``: the command line of ``launch.jobs``, after JOB.

JOB (the first argument that is no option) is a file or a module, loaded by
``simplemr.loading``; options may come before or after it.
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
        "standard output unless -o names a file or a folder. Options may come before or "
        "after JOB.",
        epilog=EXIT_STATUS_HELP,
    )
    parser.add_argument("job", metavar="JOB", help=JOB_HELP)
    add_job_options(parser, job_class, job_class or Job)
    parser.set_defaults(run=lambda args: run_job(job_class, args))
    return parser


def job_argument(arguments: list[str]) -> str | None:
    """The JOB of ``simplemr run``'s ``arguments``: the first that is neither an
    option nor an option's value (``--workers 2 job.py``), found before the job's own
    options are known, so that they can be."""
    takes_value = {
        option
        for action in run_parser(None)._actions  # argparse has no public list of them
        if action.nargs != 0
        for option in action.option_strings
    }
    pending_value = False
    for number, argument in enumerate(arguments):
        if pending_value:
            pending_value = False
        elif argument == "--":
            return arguments[number + 1] if number + 1 < len(arguments) else None
        elif argument.startswith("-") and argument != "-":
            pending_value = argument in takes_value  # --option=value holds its own
        else:
            return argument
    return None
