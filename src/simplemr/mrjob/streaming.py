"""An MRJob step as an engine step: pairs travel between tasks as encoded lines.

mrjob's runners pass lines of bytes between a job's mappers, combiners and
reducers, as Hadoop Streaming does; each substep reads lines with one protocol and
writes its pairs with another (``MRJob.pick_protocols``). simplemr carries those
lines through its engine as ``(key bytes, rest of the line)`` pairs, cut at the
first tab as Hadoop cuts a line into key and value, so that partitioning,
grouping and ``SORT_VALUES`` see what Hadoop's would:

    file ─▶ lines ─▶ mapper ─▶ lines ─▶ (key, rest) ─▶ combiner ─▶ shuffle by key bytes
         ─▶ (values sorted, with SORT_VALUES) ─▶ reducer ─▶ lines ─▶ the next step's mapper

A substep that is a command or has a pre-filter reads its whole input as a stream:
its lines are spooled and run through the command when the task has read
everything (``commands.py``). Every task builds its own instance of the job class
from the job's arguments, as mrjob's tasks do, and runs in its own working folder
with the jobconf in its environment (``taskenv.py``).
"""

from __future__ import annotations

import bz2
import collections
import contextlib
import dataclasses
import gzip
import io
import itertools
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from ..io.filesystems import is_url
from ..io.textfiles import CombinedSplit, TextBlock, TextFiles, TextSplit
from ..job import MapFunctions, ReduceFunctions, ValueOrder
from ..shuffle.task import TaskContext
from . import aliases
from .commands import Spool, pre_filter_argv, substep_argv
from .protocol import TAB_FREE_KEYS
from .taskenv import TaskEnvironment, set_jobconf

__all__ = ["JobPlan", "LineInput", "StreamingStep", "join_line", "split_line"]

Line = bytes
Read = Callable[[bytes], tuple[Any, Any]]
Write = Callable[[Any, Any], bytes]

_first = itemgetter(0)
_second = itemgetter(1)


def _value_order(rest: bytes | None) -> bytes:
    """Where a value goes when values are sorted: in the order of the line's bytes
    after the key (a line with no value first)."""
    return b"" if rest is None else b"\t" + rest


def split_line(line: Line) -> tuple[bytes, bytes | None]:
    """A line as Hadoop's key and value: cut at the first tab (no tab: no value)."""
    key, tab, rest = line.partition(b"\t")
    return key, (rest if tab else None)


def join_line(key: bytes, rest: bytes | None) -> Line:
    """The line ``split_line`` cut; ``join_line(*split_line(line)) == line``."""
    return key if rest is None else key + b"\t" + rest


def mapped(
    mapper: Callable[..., Any], read: Read, write: Write, lines: Iterable[Line]
) -> Iterator[Line]:
    """The lines of ``mapper``'s pairs for each line (a mapper may return None)."""
    for line in lines:
        key, value = read(line)
        for out_key, out_value in mapper(key, value) or ():
            yield write(out_key, out_value)


def reduced(
    reducer: Callable[..., Any], read: Read, write: Write, lines: Iterable[Line]
) -> Iterator[Line]:
    """The lines of ``reducer``'s pairs for each run of lines whose keys read the same."""
    for key, pairs in itertools.groupby(map(read, lines), _first):
        for out_key, out_value in reducer(key, map(_second, pairs)) or ():
            yield write(out_key, out_value)


def mapped_pairs(
    mapper: Callable[..., Any], read: Read, dumps: Callable[[Any], bytes], lines: Iterable[Line]
) -> Iterator[tuple[bytes, bytes]]:
    """``mapped`` as ``split_line`` would cut its lines, for a protocol whose lines
    are ``dumps(key) TAB dumps(value)``: no line is joined only to be cut again."""
    for line in lines:
        key, value = read(line)
        for out_key, out_value in mapper(key, value) or ():
            yield dumps(out_key), dumps(out_value)


def _then_spent(lines: Iterable[Line], values: Iterator[Any]) -> Iterator[Line]:
    """``lines``, then what is left of a key's ``values`` read and dropped: as mrjob's
    ``itertools.groupby`` leaves a key's values once the reducer is done with the key,
    so that an iterator kept for later (``reducer_final``) reads nothing there too."""
    yield from lines
    collections.deque(values, maxlen=0)


def grouped_values(loads: Callable[[bytes], Any], rests: Iterable[bytes | None]) -> Iterator[Any]:
    """A group's values, for a protocol whose lines are ``key TAB value``."""
    for rest in rests:
        if rest is None:  # what the protocol's read() says of a line without a tab
            raise ValueError("not enough values to unpack (expected 2, got 1)")
        yield loads(rest)


