"""What every command line of simplemr is made of: the engine options, the exit
statuses, reading standard input, reporting a job (summary, stats, report), and
running a parsed command line with every failure turned into one message and a status.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import difflib
import importlib
import json
import os
import platform
import shlex
import shutil
import signal
import stat
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NoReturn, TypeVar, overload

from .. import counters as C
from ..api import DEFAULT_TASK_TIMEOUT
from ..errors import InputError, JobDefinitionError, SimplemrError, WorkFolderError, printable
from ..events import report_of
from ..executors import EXECUTORS
from ..io.compression import COMPRESSIONS
from ..io.filesystems import parse_storage_option
from ..io.paths import describe_special, expand_paths
from ..io.reading import BINARY_SNIFF
from ..io.workdir import create_private, make_workdir
from ..memory import parse_size
from ..observe.report import render_report
from ..observe.summary import Summary, format_summary
from ..signals import Stopped, stopping_on_signals
from ..version import __version__
from .words import in_command_line_words

EXIT_DONE = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = Stopped(signal.SIGINT).exit_status  # 130, as a shell says it
EXIT_BROKEN_PIPE = Stopped(signal.SIGPIPE).exit_status  # 141
EXIT_TERMINATED = Stopped(signal.SIGTERM).exit_status  # 143
EXIT_STATUS_HELP = (
    f"exit status: {EXIT_DONE} done, {EXIT_FAILED} the job failed, {EXIT_USAGE} bad usage or "
    f"bad input found before the job started, {EXIT_INTERRUPTED} interrupted (Ctrl-C), "
    f"{EXIT_BROKEN_PIPE} the reader of the output went away (| head), "
    f"{EXIT_TERMINATED} terminated (SIGTERM), 128+N stopped by signal N (129: SIGHUP)"
)
STDIN_LABEL = "<stdin>"
#: What an input path may be, for every command's help (the README says the same).
PATHS_HELP = (
    "files, globs or folders (read recursively; names starting with . or _ are skipped, "
    "such as hidden files and _SUCCESS markers); .gz, .bz2 and .xz files are decompressed"
)


@contextlib.contextmanager
def warnings_as_messages() -> Iterator[None]:
    """Show warnings on stderr as one line each, ``simplemr: warning: ...``, in the
    command line's words."""

    def show(message: Any, *args: Any, **kwargs: Any) -> None:
        if sys.stderr is not None:
            shown = printable(in_command_line_words(str(message)))
            print(f"simplemr: warning: {shown}", file=sys.stderr)

    saved = warnings.showwarning
    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = saved


_N = TypeVar("_N")


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, saying of an option it does not know which one was meant,
    in the usage of the (sub)command the option was given to."""

    #: The parsers of the subcommands, by name, for the top-level parser's errors.
    commands: dict[str, argparse.ArgumentParser]

    # The overloads are argparse's own (as typeshed gives them).
    @overload
    def parse_args(
        self, args: Iterable[str] | None = None, namespace: None = None
    ) -> argparse.Namespace: ...
    @overload
    def parse_args(self, args: Iterable[str] | None, namespace: _N) -> _N: ...
    @overload
    def parse_args(self, *, namespace: _N) -> _N: ...

    def parse_args(
        self, args: Iterable[str] | None = None, namespace: _N | None = None
    ) -> argparse.Namespace | _N:
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            self._refuse(extras, parsed)
        return parsed

    @overload
    def parse_intermixed_args(
        self, args: Iterable[str] | None = None, namespace: None = None
    ) -> argparse.Namespace: ...
    @overload
    def parse_intermixed_args(self, args: Iterable[str] | None, namespace: _N) -> _N: ...
    @overload
    def parse_intermixed_args(self, *, namespace: _N) -> _N: ...

    def parse_intermixed_args(
        self, args: Iterable[str] | None = None, namespace: _N | None = None
    ) -> argparse.Namespace | _N:
        parsed, extras = self.parse_known_intermixed_args(args, namespace)
        if extras:
            self._refuse(extras, parsed)
        return parsed

    def _refuse(self, extras: list[str], namespace: object) -> NoReturn:
        commands: dict[str, argparse.ArgumentParser] = getattr(self, "commands", {})
        parser = commands.get(getattr(namespace, "command", ""), self)  # no command is ""
        options = [extra for extra in extras if extra.startswith("-") and extra != "-"]
        if not options:
            parser.error(f"unrecognized arguments: {' '.join(extras)}")
        message = f"unrecognized option{'s' if len(options) > 1 else ''}: {' '.join(options)}"
        known = list(parser._option_string_actions)  # argparse offers no public list
        for option in options:
            close = difflib.get_close_matches(option.split("=", 1)[0], known, n=1, cutoff=0.6)
            if close:
                message += f" (did you mean {close[0]}?)"
                break
        parser.error(message)


def _integer(least: int, expected: str) -> Callable[[str], int]:
    """An argparse type: an integer of at least ``least``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = least - 1
        if value < least:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return parse


