"""``simplemr wordcount [PATH ...]``: the classic recipe's word count, and its top words."""

from __future__ import annotations

import argparse
import contextlib
import functools
import itertools
import sys
import time
from collections.abc import Iterator
from importlib import resources
from typing import Any

from ..errors import JobDefinitionError
from ..examples import wordcount
from ..io.filesystems import storage_options as filesystem_options
from ..io.output import check_target
from ..io.textfiles import text_files
from ..launch.common import (
    EXIT_STATUS_HELP,
    PATHS_HELP,
    add_binary_option,
    add_compression_option,
    add_engine_options,
    check_report_paths,
    engine_options,
    positive,
    report_input_problems,
    report_job,
    report_skipped_inputs,
    reported_if_it_fails,
    show_progress,
    stdin_is_piped,
    stdin_spooled,
    storage_options,
)

#: What the reports of a word count call it.
TITLE = "simplemr wordcount"


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
        "-o",
        "--output",
        metavar="PATH",
        help="also write all counts: PATH.tsv, PATH.jsonl or PATH.txt as one file, any other PATH "
        "(or URL: s3://bucket/counts/) as a folder of part files, written by the reduce "
        "tasks; - writes them to stdout instead of the table",
    )
    count.add_argument("--overwrite", action="store_true", help="replace an existing --output")
    add_compression_option(count)
    count.add_argument("--encoding", default="utf-8", help="the files' encoding (utf-8)")
    add_binary_option(count)
    add_engine_options(count)
    count.set_defaults(run=run)


@contextlib.contextmanager
def _sample_paths() -> Iterator[list[str]]:
    folder = resources.files("simplemr.examples") / "sample"
    with resources.as_file(folder) as path:
        yield [str(path)]


def run(args: argparse.Namespace) -> int:
    if sys.stdout is None:
        raise JobDefinitionError(
            "standard output is closed, so there is nowhere to print the counts"
        )
    for option in ("overwrite", "compression"):
        if getattr(args, option) and args.output is None:
            raise JobDefinitionError(f"--{option} goes with --output")
    if args.output is not None:
        with filesystem_options(storage_options(args)):
            check_target(args.output, args.overwrite, [p for p in args.paths if p != "-"])
    check_report_paths(args)
    started = time.perf_counter()
    if not args.paths and stdin_is_piped():
        print(
            "simplemr: counting the bundled sample text; to count standard input, pass -",
            file=sys.stderr,
        )
    options = storage_options(args)
    with contextlib.ExitStack() as stack:
        stack.enter_context(filesystem_options(options))
        paths = args.paths or stack.enter_context(_sample_paths())
        paths, labels = stack.enter_context(stdin_spooled(paths, args.tmp_dir))
        inputs = text_files(paths, encoding=args.encoding, labels=labels, binary=args.binary)
        report_skipped_inputs(inputs)
        job = wordcount.job(**engine_options(args))
        finished: Any  # the job's ResultStream or JobResult, for the reports
        stack.enter_context(reported_if_it_fails(args, TITLE, started))
        if args.output is None:
            top = wordcount.TopWords(args.top)
            with job.stream(
                inputs, progress=show_progress(args), verbose=args.verbose, storage_options=options
            ) as stream:
                for count in stream:
                    top.see(count)
            summaries, finished = [top.summary()], stream
        else:
            result = job.run(
                inputs,
                output=args.output,
                overwrite=args.overwrite,
                compression=args.compression,
                progress=show_progress(args),
                verbose=args.verbose,
                storage_options=options,
                output_tap=functools.partial(wordcount.TopWords, args.top),
            )
            summaries, finished = result.summaries, result
        report_input_problems(finished)
    if args.output != "-":
        best = wordcount.top_words(itertools.chain.from_iterable(summaries), args.top)
        print(wordcount.format_top(best, args.top))
        sys.stdout.flush()
    report_job(args, TITLE, finished, time.perf_counter() - started)
    return 0
