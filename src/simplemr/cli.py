"""The command line: ``simplemr wordcount [PATH ...]``.

Exit status: 0 done, 1 the job failed, 2 bad usage or bad input found before
the job started, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import stat
import sys
from collections.abc import Iterable, Iterator, Sequence
from importlib import resources

from . import __version__
from .engine import make_workdir
from .errors import InputError, JobDefinitionError, SimplemrError
from .examples import wordcount
from .executors import EXECUTORS
from .output import check_target, write_results
from .textfiles import expand_paths, text_files

__all__ = ["main"]

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
EXIT_BROKEN_PIPE = 141


EXIT_STATUS_HELP = (
    "exit status: 0 done, 1 the job failed, 2 bad usage or bad input found before the "
    "job started, 130 interrupted, 143 terminated"
)


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
        epilog=EXIT_STATUS_HELP,
    )
    parser.add_argument("--version", action="version", version=f"simplemr {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    count = commands.add_parser(
        "wordcount",
        help="count the words of text files and print the most frequent",
        description=(
            "Count words by the classic recipe's rules and print the most frequent: "
            "count descending, ties by word ascending. With no PATH, counts a sample "
            "text shipped with simplemr. Undecodable bytes are replaced (and reported)."
        ),
        epilog=EXIT_STATUS_HELP,
    )
    count.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files, globs or folders (recursively; hidden files skipped); - for stdin; "
        ".gz, .bz2 and .xz files are decompressed",
    )
    count.add_argument("--top", type=_positive, default=20, help="how many words to show (20)")
    count.add_argument(
        "--output",
        metavar="PATH",
        help="also write all counts: PATH.tsv or PATH.jsonl as one file, any other PATH "
        "as a folder of part files; - writes them to stdout instead of the table",
    )
    count.add_argument("--overwrite", action="store_true", help="replace an existing --output")
    count.add_argument("--encoding", default="utf-8", help="the files' encoding (utf-8)")
    _add_engine_options(count)
    count.set_defaults(run=_run_wordcount)
    return parser


def _add_engine_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workers", type=_positive, help="worker processes (all cores)")
    parser.add_argument("--partitions", type=_positive, help="reduce tasks (2 per worker)")
    parser.add_argument("--memory", help="the job's memory budget, e.g. 512MB")
    parser.add_argument("--executor", choices=EXECUTORS, default="local", help="where tasks run")
    parser.add_argument("--tmp-dir", help="where the work folder goes ($SIMPLEMR_TMPDIR, /tmp)")
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bars on stderr (default: when stderr is a terminal)",
    )
    parser.add_argument("--verbose", action="store_true", help="say which worker reads what")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks")


@contextlib.contextmanager
def _sample_paths() -> Iterator[list[str]]:
    folder = resources.files("simplemr.examples") / "sample"
    with resources.as_file(folder) as path:
        yield [str(path)]


STDIN_LABEL = "<stdin>"


@contextlib.contextmanager
def _stdin_spooled(paths: list[str], tmp_dir: str | None) -> Iterator[tuple[list[str], dict]]:
    """Replace ``-`` in ``paths`` by a private file holding standard input, so it
    can be split and read by workers like any file; messages call it <stdin>.
    Yields the paths and the labels for ``text_files``."""
    if "-" not in paths:
        yield paths, {}
        return
    others = [path for path in paths if path != "-"]
    if others:
        expand_paths(others)  # a typo fails now, not after all of stdin is read
    if sys.stdin is None:
        raise InputError("'-' names standard input, but there is none")
    folder = make_workdir(tmp_dir, prefix="simplemr-stdin-")
    try:
        spooled = os.path.join(folder, "stdin")
        with open(spooled, "wb") as file:
            shutil.copyfileobj(sys.stdin.buffer, file, 1024 * 1024)
        yield [spooled if path == "-" else path for path in paths], {spooled: STDIN_LABEL}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _stdin_is_piped() -> bool:
    try:
        mode = os.fstat(0).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISREG(mode)


class _TopWords:
    """Keeps the most frequent words of the counts that stream past it."""

    def __init__(self, top: int) -> None:
        self.top = top
        self.words: list[tuple[str, int]] = []

    def watch(self, partitions: Iterable[Iterable[tuple[str, int]]]) -> Iterator[Iterator]:
        for partition in partitions:
            yield self._watch(partition)

    def _watch(self, counts: Iterable[tuple[str, int]]) -> Iterator[tuple[str, int]]:
        for pair in counts:
            yield pair
            self.words.append(pair)
            if len(self.words) > 4 * self.top + 1000:
                self.words = wordcount.top_words(self.words, self.top)

    def result(self) -> list[tuple[str, int]]:
        return wordcount.top_words(self.words, self.top)


def _run_wordcount(args: argparse.Namespace) -> int:
    if args.overwrite and args.output is None:
        raise JobDefinitionError("--overwrite goes with --output")
    if args.output is not None:
        check_target(args.output, args.overwrite, [p for p in args.paths if p != "-"])
    if not args.paths and _stdin_is_piped():
        print(
            "simplemr: counting the bundled sample text; to count standard input, pass -",
            file=sys.stderr,
        )
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    with contextlib.ExitStack() as stack:
        paths = args.paths or stack.enter_context(_sample_paths())
        paths, labels = stack.enter_context(_stdin_spooled(paths, args.tmp_dir))
        inputs = text_files(paths, encoding=args.encoding, labels=labels)
        job = wordcount.job(
            workers=args.workers,
            partitions=args.partitions,
            memory=args.memory,
            executor=args.executor,
            tmp_dir=args.tmp_dir,
        )
        top = _TopWords(args.top)
        with job.stream(inputs, progress=progress, verbose=args.verbose) as results:
            if args.output is None:
                for partition in top.watch(results.partitions()):
                    for _ in partition:
                        pass
            else:
                write_results(top.watch(results.partitions()), args.output, args.overwrite)
            for path, count in sorted(results.decode_errors.items()):
                print(
                    f"simplemr: warning: {path}: {count} undecodable byte sequence"
                    f"{'s' if count > 1 else ''} replaced with U+FFFD",
                    file=sys.stderr,
                )
    if args.output != "-":
        print(wordcount.format_top(top.result(), args.top))
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
    except BrokenPipeError:
        # The reader of our output went away (`... | head`): stop quietly, as
        # programs killed by SIGPIPE do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except OSError as error:  # a full disk, a file vanished or not readable...
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
