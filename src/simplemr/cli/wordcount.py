"""``simplemr wordcount [PATH ...]``: the classic recipe's word count, and its top words."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Iterable, Iterator
from importlib import resources

from ..errors import JobDefinitionError
from ..examples import wordcount
from ..io.inputs import input_locations
from ..io.output import check_target, write_results
from ..io.textfiles import text_files
from .common import (
    EXIT_STATUS_HELP,
    PATHS_HELP,
    add_binary_option,
    add_engine_options,
    check_report_paths,
    engine_options,
    positive,
    report_input_problems,
    report_job,
    report_skipped_inputs,
    show_progress,
    stdin_is_piped,
    stdin_spooled,
)


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
        help=f"{PATHS_HELP}; - for standard input; none: the bundled sample text",
    )
    count.add_argument("--top", type=positive, default=20, help="how many words to show (20)")
    count.add_argument(
        "--output",
        metavar="PATH",
        help="also write all counts: PATH.tsv, PATH.jsonl or PATH.txt as one file, any other PATH "
        "as a folder of part files; - writes them to stdout instead of the table",
    )
    count.add_argument("--overwrite", action="store_true", help="replace an existing --output")
    count.add_argument("--encoding", default="utf-8", help="the files' encoding (utf-8)")
    add_binary_option(count)
    add_engine_options(count)
    count.set_defaults(run=run)


@contextlib.contextmanager
def _sample_paths() -> Iterator[list[str]]:
    folder = resources.files("simplemr.examples") / "sample"
    with resources.as_file(folder) as path:
        yield [str(path)]


class _TopWords:
    """Keeps the most frequent words of the counts that stream past it."""

    def __init__(self, top: int) -> None:
        self.top = top
        self.words: list[tuple[str, int]] = []

    def watch(
        self, partitions: Iterable[Iterable[tuple[str, int]]]
    ) -> Iterator[Iterator[tuple[str, int]]]:
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


def run(args: argparse.Namespace) -> int:
    if sys.stdout is None:
        raise JobDefinitionError(
            "standard output is closed, so there is nowhere to print the counts"
        )
    if args.overwrite and args.output is None:
        raise JobDefinitionError("--overwrite goes with --output")
    if args.output is not None:
        check_target(args.output, args.overwrite, [p for p in args.paths if p != "-"])
    check_report_paths(args)
    started = time.perf_counter()
    if not args.paths and stdin_is_piped():
        print(
            "simplemr: counting the bundled sample text; to count standard input, pass -",
            file=sys.stderr,
        )
    with contextlib.ExitStack() as stack:
        paths = args.paths or stack.enter_context(_sample_paths())
        paths, labels = stack.enter_context(stdin_spooled(paths, args.tmp_dir))
        inputs = text_files(paths, encoding=args.encoding, labels=labels, binary=args.binary)
        report_skipped_inputs(inputs)
        if args.output is not None:
            check_target(args.output, args.overwrite, *input_locations(inputs))
        job = wordcount.job(**engine_options(args))
        top = _TopWords(args.top)
        with job.stream(inputs, progress=show_progress(args), verbose=args.verbose) as results:
            if args.output is None:
                for partition in top.watch(results.partitions()):
                    for _ in partition:
                        pass
            else:
                write_results(top.watch(results.partitions()), args.output, args.overwrite)
            report_input_problems(results)
    if args.output != "-":
        print(wordcount.format_top(top.result(), args.top))
        sys.stdout.flush()
    report_job(args, "simplemr wordcount", results, time.perf_counter() - started)
    return 0
