"""``mrjob.job``: ``MRJob``, the base class of mrjob jobs, running on simplemr.

A job file written for mrjob runs unchanged with ``simplemr mrjob job.py``. The class
keeps mrjob's contract: override ``mapper``, ``combiner``, ``reducer`` and their
``*_init``/``*_final`` hooks (each may yield pairs or return None), ``mapper_raw``,
the ``*_cmd``/``*_pre_filter`` methods, or ``steps()``; set the ``*_PROTOCOL``,
``SORT_VALUES``, ``JOBCONF`` and ``FILES``/``DIRS``/``ARCHIVES`` attributes; add
options in ``configure_args``. ``MRJob(args=[...])`` parses a command line as
mrjob does, and ``make_runner()`` runs it (``runner.py``).
"""

from __future__ import annotations

import inspect
import io
import itertools
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any, ClassVar, TextIO, cast

from ..counters import increment_counter as count
from ..launch.common import ArgumentParser
from .groups import simplemr_group
from .options import add_mrjob_args
from .protocol import JSONProtocol, RawValueProtocol
from .step import STEP_FUNCS, MRStep, SparkStep
from .streaming import hook_lines, mapped, reduced
from .util import to_lines

__all__ = ["MRJob", "UsageError"]


class UsageError(Exception):
    """mrjob's error for a runner made the wrong way."""


def _function(method: Any) -> Any:
    return getattr(method, "__func__", method)


def _bytes_of(stream: TextIO) -> IO[bytes]:
    """A standard stream's bytes: its ``buffer``, or, as in mrjob, the stream itself when
    it has none (a stand-in put there by a test, taken to handle bytes)."""
    return cast("IO[bytes]", getattr(stream, "buffer", stream))


