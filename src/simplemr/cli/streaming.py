"""``simplemr streaming -input IN -output OUT -mapper CMD [-reducer CMD] ...``: Hadoop
Streaming's command line, any executable as mapper and reducer.

It runs ``simplemr.mrjob.hadoop_streaming.HadoopStreaming`` (one step of commands)
through the mrjob runner, so commands, sorting and output behave as they do in
``simplemr mrjob``; simplemr's own options (``--workers``, ``--memory``...) may follow.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from ..errors import JobDefinitionError
from ..launch.common import run_parsed

__all__ = ["add_command", "main", "mrjob_arguments"]

USAGE = (
    "simplemr streaming -input PATH [-input PATH ...] -output FOLDER -mapper CMD "
    "[-combiner CMD] [-reducer CMD] [-numReduceTasks N] [-file PATH ...] "
    "[-cmdenv NAME=VALUE ...] [-D NAME=VALUE ...] [simplemr options]"
)

#: Hadoop Streaming options that need Java classes, which nothing runs here.
JAVA_ONLY = ("-inputformat", "-outputformat", "-partitioner", "-io", "-libjars")


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """List ``streaming`` among the commands (``main`` parses its command line)."""
    commands.add_parser(
        "streaming", help="Hadoop Streaming: any executable as mapper and reducer", add_help=False
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="simplemr streaming", usage=USAGE, add_help=False)
    parser.add_argument("-input", action="append", required=True)
    parser.add_argument("-output", required=True)
    parser.add_argument("-mapper", required=True)
    parser.add_argument("-combiner")
    parser.add_argument("-reducer")
    parser.add_argument("-numReduceTasks", type=int)
    parser.add_argument("-file", action="append", default=[])
    parser.add_argument("-cmdenv", action="append", default=[])
    parser.add_argument("-D", action="append", default=[], dest="jobconf")
    return parser


def mrjob_arguments(arguments: Sequence[str]) -> list[str]:
    """The command line of ``HadoopStreaming`` (mrjob's spelling) for Hadoop's."""
    for java in JAVA_ONLY:
        if java in arguments:
            raise JobDefinitionError(
                f"{java} names a Java class, which only Hadoop runs; simplemr streaming "
                "reads and writes lines, and partitions by the text before the first tab"
            )
    try:
        parsed, rest = _parser().parse_known_args(list(arguments))
    except SystemExit:
        raise JobDefinitionError(f"usage: {USAGE}") from None
    if os.path.lexists(parsed.output):
        raise JobDefinitionError(
            f"the output {parsed.output!r} exists: like Hadoop, simplemr streaming writes "
            "a new folder only; remove it or name another"
        )
    if parsed.numReduceTasks is not None and parsed.numReduceTasks < 0:
        raise JobDefinitionError(f"-numReduceTasks must be 0 or more, got {parsed.numReduceTasks}")
    command = ["--streaming-mapper", parsed.mapper, "-o", parsed.output, "--no-output"]
    if parsed.reducer is not None:
        command += ["--streaming-reducer", parsed.reducer]
    if parsed.combiner is not None:
        command += ["--streaming-combiner", parsed.combiner]
    if parsed.numReduceTasks == 0:
        command.append("--streaming-map-only")
    elif parsed.numReduceTasks is not None:
        command += ["--partitions", str(parsed.numReduceTasks)]
    for path in parsed.file:
        command += ["--files", path]
    for variable in parsed.cmdenv:
        command += ["--cmdenv", variable]
    for setting in parsed.jobconf:
        command += ["--jobconf", setting]
    return [*command, *rest, *parsed.input]


def main(arguments: Sequence[str]) -> int:
    """``simplemr streaming`` with ``arguments`` (those after ``streaming``)."""
    arguments = list(arguments)
    if not arguments or arguments[0] in ("-h", "--help", "-help"):
        print(f"usage: {USAGE}\n{_HELP}", file=sys.stdout if arguments else sys.stderr)
        return 0 if arguments else 2

    def parse() -> argparse.Namespace:
        from ..mrjob.hadoop_streaming import HadoopStreaming
        from ..mrjob.launch import execute

        job = HadoopStreaming(args=mrjob_arguments(arguments))
        return argparse.Namespace(run=lambda _: execute(job))

    return run_parsed(parse, "--debug" in arguments)


_HELP = """
Run a Hadoop Streaming job here: each -mapper reads its input's lines on stdin and
writes "key<TAB>value" lines; each -reducer reads the lines of its keys, sorted by key
(without -reducer they pass through sorted; -numReduceTasks 0: the mapper's lines are
the output). The output folder gets part-NNNNN files and _SUCCESS. -file ships a file
to each task's working folder; -cmdenv sets a variable of the commands; -D sets a
jobconf variable. simplemr's options (--workers, --memory, --executor, ...) may follow."""