def tab_free(function: Callable[..., Any]) -> Any:
    """The protocol a ``read`` or ``write`` method belongs to, if its lines are
    ``encoded key TAB encoded value`` with no tab in the key (see ``TAB_FREE_KEYS``)."""
    protocol = getattr(function, "__self__", None)
    return protocol if type(protocol) in TAB_FREE_KEYS else None


def relined(lines: Iterable[Line]) -> Iterator[Line]:
    """Lines as the next substep reads them back (mrjob's tasks pass files): one that
    holds a newline is several lines, and trailing ``\\r`` are stripped."""
    for line in lines:
        if b"\n" in line or line.endswith(b"\r"):
            yield from (part.rstrip(b"\r") for part in line.split(b"\n"))
        else:
            yield line


#: What reads a compressed file, by its extension (``gzip.open(path, "rb")`` is
#: ``GzipFile(path)``, and ``bz2.open(path, "rb")`` is ``BZ2File(path)``).
_UNPACKERS: dict[str, Callable[[str], io.BufferedIOBase]] = {
    ".gz": gzip.GzipFile,
    ".bz2": bz2.BZ2File,
}


def decompressed(path: str) -> str:
    """``path``, or for a ``.gz`` or ``.bz2`` file its text unpacked into the working
    folder, as mrjob gives ``mapper_raw`` its file."""
    opener = _UNPACKERS.get(os.path.splitext(path)[1])
    if opener is None:
        return path
    local = os.path.abspath(os.path.splitext(os.path.basename(path))[0])
    with opener(path) as packed, open(local, "wb") as unpacked:
        shutil.copyfileobj(packed, unpacked, 1024 * 1024)
    return local


def hook_lines(hook: Callable[[], Any] | None, write: Write) -> list[Line]:
    """The lines of what an ``*_init`` or ``*_final`` hook yields (None: nothing)."""
    if hook is None:
        return []
    return [write(key, value) for key, value in hook() or ()]


@dataclass(frozen=True)
class JobPlan:
    """What each task needs to make the job again: its class, the arguments of its own
    options (file options pointing into the working folder), and its surroundings."""

    job_class: type
    args: tuple[str, ...]
    environment: TaskEnvironment
    step_count: int

    def instance(self, index: int, kind: str) -> tuple[Any, Any]:
        """A new instance of the job for a task of step ``index``, and that step."""
        aliases.install(purge=False)  # for `import mrjob...` inside the job's methods
        job = self.job_class(args=[*self.args, "--step-num", str(index), f"--{kind}"])
        return job, job.steps()[index]


@dataclass(frozen=True)
class StreamingStep:
    """Step ``index`` of an mrjob job, as the engine runs it (see the module docstring)."""

    plan: JobPlan
    index: int
    sort_values: bool = False
    bulk: bool = True
    #: mrjob jobs sort their output lines, not the keys they group by.
    sorts_by_group_key = False

    def map_task(self) -> MapFunctions:
        return _MapTask(self).functions()

    def reduce_task(self) -> ReduceFunctions:
        return _ReduceTask(self).functions()

    def functions(self) -> dict[str, Any]:
        return {"job class": self.plan.job_class}


class _Task:
    """What map and reduce tasks share: the job's instance, the step, its spools."""

    kind = ""

    def __init__(self, spec: StreamingStep) -> None:
        self.spec = spec
        self.job, self.step = spec.plan.instance(spec.index, self.kind)
        self.described = self.step.description(spec.index)
        self.context: TaskContext | None = None
        self.spools: list[Spool] = []

    @contextlib.contextmanager
    def scope(self, context: TaskContext) -> Iterator[None]:
        self.context = context
        try:
            with self.spec.plan.environment.task(self.kind, context):
                yield
        finally:
            for spool in self.spools:
                spool.discard()

    def spool(self, name: str) -> Spool:
        assert self.context is not None
        spool = Spool(os.path.abspath(self.context.path(f".{name}")))
        self.spools.append(spool)
        return spool

    def substep(self, kind: str) -> dict[str, Any] | None:
        return self.described.get(kind)  # type: ignore[no-any-return]

    def protocols(self, kind: str) -> tuple[Read, Write]:
        read, write = self.job.pick_protocols(self.spec.index, kind)
        return read, write

    def command_lines(
        self,
        substep: dict[str, Any],
        spool: Spool,
        sort: str | None,
        script: Callable[[Iterable[Line]], Iterator[Line]],
    ) -> Iterator[Line]:
        """What a spooled substep makes of its spool: a command's lines, or the
        script's lines for what its pre-filter let through."""
        if substep["type"] == "command":
            return spool.run(substep_argv(substep["command"]), sort, checked=True)
        return script(spool.run(pre_filter_argv(substep["pre_filter"]), sort, checked=False))