def _seconds(text: str) -> float:
    """An argparse type: a number of seconds, 0 or more."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, 0 or more, got {text!r}")
    return value


positive = _integer(1, "a positive integer")
not_negative = _integer(0, "an integer, 0 or more")


def add_binary_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--binary",
        action="store_true",
        help="read files that look binary (a NUL byte in their first 8 KiB) as text too; "
        "by default they are skipped with a warning",
    )


def add_compression_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--compression",
        choices=COMPRESSIONS,
        help="write the output in this codec (by default, as its name ends: .gz, .bz2, .xz, "
        ".zst); none keeps such a name as it is, uncompressed",
    )


def add_engine_options(parser: argparse.ArgumentParser, skip_mode: bool = False) -> None:
    """The options that say where and how a job runs (and ``--max-bad-records``,
    for jobs with a per-record mapper)."""
    parser.add_argument("--workers", type=positive, help="worker processes (all cores)")
    parser.add_argument("--partitions", type=positive, help="reduce tasks (2 per worker)")
    parser.add_argument(
        "--memory",
        metavar="SIZE",
        help="the budget for the job's data in all workers, e.g. 512MB or 1GiB (at least "
        "1 MiB a worker; the interpreters come on top)",
    )
    parser.add_argument("--executor", choices=EXECUTORS, default="local", help="where tasks run")
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="with --executor dask: the Dask scheduler to run on (tcp://host:8786); "
        "without it, a local Dask cluster is started for the job",
    )
    parser.add_argument("--tmp-dir", help="where the work folder goes ($SIMPLEMR_TMPDIR, /tmp)")
    parser.add_argument(
        "--storage-option",
        action="append",
        default=[],
        type=_storage_option,
        metavar="KEY=VALUE",
        help="an option for the filesystem of URL inputs and outputs, on the driver and "
        "the workers (endpoint_url=http://10.0.0.9:9000, anon=true); repeat for more",
    )
    parser.add_argument(
        "--task-timeout",
        type=_seconds,
        default=DEFAULT_TASK_TIMEOUT,
        metavar="SECONDS",
        help="kill and retry a task that makes no progress for this long (600; 0: no limit)",
    )
    parser.add_argument(
        "--retry-exceptions",
        type=_exception_classes,
        default=(),
        metavar="NAMES",
        help="run a task again when it raises one of these (OSError,TimeoutError or "
        "module.Class, comma-separated), up to the attempts a lost worker gets",
    )
    if skip_mode:
        parser.add_argument(
            "--max-bad-records",
            type=not_negative,
            default=0,
            metavar="N",
            help="skip up to N records the mapper raises on, and report them (0)",
        )
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bars on stderr (default: when stderr is a terminal)",
    )
    parser.add_argument(
        "--summary",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a table of the job's figures on stderr at the end (default: when stderr is "
        "a terminal)",
    )
    parser.add_argument("--stats", metavar="FILE", help="write the job's figures to FILE as JSON")
    parser.add_argument(
        "--report",
        metavar="FILE",
        help="write a self-contained HTML report to FILE: figures, a timeline of every task",
    )
    parser.add_argument("--verbose", action="store_true", help="say which worker reads what")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks")


def engine_options(args: argparse.Namespace) -> dict[str, object]:
    """The ``MapReduce`` keywords the engine options ask for."""
    if args.scheduler and args.executor != "dask":
        raise JobDefinitionError("--scheduler goes with --executor dask")
    return {
        "workers": args.workers,
        "partitions": args.partitions,
        "memory": memory_budget(args),
        "executor": args.scheduler or args.executor,
        "tmp_dir": args.tmp_dir,
        "task_timeout": args.task_timeout,
        "max_bad_records": getattr(args, "max_bad_records", 0),
        "retry_exceptions": args.retry_exceptions,
    }


def _exception_classes(text: str) -> tuple[type[BaseException], ...]:
    """The exception classes ``text`` names, comma-separated: built-in names
    (``OSError``) or ``module.Class`` (``botocore.exceptions.ClientError``)."""
    classes = []
    for name in filter(None, (part.strip() for part in text.split(","))):
        module, _, attribute = name.rpartition(".")
        try:
            found = getattr(importlib.import_module(module or "builtins"), attribute)
        except (ImportError, AttributeError):
            found = None
        if not (isinstance(found, type) and issubclass(found, Exception)):
            raise argparse.ArgumentTypeError(
                f"{name!r} names no exception class: give built-in names such as OSError, "
                "or module.Class"
            )
        classes.append(found)
    return tuple(classes)


def _storage_option(text: str) -> tuple[str, Any]:
    try:
        return parse_storage_option(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def storage_options(args: argparse.Namespace) -> dict[str, Any]:
    """The fsspec options ``--storage-option`` gives, by key (the last one wins)."""
    return dict(getattr(args, "storage_option", None) or ())


def memory_budget(args: argparse.Namespace) -> str | None:
    """The budget ``--memory`` asks for, as given, once it reads as a size (the API
    refuses one too small for its workers: one floor, ``memory.MIN_WORKER_BUDGET`` a
    worker, and a message in the words the user wrote)."""
    if args.memory is None:
        return None
    try:
        parse_size(args.memory)
    except ValueError as error:
        raise JobDefinitionError(f"--memory: {error}") from None
    return str(args.memory)


def show_progress(args: argparse.Namespace) -> bool:
    return sys.stderr.isatty() if args.progress is None else args.progress


@contextlib.contextmanager
def stdin_spooled(
    paths: list[str], tmp_dir: str | None
) -> Iterator[tuple[list[str], dict[str, str]]]:
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
        try:
            with create_private(spooled) as file:
                shutil.copyfileobj(sys.stdin.buffer, file, 1024 * 1024)
        except OSError as error:
            raise WorkFolderError(
                f"cannot keep standard input in {folder!r}: {error.strerror or error}; point "
                "--tmp-dir (or $SIMPLEMR_TMPDIR) at a disk with room for it"
            ) from None
        yield [spooled if path == "-" else path for path in paths], {spooled: STDIN_LABEL}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def stdin_is_piped() -> bool:
    try:
        mode = os.fstat(0).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISREG(mode)


def report_skipped_inputs(inputs: Any) -> None:
    """Say on stderr which files found in folders or by globs were skipped because they
    are not regular files (FIFOs, sockets, devices)."""
    for path in getattr(inputs, "not_regular", ()):
        said = f"skipped {path}: it is {describe_special(path)}"
        print(f"simplemr: warning: {printable(said)}", file=sys.stderr)


def report_input_problems(outcome: Any) -> None:
    """Say on stderr which files a job's ``outcome`` (a result or a result stream) skipped
    as binary, which had undecodable bytes, and which records were skipped."""
    for path in outcome.binary_skipped:
        print(
            f"simplemr: warning: skipped {printable(path)}: it looks binary (a NUL byte in "
            f"its first {BINARY_SNIFF // 1024} KiB); --binary reads such files as text",
            file=sys.stderr,
        )
    skipped, total = outcome.skipped, outcome.counters.get(C.MAP_SKIPPED, 0)
    for path, count in sorted(outcome.decode_errors.items()):
        print(
            f"simplemr: warning: {printable(path)}: {count} undecodable byte sequence"
            f"{'s' if count > 1 else ''} replaced with U+FFFD",
            file=sys.stderr,
        )
    if total:
        print(
            f"simplemr: warning: skipped {total} bad record{'s' if total > 1 else ''}"
            f"{'; the first:' if skipped else ''}",
            file=sys.stderr,
        )
        for record in skipped:
            print(f"  {printable(record)}", file=sys.stderr)


def check_report_paths(args: argparse.Namespace) -> None:
    """Refuse, before the job runs, a --stats or --report file that cannot be written."""
    for option in ("stats", "report"):
        path = getattr(args, option)
        if path is None:
            continue
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
            raise JobDefinitionError(f"cannot write --{option} {path!r}: no writable folder there")
        if os.path.isdir(path):
            raise JobDefinitionError(f"--{option} {path!r} is a folder; name a file")


@contextlib.contextmanager
def reported_if_it_fails(args: argparse.Namespace, title: str, started: float) -> Iterator[None]:
    """Inside, a job that fails or is interrupted still gets the summary, --stats
    and --report its options ask for, saying how it ended (``report_job``)."""
    try:
        yield
    except BaseException as error:
        report = report_of(error)
        if report is not None:
            with contextlib.suppress(Exception):  # the job's own error is the one to tell
                report_job(args, title, report, time.perf_counter() - started)
        raise


def report_job(args: argparse.Namespace, title: str, outcome: Any, seconds: float) -> None:
    """The summary on stderr (when asked, or on a terminal), --stats and --report."""
    summary = Summary(
        seconds,
        outcome.phases,
        outcome.counters,
        outcome.events,
        getattr(outcome, "outcome", "succeeded"),
        getattr(outcome, "reason", ""),
    )
    show = sys.stderr.isatty() if args.summary is None else args.summary
    if show:
        print(format_summary(summary), file=sys.stderr)
    if args.stats:
        with open(args.stats, "w", encoding="utf-8") as file:
            json.dump(summary.to_dict(), file, indent=2)
            file.write("\n")
    if args.report:
        parameters = {
            "command": shlex.join([os.path.basename(sys.argv[0]), *sys.argv[1:]]),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "machine": f"{platform.node()} ({os.cpu_count()} cores, Python "
            f"{platform.python_version()})",
            "simplemr": __version__,
            **{
                name: getattr(args, name)
                for name in ("workers", "partitions", "memory", "executor")
                if getattr(args, name, None) is not None
            },
        }
        with open(args.report, "w", encoding="utf-8", errors="backslashreplace") as file:
            file.write(render_report(title, parameters, summary))


def _open_standard_error() -> None:
    """Give a closed standard error (``2>&-``) a place that swallows what is written:
    else the file a worker opens next would take its number, and receive the messages."""
    try:
        os.fstat(2)
    except OSError:
        descriptor = os.open(os.devnull, os.O_WRONLY)
        if descriptor != 2:
            os.dup2(descriptor, 2)
            os.close(descriptor)
    sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115 (as long as the process)


def run_parsed(parse: Callable[[], argparse.Namespace], debug: bool) -> int:
    """Parse the command line and run it, turning every failure into a message and a status."""
    if sys.stdout is not None and hasattr(sys.stdout, "reconfigure"):
        # Keys from file names that are not UTF-8 print as the bytes they were; where
        # the terminal's encoding cannot show a word ("LANG=C"), it is escaped.
        utf8 = codecs.lookup(sys.stdout.encoding).name == "utf-8"
        sys.stdout.reconfigure(errors="surrogateescape" if utf8 else "backslashreplace")
    if sys.stderr is None:  # closed: every message is lost, but the job is not
        _open_standard_error()
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
    print(f"simplemr: error: {printable(in_command_line_words(str(error)))}", file=sys.stderr)
    return status
