"""``make_runner()``: an mrjob job run on simplemr's engine, as mrjob's local runner runs it.

    with job.make_runner() as runner:
        runner.run()
        for key, value in job.parse_output(runner.cat_output()):
            ...

``run()`` first refuses what simplemr cannot do the way mrjob would (a Hadoop
or Spark runner, a jar or Spark step, setup commands), naming it, and warns about
settings that change nothing here (a Java input or output format, partitioner or
library, which mrjob's local runner ignores too). The
output goes to ``--output-dir``, or to a temporary folder that ``cleanup()`` (the
end of the ``with`` block) removes.
"""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Iterator
from typing import Any

from ..api import JobResult, MapReduce
from ..errors import InputError, JobDefinitionError, SimplemrError
from ..io.filesystems import is_url
from ..io.inputs import ItemsInput
from ..io.output import SUCCESS_MARKER, check_target
from ..io.workdir import create_private, make_workdir
from .groups import mrjob_group
from .options import IGNORED_SWITCHES, REFUSED_SWITCHES, engine_namespace
from .step import MRStep, StepFailedException
from .streaming import JobPlan, LineInput, StreamingStep
from .taskenv import TaskEnvironment
from .util import random_identifier, unarchive

__all__ = ["MRJobRunner", "StepFailed", "UnsupportedFeature"]

#: Hadoop's default partitioner, which hashing keys does as well.
HASH_PARTITIONERS = (
    "org.apache.hadoop.mapred.lib.HashPartitioner",
    "org.apache.hadoop.mapreduce.lib.partition.HashPartitioner",
)
CONF_FILES = ("~/.mrjob.conf", "/etc/mrjob.conf")


class UnsupportedFeature(JobDefinitionError):
    """The job asks for something only Hadoop, EMR or Spark can do."""


class StepFailed(StepFailedException, SimplemrError):
    """A task of the job failed; the engine's error, with its cause, is ``__cause__``."""

    def __str__(self) -> str:
        return str(self.reason)


