"""The command line: ``simplemr wordcount [PATH ...]``, ``simplemr run JOB [INPUT ...]``
and ``simplemr mrjob JOB.py [INPUT ...]``.

The exit statuses are ``common.EXIT_*``, and ``common.EXIT_STATUS_HELP`` lists them
in --help.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable, Sequence

from .. import __version__, core
from ..errors import InputError, JobDefinitionError, SimplemrError
from ..jobclass import Job
from ..loading import load_job
from ..signals import Stopped, stopping_on_signals
from . import mrjob, run, wordcount
from .common import (
    EXIT_BROKEN_PIPE,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_STATUS_HELP,
    EXIT_USAGE,
    ArgumentParser,
    warnings_as_messages,
)
from .words import in_command_line_words

__all__ = ["main", "run_job_class"]


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
    parser.commands = dict(commands.choices)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in arguments
    if arguments[:1] == ["mrjob"]:
        return mrjob.main(arguments[1:])

    def parse() -> argparse.Namespace:
        if arguments[:1] != ["run"]:
            return build_parser().parse_args(arguments)
        job_class = None
        if len(arguments) > 1 and not arguments[1].startswith("-"):
            job_class = load_job(arguments[1])  # its options join the command line
        return run.run_parser(job_class).parse_intermixed_args(arguments[1:])

    return run_parsed(parse, debug)


def run_job_class(job_class: type[Job], argv: Sequence[str] | None = None) -> int:
    """Run ``job_class`` with the command line ``argv`` (``python job.py ...``)."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    prog = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else job_class.__name__
    return run_parsed(
        lambda: run.job_parser(job_class, prog).parse_args(arguments), "--debug" in arguments
    )


def run_parsed(parse: Callable[[], argparse.Namespace], debug: bool) -> int:
    """Parse the command line and run it, turning every failure into a message and a status."""
    if sys.stdout is not None and hasattr(sys.stdout, "reconfigure"):
        # Keys from file names that are not UTF-8 print as the bytes they were.
        sys.stdout.reconfigure(errors="surrogateescape")
    try:
        with stopping_on_signals(take_over=True), warnings_as_messages():
            args = parse()
            status: int = args.run(args)  # the command's run(), set_defaults(run=...)
            return status
    except (InputError, JobDefinitionError) as error:
        return _fail(debug, error, EXIT_USAGE)
    except SimplemrError as error:
        return _fail(debug, error, EXIT_FAILED)
    except BrokenPipeError:
        # The reader of our output went away (`... | head`): stop quietly, as
        # programs killed by SIGPIPE do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except OSError as error:  # a full disk, a file vanished or not readable...
        return _fail(debug, error, EXIT_FAILED)
    except KeyboardInterrupt:
        print("simplemr: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Stopped as stopped:
        how = "terminated" if stopped.signum == signal.SIGTERM else f"stopped by {stopped.name}"
        print(f"simplemr: {how}", file=sys.stderr)
        return stopped.exit_status


def _fail(debug: bool, error: BaseException, status: int) -> int:
    if debug:
        import traceback

        traceback.print_exception(error)
    print(f"simplemr: error: {in_command_line_words(str(error))}", file=sys.stderr)
    return status