def _streams(substep: dict[str, Any] | None) -> bool:
    """Whether a substep needs its whole input as a stream (a command, a pre-filter)."""
    return substep is not None and (substep["type"] == "command" or "pre_filter" in substep)


class _MapTask(_Task):
    kind = "mapper"

    def __init__(self, spec: StreamingStep) -> None:
        super().__init__(spec)
        self.mapper = self.substep("mapper")
        self.combiner = self.substep("combiner")
        self.raw = bool(self.step["mapper_raw"])
        self.pending: list[Line] = []
        self.mapper_started = False
        self.combined_pending: list[Line] = []
        self.mapper_spool: Spool | None = None
        self.combiner_spool: Spool | None = None
        if self.mapper is not None and self.mapper["type"] == "script":
            self.read, self.write = self.protocols("mapper")
        if self.combiner is not None and self.combiner["type"] == "script":
            self.combiner_read, self.combiner_write = self.protocols("combiner")
            # Looked up once a task, not once a key.
            self.combiner_tab_free = (tab_free(self.combiner_read), tab_free(self.combiner_write))

    def functions(self) -> MapFunctions:
        combines = self.combiner is not None and not _streams(self.combiner)
        return MapFunctions(
            self.map_block,
            self.combine if combines else None,
            setup=[("mapper_init", self.start)],
            mapper_final=self.finish,
            combiner_final=self.combiner_final if combines else None,
            scope=self.scope,
        )

    def start(self) -> None:
        if _streams(self.mapper):
            self.mapper_spool = self.spool("mapper-input")
        if _streams(self.combiner):
            self.combiner_spool = self.spool("combiner-input")
        if self.combiner is not None and not _streams(self.combiner):
            self.combined_pending = hook_lines(self.step["combiner_init"], self.combiner_write)

    def start_mapper(self) -> None:
        """``mapper_init``, once the task's input file is known (its variables set)."""
        self.mapper_started = True
        if self.mapper is not None and self.mapper["type"] == "script":
            self.pending = hook_lines(self.step["mapper_init"], self.write)

    def map_block(self, block: Any) -> Iterable[tuple[bytes, bytes | None]]:
        if self.raw:
            return self.onward(self.raw_lines(block))
        if isinstance(block, FileLines):
            block.announce()
            lines: Iterable[Line] = block.lines
        else:
            lines = block
        if not self.mapper_started:
            self.start_mapper()
        if self.mapper is None:
            return self.onward(lines)
        if self.mapper_spool is not None:  # a command: the file's bytes, as mrjob gives them
            if isinstance(block, FileLines):
                self.mapper_spool.write_bytes(block.raw)
            else:
                self.mapper_spool.write(lines)
            return ()
        protocol = tab_free(self.write)
        if protocol is not None and self.combiner_spool is None:
            return mapped_pairs(self.step["mapper"], self.read, protocol._dumps, lines)
        return self.onward(mapped(self.step["mapper"], self.read, self.write, lines))

    def raw_lines(self, files: Sequence[tuple[str, str]]) -> Iterator[Line]:
        for path, uri in files:
            set_jobconf({"mapreduce.map.input.file": uri})
            if not self.mapper_started:
                self.start_mapper()
            local = decompressed(path)  # as mrjob hands it over: in the working folder
            for key, value in self.step["mapper_raw"](local, uri) or ():
                yield self.write(key, value)

    def onward(self, lines: Iterable[Line]) -> Iterable[tuple[bytes, bytes | None]]:
        """Mapper lines as engine pairs, or into the spool of a combiner that streams."""
        if self.combiner_spool is not None:
            self.combiner_spool.write(lines)
            return ()
        return map(split_line, relined(lines))

    def finish(self) -> Iterator[tuple[bytes, bytes | None]]:
        if not self.mapper_started:  # no input at all: the hook still runs
            self.start_mapper()
        yield from self.onward(self.pending)
        if self.mapper_spool is not None:
            assert self.mapper is not None
            script = lambda lines: mapped(self.step["mapper"], self.read, self.write, lines)  # noqa: E731
            yield from self.onward(self.command_lines(self.mapper, self.mapper_spool, None, script))
        if self.mapper is not None and self.mapper["type"] == "script":
            yield from self.onward(hook_lines(self.step["mapper_final"], self.write))
        if self.combiner_spool is not None:
            assert self.combiner is not None
            yield from map(split_line, self.streamed_combiner())

    def streamed_combiner(self) -> Iterator[Line]:
        assert self.combiner is not None and self.combiner_spool is not None
        if self.combiner["type"] == "script":
            yield from hook_lines(self.step["combiner_init"], self.combiner_write)
        script = lambda lines: reduced(  # noqa: E731
            self.step["combiner"], self.combiner_read, self.combiner_write, lines
        )
        sort = "line" if self.spec.sort_values else "key"
        yield from self.command_lines(self.combiner, self.combiner_spool, sort, script)
        if self.combiner["type"] == "script":
            yield from hook_lines(self.step["combiner_final"], self.combiner_write)

    def combine(self, key: bytes, rests: list[bytes | None]) -> list[bytes | None]:
        combined = []
        for out_key, rest in self.combined(key, rests):
            if out_key != key:
                raise ValueError(
                    f"the combiner was given the key {key.decode('utf-8', 'replace')} and "
                    f"yielded the key {out_key.decode('utf-8', 'replace')}: simplemr combines "
                    "the values of one key at a time, so a combiner must keep its key"
                )
            combined.append(rest)
        return combined

    def combined(
        self, key: bytes, rests: list[bytes | None]
    ) -> Iterator[tuple[bytes, bytes | None]]:
        """The combiner's pairs for one key's values, as key bytes and the rest."""
        combiner = self.step["combiner"]
        reading, writing = self.combiner_tab_free
        if reading is None or writing is None:
            lines = (join_line(key, rest) for rest in self.ordered(rests))
            out = reduced(combiner, self.combiner_read, self.combiner_write, lines)
            yield from map(split_line, relined(out))
            return
        dumps = writing._dumps
        values = grouped_values(reading._loads, self.ordered(rests))
        for out_key, out_value in combiner(reading._loads(key), values) or ():
            yield dumps(out_key), dumps(out_value)

    def ordered(self, rests: list[bytes | None]) -> list[bytes | None]:
        """A combiner's values, sorted by their bytes with ``SORT_VALUES`` (as mrjob
        sorts a combiner's input)."""
        return sorted(rests, key=_value_order) if self.spec.sort_values else rests

    def combiner_final(self) -> Iterator[tuple[bytes, bytes | None]]:
        yield from map(split_line, relined(self.combined_pending))
        final = hook_lines(self.step["combiner_final"], self.combiner_write)
        yield from map(split_line, relined(final))