class MRJobRunner:
    """Runs one job instance on the engine (see the module docstring)."""

    def __init__(self, job: Any) -> None:
        self.job = job
        self.options = job.options
        self._output_dir: str | None = self.options.output_dir
        self._scratch: str | None = None
        self.result: JobResult | None = None

    def __enter__(self) -> MRJobRunner:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.cleanup()

    def cleanup(self) -> None:
        """Remove the temporary output (not an ``--output-dir``)."""
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def get_output_dir(self) -> str | None:
        return self._output_dir

    def run(self, *, to_stdout: bool = False) -> None:
        """Run every step; ``to_stdout`` prints the output as it is written instead
        of keeping it for ``cat_output()``."""
        steps = self.job.steps()
        check_supported(self.job, steps)
        warn_hadoop_only(self.job)
        warn_ignored(self.options)
        options = self.options
        switches = engine_namespace(options)
        engine = _engine_options(switches, options)
        self._scratch = make_workdir(engine["tmp_dir"], prefix="simplemr-mrjob-")
        uploads = _uploads(self.job, self._scratch)
        target = "-" if to_stdout else self._target()
        inputs = self._inputs(steps[0])  # a bad path fails before workers start
        environment = TaskEnvironment(
            job_id=f"simplemr_{random_identifier()}",
            uploads=tuple(uploads.items()),
            jobconf=tuple(
                (key, value) for key, value in {**self.job.jobconf(), **options.jobconf}.items()
            ),
            cmdenv=tuple(options.cmdenv.items()),
            output_dir=os.path.abspath(target) if target != "-" else "",
            step_jobconf=tuple(tuple((step._steps.get("jobconf") or {}).items()) for step in steps),
        )
        plan = JobPlan(
            type(self.job), tuple(_task_args(self.job, uploads)), environment, len(steps)
        )
        stream_steps = [
            StreamingStep(plan, index, self.job.sort_values()) for index in range(len(steps))
        ]
        job = MapReduce._for_steps(stream_steps, **engine)
        try:
            self.result = job.run(
                inputs,
                output=target,
                overwrite=target != "-",
                output_format="value",
                progress=bool(switches.progress),
                verbose=switches.verbose,
                # As mrjob's: each step but the last kept there. Its fingerprint holds
                # this run's job id, so a rerun replaces the kept steps, skipping none.
                step_output=options.step_output_dir,
                resume=options.step_output_dir is not None,
            )
        except (InputError, JobDefinitionError):
            raise
        except SimplemrError as error:
            raise StepFailed(reason=str(error), num_steps=len(steps)) from error

    def _target(self) -> str:
        if self._output_dir is None:
            assert self._scratch is not None
            return os.path.join(self._scratch, "output")
        check_target(self._output_dir, overwrite=True)
        return self._output_dir

    def _inputs(self, first: MRStep) -> LineInput | ItemsInput:
        paths = list(self.options.args) or ["-"]
        if not self.options.args and self.job._stdin is None:
            from ..launch.common import stdin_is_piped

            if not stdin_is_piped():  # a terminal: nothing to read, not a wait forever
                raise InputError("give INPUT files, or - to read standard input")
        labels: dict[str, str] = {}
        if "-" in paths:
            assert self._scratch is not None
            spooled = os.path.join(self._scratch, "stdin")
            with create_private(spooled) as file:
                shutil.copyfileobj(self.job.stdin, file, 1024 * 1024)
            paths = [spooled if path == "-" else path for path in paths]
            labels[spooled] = "<stdin>"
        lines = LineInput(paths, labels)
        if not first["mapper_raw"]:
            return lines
        # mapper_raw(path, uri): the file here, and the input's URI, a local file's
        # absolute (the task runs in a working folder of its own, as mrjob's do).
        files = [(_absolute(path), labels.get(path, _absolute(path))) for path in lines.paths]
        return ItemsInput(files)

    def cat_output(self) -> Iterator[bytes]:
        """The output's bytes, part file after part file."""
        folder = self._output_dir or (self._scratch and os.path.join(self._scratch, "output"))
        if folder is None or not os.path.isdir(folder):
            return
        for name in sorted(os.listdir(folder)):
            if name.startswith(("_", ".")) or name == SUCCESS_MARKER:
                continue
            with open(os.path.join(folder, name), "rb") as file:
                yield from iter(lambda: file.read(1024 * 1024), b"")

    def counters(self) -> list[dict[str, dict[str, int]]]:
        """The job's own counters, one ``{group: {name: amount}}`` per step."""
        steps = len(self.job.steps())
        found: list[dict[str, dict[str, int]]] = [{} for _ in range(steps)]
        if self.result is None:
            return found
        user = set(self.result.counters.user())
        for event in self.result.events:
            if event.outcome != "done":
                continue
            for name, amount in event.counters.items():
                if name in user:
                    group, _, counter = name.partition(".")
                    by_name = found[event.step - 1].setdefault(mrjob_group(group), {})
                    by_name[counter] = by_name.get(counter, 0) + amount
        return found


def _absolute(path: str) -> str:
    """A local path made absolute; a URL as it is."""
    return path if is_url(path) else os.path.abspath(path)


def check_supported(job: Any, steps: list[Any]) -> None:
    """Refuse, naming it, what only Hadoop, EMR or Spark can run."""
    options = job.options
    runner = options.runner
    if runner not in (None, "inline", "local"):
        raise UnsupportedFeature(
            f"-r {runner} runs the job on {runner}, which simplemr does not do; "
            "-r local and -r inline run it here, on every core"
        )
    if not steps:
        raise JobDefinitionError(f"{type(job).__name__} defines no steps (no mapper, no reducer)")
    for number, step in enumerate(steps, 1):
        if not isinstance(step, MRStep):
            kind = type(step).__name__
            raise UnsupportedFeature(
                f"step {number} of {len(steps)} is a {kind}, which only "
                f"{'Hadoop' if kind == 'JarStep' else 'Spark'} can run; simplemr runs MRStep steps"
            )
    for dest, switch in REFUSED_SWITCHES.items():
        if getattr(options, dest, None):
            raise UnsupportedFeature(f"{switch} is not supported by simplemr mrjob")


def warn_hadoop_only(job: Any) -> None:
    """Say, one line each, which of the job's settings need Hadoop and are ignored,
    as mrjob's local and inline runners ignore them: its input is read as lines, its
    output written as lines, its keys partitioned by their hash."""
    partitioner = job.partitioner()
    for what, value in (
        ("HADOOP_INPUT_FORMAT", job.hadoop_input_format()),
        ("HADOOP_OUTPUT_FORMAT", job.hadoop_output_format()),
        ("PARTITIONER", None if partitioner in HASH_PARTITIONERS else partitioner),
        ("LIBJARS", job.libjars() or None),
    ):
        if value:
            _warn(f"{what} = {value!r} is ignored: it needs Hadoop, as in mrjob's local runner")


