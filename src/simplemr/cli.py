"""The command line: ``simplemr wordcount [PATH ...]``.

Exit status: 0 done, 1 the job failed, 2 bad usage or bad input found before
the job started, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Iterator, Sequence
from importlib import resources

from . import __version__
from .errors import InputError, JobDefinitionError, SimplemrError
from .examples import wordcount
from .executors import EXECUTORS
from .textfiles import text_files

__all__ = ["main"]

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


class _Terminated(BaseException):
    """SIGTERM, raised in the driver so that cleanup runs as for Ctrl-C."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise _Terminated


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="simplemr",
        description="MapReduce on every core of this machine, in bounded memory.",
    )
    parser.add_argument("--version", action="version", version=f"simplemr {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    count = commands.add_parser(
        "wordcount",
        help="count the words of text files and print the most frequent",
        description=(
            "Count words by the classic recipe's rules and print the most frequent: "
            "count descending, ties by word ascending. With no PATH, counts a sample "
            "text shipped with simplemr."
        ),
    )
    count.add_argument("paths", nargs="*", metavar="PATH", help="files, globs or folders")
    count.add_argument("--top", type=_positive, default=20, help="how many words to show")
    _add_engine_options(count)
    count.add_argument("--encoding", default="utf-8", help="the files' encoding (utf-8)")
    count.set_defaults(run=_run_wordcount)
    return parser


def _add_engine_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workers", type=_positive, help="worker processes (all cores)")
    parser.add_argument("--partitions", type=_positive, help="reduce tasks (2 per worker)")
    parser.add_argument("--memory", help="the job's memory budget, e.g. 512MB")
    parser.add_argument("--executor", choices=EXECUTORS, default="local", help="where tasks run")
    parser.add_argument("--tmp-dir", help="where the work folder goes ($SIMPLEMR_TMPDIR, /tmp)")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks")


@contextlib.contextmanager
def _sample_paths() -> Iterator[list[str]]:
    folder = resources.files("simplemr.examples") / "sample"
    with resources.as_file(folder) as path:
        yield [str(path)]


def _run_wordcount(args: argparse.Namespace) -> int:
    with contextlib.ExitStack() as stack:
        paths = args.paths or stack.enter_context(_sample_paths())
        inputs = text_files(paths, encoding=args.encoding)
        job = wordcount.job(
            workers=args.workers,
            partitions=args.partitions,
            memory=args.memory,
            executor=args.executor,
            tmp_dir=args.tmp_dir,
        )
        with job.stream(inputs) as results:
            top = wordcount.top_words(results, args.top)
    print(wordcount.format_top(top, args.top))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return args.run(args)
    except (InputError, JobDefinitionError) as error:
        return _fail(args, error, EXIT_USAGE)
    except SimplemrError as error:
        return _fail(args, error, EXIT_FAILED)
    except KeyboardInterrupt:
        print("simplemr: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except _Terminated:
        print("simplemr: terminated", file=sys.stderr)
        return EXIT_TERMINATED
    finally:
        signal.signal(signal.SIGTERM, previous)


def _fail(args: argparse.Namespace, error: BaseException, status: int) -> int:
    if args.debug:
        import traceback

        traceback.print_exception(error)
    print(f"simplemr: error: {error}", file=sys.stderr)
    return status
