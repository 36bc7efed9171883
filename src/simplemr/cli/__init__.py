"""The command line: ``simplemr wordcount [PATH ...]``, ``simplemr run JOB [INPUT ...]``,
``simplemr mrjob JOB.py [INPUT ...]`` and ``simplemr streaming -input ... -mapper ...``.

The exit statuses are ``common.EXIT_*``, and ``common.EXIT_STATUS_HELP`` lists them
in --help.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .. import core
from ..launch.common import EXIT_STATUS_HELP, ArgumentParser, run_parsed
from ..loading import load_job
from ..version import __version__
from . import mrjob, run, streaming, wordcount

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="simplemr",
        description="MapReduce on every core of this machine, in bounded memory.",
        epilog=EXIT_STATUS_HELP,
    )
    parser.add_argument(
        "--version", action="version", version=f"simplemr {__version__} ({core.NAME})"
    )
    # The commands' parsers are of this parser's class; each command module takes them
    # as argparse's.
    top: argparse.ArgumentParser = parser
    commands = top.add_subparsers(dest="command", metavar="COMMAND", required=True)
    wordcount.add_command(commands)
    run.add_command(commands)
    mrjob.add_command(commands)
    streaming.add_command(commands)
    parser.commands = dict(commands.choices)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in arguments
    if arguments[:1] == ["mrjob"]:
        return mrjob.main(arguments[1:])
    if arguments[:1] == ["streaming"]:
        return streaming.main(arguments[1:])

    def parse() -> argparse.Namespace:
        if arguments[:1] != ["run"]:
            return build_parser().parse_args(arguments)
        job = run.job_argument(arguments[1:])
        job_class = None if job is None else load_job(job)  # its options join the line
        return run.run_parser(job_class).parse_intermixed_args(arguments[1:])

    return run_parsed(parse, debug)