def warn_ignored(options: Any) -> None:
    """Say which options change nothing here."""
    for dest, switch in IGNORED_SWITCHES.items():
        if getattr(options, dest, None):
            _warn(f"{switch} changes nothing: tasks run in simplemr's worker processes")
    if options.conf_paths:
        _warn(
            "mrjob.conf files are not read (-c/--conf-path); give the options on the command line"
        )
    elif options.conf_paths is None:
        found = [path for path in (os.environ.get("MRJOB_CONF"), *CONF_FILES) if path]
        for path in found:
            if os.path.isfile(os.path.expanduser(path)):
                _warn(f"{path} is not read; give its options on the command line (or --no-conf)")
                break
    if not options.strict_protocols:
        _warn("--no-strict-protocols: a line a protocol cannot read fails its task, as by default")


def _warn(message: str) -> None:
    warnings.warn(message, stacklevel=3)


def _engine_options(switches: Any, options: Any) -> dict[str, Any]:
    """The engine's keywords from simplemr's ``switches`` and mrjob's ``options``."""
    from ..launch.common import engine_options

    engine = engine_options(switches)
    engine["workers"] = engine["workers"] or options.num_cores
    engine["tmp_dir"] = engine["tmp_dir"] or options.local_tmp_dir
    engine.pop("max_bad_records", None)
    return engine


def _uploads(job: Any, scratch: str) -> dict[str, str]:
    """Each file, folder and unpacked archive for the tasks' working folders, by name."""
    options = job.options
    wanted: list[tuple[str, str, str]] = []
    for kind, paths in (
        ("file", [*options.upload_files, *job.files()]),
        ("dir", [*options.upload_dirs, *job.dirs()]),
        ("archive", [*options.upload_archives, *job.archives()]),
    ):
        wanted.extend((kind, *_named(path)) for path in paths)
    for dest in sorted(job._file_arg_dests):
        value = getattr(options, dest, None)
        for path in [value] if isinstance(value, str) else value or []:
            wanted.append(("file", *_named(path)))
    uploads: dict[str, str] = {}
    for kind, path, name in wanted:
        if not os.path.exists(path):
            raise InputError(
                f"the {kind} {path!r} to put in each task's working folder does not exist"
            )
        if kind == "dir" and not os.path.isdir(path):
            raise InputError(f"{path!r} is not a folder (DIRS and --dirs take folders)")
        if kind == "archive":
            unpacked = os.path.join(scratch, "archives", name)
            try:
                unarchive(path, unpacked)
            except (shutil.ReadError, ValueError, OSError) as error:
                raise InputError(f"cannot unpack the archive {path!r}: {error}") from None
            path = unpacked
        if uploads.get(name, path) != path:
            raise JobDefinitionError(
                f"two uploads would both be named {name!r} in the working folder "
                f"({uploads[name]!r} and {path!r}); name one with PATH#NAME"
            )
        uploads[name] = path
    return uploads


def _named(path: str) -> tuple[str, str]:
    """``path#name`` as the absolute path and the name in the working folder: a plain
    name, as mrjob requires (``#../x`` or ``#/x`` would be made outside the folder)."""
    where, _, name = path.partition("#")
    where = os.path.abspath(os.path.expanduser(where))
    name = name or os.path.basename(where.rstrip(os.sep))
    if "/" in name or os.sep in name or name in ("", ".", ".."):
        raise JobDefinitionError(
            f"{path!r}: the name after # is what the upload is called in each task's "
            f"working folder, and must be a plain name, without '/' (not {name!r})"
        )
    return where, name


def _task_args(job: Any, uploads: dict[str, str]) -> list[str]:
    """The job's own options as given, for the tasks' instances: file options name the
    file in the working folder."""
    from .options import option_tokens

    args: list[str] = []
    for dest, tokens in option_tokens(job.arg_parser, job._cl_args):
        if dest in job._file_arg_dests:
            option, equals, value = tokens[0].partition("=")
            path = value if equals else tokens[1] if len(tokens) > 1 else ""
            args += [option, _named(path)[1]]
        elif dest in job._passthru_arg_dests:
            args += tokens
    return args