class _ReduceTask(_Task):
    kind = "reducer"

    def __init__(self, spec: StreamingStep) -> None:
        super().__init__(spec)
        self.reducer = self.substep("reducer")
        self.last = spec.index == spec.plan.step_count - 1
        self.pending: list[Line] = []
        self.reducer_spool: Spool | None = None
        self.reading = None  # the reducer's protocol, when its lines are key TAB value
        if self.reducer is not None and self.reducer["type"] == "script":
            self.read, self.write = self.protocols("reducer")
            self.reading = tab_free(self.read)

    def functions(self) -> ReduceFunctions:
        # SORT_VALUES: the engine hands each key's values in the order of their bytes.
        order = ValueOrder(_value_order) if self.spec.sort_values else None
        return ReduceFunctions(
            self.reduce,
            setup=[("reducer_init", self.start)],
            final=self.finish,
            scope=self.scope,
            value_order=order,
        )

    def start(self) -> None:
        if _streams(self.reducer):
            self.reducer_spool = self.spool("reducer-input")
        if self.reducer is not None and self.reducer["type"] == "script":
            self.pending = hook_lines(self.step["reducer_init"], self.write)

    def reduce(self, key: bytes, values: Iterator[bytes | None]) -> Iterable[Any]:
        reading = None if self.reducer_spool is not None else self.reading
        if reading is not None:
            # One key's lines: its key decoded once, no regrouping by decoded keys.
            return self.reduced_group(reading._loads, key, values)
        lines = (join_line(key, rest) for rest in values)
        if self.reducer_spool is not None:
            self.reducer_spool.write(lines)
            return ()
        if self.reducer is None:
            return self.results(lines)
        return self.results(reduced(self.step["reducer"], self.read, self.write, lines))

    def reduced_group(
        self, loads: Callable[[bytes], Any], key: bytes, rests: Iterator[bytes | None]
    ) -> Iterator[Any]:
        write = self.write
        pairs = self.step["reducer"](loads(key), grouped_values(loads, rests)) or ()
        lines = (write(out_key, out_value) for out_key, out_value in pairs)
        return self.results(_then_spent(lines, rests))

    def finish(self) -> Iterator[Any]:
        yield from self.results(self.pending)
        if self.reducer_spool is not None:
            assert self.reducer is not None
            script = lambda lines: reduced(self.step["reducer"], self.read, self.write, lines)  # noqa: E731
            sort = "line" if self.spec.sort_values else "key"
            lines = self.command_lines(self.reducer, self.reducer_spool, sort, script)
            yield from self.results(lines)
        if self.reducer is not None and self.reducer["type"] == "script":
            yield from self.results(hook_lines(self.step["reducer_final"], self.write))

    def results(self, lines: Iterable[Line]) -> Iterator[Any]:
        """Lines as results: text (its bytes kept) for the output, as they are; lines
        for the next step, as it will read them."""
        if self.last:
            return (line.decode("utf-8", "surrogateescape") for line in lines)
        return relined(lines)