class MRJob:
    """The base class of an mrjob job (see the module docstring)."""

    #: How input lines are read: raw text, the key None.
    INPUT_PROTOCOL: Any = RawValueProtocol
    #: How pairs travel between a step's substeps and between steps.
    INTERNAL_PROTOCOL: Any = JSONProtocol
    #: How the last step's pairs are written.
    OUTPUT_PROTOCOL: Any = JSONProtocol
    #: Whether a reducer's values come in the order of their encoded bytes.
    SORT_VALUES: bool | None = None
    #: A Hadoop partitioner class: only Hadoop's default hash partitioner runs here.
    PARTITIONER: str | None = None
    HADOOP_INPUT_FORMAT: str | None = None
    HADOOP_OUTPUT_FORMAT: str | None = None
    JOBCONF: ClassVar[dict[str, Any]] = {}
    FILES: ClassVar[list[str]] = []
    DIRS: ClassVar[list[str]] = []
    ARCHIVES: ClassVar[list[str]] = []
    LIBJARS: ClassVar[list[str]] = []

    def __init__(self, args: list[str] | None = None) -> None:
        self._passthru_arg_dests: set[str] = set()
        self._file_arg_dests: set[str] = set()
        self._stdin: IO[bytes] | None = None
        self._stdout: IO[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        # A job's own option may take the name of one of simplemr's (--stats, --workers).
        self.arg_parser = ArgumentParser(
            usage=self._usage(), add_help=False, conflict_handler="resolve"
        )
        self._base_args_added = False
        self.configure_args()
        if not self._base_args_added:  # configure_args() did not call super()
            MRJob.configure_args(self)
        if args is None:
            self._cl_args = sys.argv[1:]
        else:
            self._cl_args = list(args)

            def error(message: str) -> Any:
                raise ValueError(message)

            self.arg_parser.error = error  # type: ignore[method-assign]
        self.load_args(self._cl_args)

    # -- streams ------------------------------------------------------------------------

    @property
    def stdin(self) -> IO[bytes]:
        return self._stdin or _bytes_of(sys.stdin)

    @property
    def stdout(self) -> IO[bytes]:
        return self._stdout or _bytes_of(sys.stdout)

    @property
    def stderr(self) -> IO[bytes]:
        return self._stderr or _bytes_of(sys.stderr)

    def sandbox(
        self,
        stdin: IO[bytes] | None = None,
        stdout: IO[bytes] | None = None,
        stderr: IO[bytes] | None = None,
    ) -> MRJob:
        """Read standard input from ``stdin`` and write to ``stdout`` and ``stderr``
        (new ``BytesIO`` objects by default), for tests; returns the job."""
        self._stdin = stdin or io.BytesIO()
        self._stdout = stdout or io.BytesIO()
        self._stderr = stderr or io.BytesIO()
        return self

    def _usage(self) -> str:
        return "%(prog)s [options] [input files]"

    # -- the job's functions --------------------------------------------------------------

    def mapper(self, key: Any, value: Any) -> Any:
        """Yield the pairs of one input pair (``key`` is None for raw input lines)."""
        raise NotImplementedError

    def reducer(self, key: Any, values: Iterator[Any]) -> Any:
        """Yield the pairs of one key and all its values."""
        raise NotImplementedError

    def combiner(self, key: Any, values: Iterator[Any]) -> Any:
        """Yield pairs of ``key`` standing for some of its values."""
        raise NotImplementedError

    def mapper_init(self) -> Any:
        """Run once per map task, before its first input; may yield pairs."""
        raise NotImplementedError

    def mapper_final(self) -> Any:
        """Run once per map task, after its last input; may yield pairs."""
        raise NotImplementedError

    def mapper_cmd(self) -> str:
        """A command to run as the mapper, instead of ``mapper``."""
        raise NotImplementedError

    def mapper_pre_filter(self) -> str:
        """A shell command the mapper's input goes through first."""
        raise NotImplementedError

    def mapper_raw(self, input_path: str, input_uri: str) -> Any:
        """Map a whole input file (one task a file) instead of its lines."""
        raise NotImplementedError

    def reducer_init(self) -> Any:
        """Run once per reduce task, before its first key; may yield pairs."""
        raise NotImplementedError

    def reducer_final(self) -> Any:
        """Run once per reduce task, after its last key; may yield pairs."""
        raise NotImplementedError

    def reducer_cmd(self) -> str:
        """A command to run as the reducer, given its sorted input lines."""
        raise NotImplementedError

    def reducer_pre_filter(self) -> str:
        """A shell command the reducer's sorted input goes through first."""
        raise NotImplementedError

    def combiner_init(self) -> Any:
        """Run once per map task, before the combiner first runs; may yield pairs."""
        raise NotImplementedError

    def combiner_final(self) -> Any:
        """Run once per map task, after the combiner last runs; may yield pairs."""
        raise NotImplementedError

    def combiner_cmd(self) -> str:
        """A command to run as the combiner, given a map task's sorted output."""
        raise NotImplementedError

    def combiner_pre_filter(self) -> str:
        """A shell command the combiner's sorted input goes through first."""
        raise NotImplementedError

    def spark(self, input_path: str, output_path: str) -> Any:
        """A Spark job: only Spark runs it, so simplemr refuses a job that defines it."""
        raise NotImplementedError

    def spark_args(self) -> list[str]:
        return []

    def steps(self) -> list[Any]:
        """The job's steps; by default one ``MRStep`` of the methods the class overrides."""
        defined = {
            name: getattr(self, name)
            for name in (*STEP_FUNCS, "spark")
            if _function(getattr(self, name)) is not _function(getattr(MRJob, name))
        }
        if "spark" in defined:
            if sorted(defined) != ["spark"]:
                raise ValueError("Can't mix spark() and streaming functions")
            return [SparkStep(spark=defined["spark"], spark_args=self.spark_args())]
        for name, method in list(defined.items()):
            if name.endswith(("_cmd", "_pre_filter")):
                defined[name] = method()
        return [MRStep(**defined)] if defined else []

    def increment_counter(self, group: Any, counter: Any, amount: int = 1) -> None:
        """Add ``amount`` to the counter ``counter`` of ``group`` (commas become ``;``)."""
        if not isinstance(amount, int):
            raise TypeError(f"amount must be an integer, not {amount!r}")
        count(simplemr_group(group), str(counter).replace(",", ";"), int(amount))

    def set_status(self, msg: str) -> None:
        """Hadoop shows this in its web interface; a local run has none, as with mrjob."""

    # -- options --------------------------------------------------------------------------

    def configure_args(self) -> None:
        """Add the job's options (call ``super().configure_args()`` first, then
        ``add_passthru_arg`` and ``add_file_arg``)."""
        if not self._base_args_added:
            self._base_args_added = True
            add_mrjob_args(self.arg_parser)

    def add_passthru_arg(self, *args: Any, **kwargs: Any) -> None:
        """An option of the job's own, given to every task as well."""
        self._passthru_arg_dests.add(self.arg_parser.add_argument(*args, **kwargs).dest)

    def add_file_arg(self, *args: Any, **kwargs: Any) -> None:
        """An option naming a file, placed in every task's working folder; tasks see
        the name of the file there."""
        if kwargs.get("type") not in (None, str):
            raise TypeError("file options must take strings")
        if kwargs.get("action") not in (None, "append", "store"):
            raise TypeError("file options must use the actions 'store' or 'append'")
        self._file_arg_dests.add(self.arg_parser.add_argument(*args, **kwargs).dest)

    def pass_arg_through(self, opt_str: str) -> None:
        """Give the tasks one of the built-in options too."""
        for action in self.arg_parser._actions:
            if opt_str in action.option_strings or opt_str == action.dest:
                self._passthru_arg_dests.add(action.dest)
                return
        raise ValueError(f"unknown option {opt_str}")

    def load_args(self, args: list[str]) -> None:
        """Parse ``args`` into ``self.options`` (override to work on them further)."""
        self.options = self.arg_parser.parse_intermixed_args(args)

    def is_task(self) -> bool:
        """Whether this instance runs one task (rather than the whole job)."""
        options = self.options
        return bool(options.run_mapper or options.run_combiner or options.run_reducer)

    # -- protocols ------------------------------------------------------------------------

    def input_protocol(self) -> Any:
        return (self.INPUT_PROTOCOL or RawValueProtocol)()

    def internal_protocol(self) -> Any:
        return (self.INTERNAL_PROTOCOL or JSONProtocol)()

    def output_protocol(self) -> Any:
        return (self.OUTPUT_PROTOCOL or self.INTERNAL_PROTOCOL or JSONProtocol)()

    def pick_protocols(
        self, step_num: int, step_type: str
    ) -> tuple[Callable[..., Any], Callable[..., Any]]:
        """The ``read`` and ``write`` functions of substep ``step_type`` of step
        ``step_num``: the first reads with ``INPUT_PROTOCOL``, the last writes with
        ``OUTPUT_PROTOCOL``, and the rest use ``INTERNAL_PROTOCOL``."""
        scripts = self._script_substeps()
        if step_type == "combiner":
            protocol = self._mapper_output_protocol(step_num, scripts)
            return protocol.read, protocol.write
        place = scripts.get((step_num, step_type))
        if place is None:
            raise ValueError("Can't pick a protocol for a non-script step")
        read = self.input_protocol() if place == 0 else self.internal_protocol()
        write = self.output_protocol() if place == len(scripts) - 1 else self.internal_protocol()
        return read.read, write.write

    def _script_substeps(self) -> dict[tuple[int, str], int]:
        """Each Python mapper and reducer, by ``(step, kind)``, numbered in order."""
        places: dict[tuple[int, str], int] = {}
        for number, step in enumerate(self.steps()):
            described = step.description(number)
            for kind in ("mapper", "reducer"):
                if described.get(kind, {}).get("type") == "script":
                    places[(number, kind)] = len(places)
        return places

    def _mapper_output_protocol(self, step_num: int, scripts: dict[tuple[int, str], int]) -> Any:
        place = scripts.get((step_num, "mapper"))
        if place is None:
            return RawValueProtocol()
        return self.output_protocol() if place == len(scripts) - 1 else self.internal_protocol()

    def parse_output(self, chunks: Iterable[bytes]) -> Iterator[tuple[Any, Any]]:
        """The pairs of the job's output (``runner.cat_output()``), read with its
        output protocol."""
        read = self.output_protocol().read
        for line in to_lines(chunks):
            yield read(line.rstrip(b"\r\n"))

    # -- what the job asks of its runner -----------------------------------------------

    def jobconf(self) -> dict[str, Any]:
        return dict(self.JOBCONF)

    def partitioner(self) -> str | None:
        return self.PARTITIONER

    def sort_values(self) -> bool:
        return bool(self.SORT_VALUES)

    def hadoop_input_format(self) -> str | None:
        return self.HADOOP_INPUT_FORMAT

    def hadoop_output_format(self) -> str | None:
        return self.HADOOP_OUTPUT_FORMAT

    def libjars(self) -> list[str]:
        return self._relative_to_script(self.LIBJARS)

    def files(self) -> list[str]:
        return self._relative_to_script(self.FILES)

    def dirs(self) -> list[str]:
        return self._relative_to_script(self.DIRS)

    def archives(self) -> list[str]:
        return self._relative_to_script(self.ARCHIVES)

    def _relative_to_script(self, paths: Iterable[str]) -> list[str]:
        """Paths in a class attribute are relative to the job file's folder."""
        if isinstance(paths, str):
            paths = [paths]
        script = self.mr_job_script()
        folder = os.path.dirname(os.path.abspath(script)) if script else os.getcwd()
        return [
            path if os.path.isabs(os.path.expanduser(path.split("#")[0]))
            else os.path.join(folder, path)
            for path in paths
        ]  # fmt: skip

    @classmethod
    def mr_job_script(cls) -> str | None:
        """The file the job class is defined in, or None."""
        try:
            return inspect.getsourcefile(cls)
        except TypeError:
            return None

    # -- running --------------------------------------------------------------------------

    @classmethod
    def run(cls) -> None:
        """Run the job from the command line (``if __name__ == '__main__': MRYourJob.run()``)
        and exit with its status."""
        from .launch import run_job_class

        raise SystemExit(run_job_class(cls))

    def execute(self) -> None:
        """Run what the command line asks: the whole job, or one substep over stdin."""
        options = self.options
        if options.run_mapper:
            self.run_mapper(options.step_num)
        elif options.run_combiner:
            self.run_combiner(options.step_num)
        elif options.run_reducer:
            self.run_reducer(options.step_num)
        elif options.run_spark:
            raise UsageError("--spark runs a step on Spark, which simplemr does not run")
        else:
            self.run_job()

    def run_job(self) -> None:
        """Run every step, writing the output to ``self.stdout`` unless told not to."""
        from .launch import run_whole_job

        run_whole_job(self)

    def make_runner(self) -> Any:
        """A runner for this job, as its command line says: ``run()`` it, then read
        ``cat_output()`` and ``counters()``; use it in a ``with`` block."""
        from .runner import MRJobRunner

        return MRJobRunner(self)

    def _step(self, step_num: int) -> MRStep:
        steps = self.steps()
        if not 0 <= step_num < len(steps):
            raise ValueError(f"Out-of-range step: {step_num}")
        step = steps[step_num]
        if not isinstance(step, MRStep):
            raise TypeError(f"Step {step_num} is not a MRStep")
        return step

    def map_pairs(self, pairs: Iterable[tuple[Any, Any]], step_num: int = 0) -> Iterator[Any]:
        """One map task of step ``step_num`` over ``pairs``, in this process: its init
        hook, its mapper (or ``mapper_raw`` over the two input arguments), its final hook."""
        step = self._step(step_num)
        yield from step["mapper_init"]() or () if step["mapper_init"] else ()
        if step["mapper_raw"]:
            if len(self.options.args) != 2:
                raise ValueError("Wrong number of args")
            yield from step["mapper_raw"](*self.options.args) or ()
        else:
            for key, value in pairs:
                yield from step["mapper"](key, value) or ()
        yield from step["mapper_final"]() or () if step["mapper_final"] else ()

    def combine_pairs(self, pairs: Iterable[tuple[Any, Any]], step_num: int = 0) -> Iterator[Any]:
        """One combiner task of step ``step_num`` over sorted ``pairs``, in this process."""
        return self._group_pairs(pairs, "combiner", step_num)

    def reduce_pairs(self, pairs: Iterable[tuple[Any, Any]], step_num: int = 0) -> Iterator[Any]:
        """One reduce task of step ``step_num`` over sorted ``pairs``, in this process."""
        return self._group_pairs(pairs, "reducer", step_num)

    def _group_pairs(
        self, pairs: Iterable[tuple[Any, Any]], kind: str, step_num: int
    ) -> Iterator[Any]:
        step = self._step(step_num)
        function = step[kind]
        if function is None:
            raise ValueError(f"No {kind} in step {step_num}")
        yield from step[f"{kind}_init"]() or () if step[f"{kind}_init"] else ()
        for key, group in itertools.groupby(pairs, lambda pair: pair[0]):
            yield from function(key, (value for _, value in group)) or ()
        yield from step[f"{kind}_final"]() or () if step[f"{kind}_final"] else ()

    def run_mapper(self, step_num: int = 0) -> None:
        """Map the lines of the input (standard input) to standard output, as one task."""
        self._run_substep(step_num, "mapper")

    def run_combiner(self, step_num: int = 0) -> None:
        """Combine the sorted lines of standard input to standard output, as one task."""
        self._run_substep(step_num, "combiner")

    def run_reducer(self, step_num: int = 0) -> None:
        """Reduce the sorted lines of standard input to standard output, as one task."""
        self._run_substep(step_num, "reducer")

    def _run_substep(self, step_num: int, kind: str) -> None:
        step = self._step(step_num)
        read, write = self.pick_protocols(step_num, kind)
        lines = (line.rstrip(b"\r\n") for line in self._input_lines())
        out: list[Iterable[bytes]] = [hook_lines(step[f"{kind}_init"], write)]
        if kind == "mapper":
            out.append(mapped(step["mapper"], read, write, lines))
        else:
            out.append(reduced(step[kind], read, write, lines))
        for line in itertools.chain(*out, hook_lines(step[f"{kind}_final"], write)):
            self.stdout.write(line + b"\n")
        self.stdout.flush()

    def _input_lines(self) -> Iterator[bytes]:
        for path in self.options.args or ["-"]:
            if path == "-":
                yield from self.stdin
            else:
                with open(path, "rb") as file:
                    yield from file