@dataclass
class FileLines:
    """A block of lines of one input file, and the file's jobconf variables; ``raw``,
    the lines' bytes as the file holds them (``\r\n`` and all), for a command."""

    uri: str
    start: int
    length: int
    lines: list[bytes]
    raw: bytes

    def __len__(self) -> int:
        return len(self.lines)

    def announce(self) -> None:
        """Set ``mapreduce.map.input.file`` and the others for this block's file."""
        set_jobconf(
            {
                "mapreduce.map.input.file": self.uri,
                "mapreduce.map.input.start": self.start,
                "mapreduce.map.input.length": self.length,
            }
        )


@dataclass(frozen=True)
class LinesSplit:
    """A split of input files read as mrjob reads them: lines of bytes cut at ``\\n``,
    their ``\\r`` and ``\\n`` stripped, in blocks that each name their file."""

    inner: TextSplit | CombinedSplit

    def blocks(
        self, counters: dict[str, int], line_limit: int | None = None
    ) -> Iterator[FileLines]:
        parts = self.inner.parts if isinstance(self.inner, CombinedSplit) else (self.inner,)
        for part in parts:
            if not part.whole and not is_url(part.path):
                # Its range cut at \n only.
                part = dataclasses.replace(
                    part,
                    start=newline_start(part.path, part.start, part.size),
                    end=newline_start(part.path, part.end, part.size),
                )
            # As mrjob names it: the path given (not <stdin>), as a file:// URI.
            named = part.path if part.label in ("", "<stdin>") else part.label
            uri = named if is_url(named) else "file://" + named
            start, length = (0, part.size) if part.whole else (part.start, part.end - part.start)
            held = b""
            for block in part.blocks(counters, line_limit):
                if isinstance(block, TextBlock):
                    data = held + block.data
                else:  # lines of a stream, decoded as Latin-1: their bytes again
                    data = held + "".join(line + "\n" for line in block).encode("latin-1")
                cut = data.rfind(b"\n") + 1
                data, held = data[:cut], data[cut:]
                if data:
                    lines = [line.rstrip(b"\r") for line in data[:-1].split(b"\n")]
                    yield FileLines(uri, start, length, lines, data)
            if held:
                yield FileLines(uri, start, length, [held.rstrip(b"\r")], held + b"\n")

    def describe(self) -> str:
        return self.inner.describe()

    def locate(self, block_number: int, index: int, record: Any) -> str:
        return self.inner.describe()


def newline_start(path: str, position: int, size: int) -> int:
    """The first line start at or after ``position``, lines ending at ``\\n`` only (as
    mrjob and Hadoop cut them; a lone ``\\r`` is part of a line)."""
    if position <= 0 or position >= size:
        return min(max(position, 0), size)
    with open(path, "rb") as file:
        file.seek(position - 1)
        while chunk := file.read(64 * 1024):
            found = chunk.find(b"\n")
            if found != -1:
                return position + found
            position += len(chunk)
    return size


class LineInput:
    """Input files for an mrjob job: every byte kept, none decoded (the protocols
    decode), binary-looking files read too, as mrjob reads them."""

    def __init__(self, paths: Sequence[str], labels: dict[str, str] | None = None) -> None:
        self.files = TextFiles(
            paths, encoding="latin-1", errors="strict", labels=labels, binary=True
        )
        self.paths = self.files.paths
        self.folders = self.files.folders
        self.not_regular = self.files.not_regular

    @property
    def total_bytes(self) -> int:
        return self.files.total_bytes

    def splits(self, workers: int) -> Iterator[LinesSplit]:
        """A split per range of a large file and per small file: mrjob gives a task
        one file, so ``mapreduce.map.input.file`` holds for all of it."""
        for split in self.files.splits(workers):
            parts = split.parts if isinstance(split, CombinedSplit) else (split,)
            for part in parts:
                yield LinesSplit(part)
