"""Text files as input: cutting them into byte ranges, packing small ones, reading
their lines (``paths.py`` finds them, ``reading.py`` opens and decodes them).

Lines are what Python's text mode reads: ``\\n``, ``\\r\\n`` and a lone ``\\r``
each end a line, and the record is the line without its ending. A large file is
cut into byte ranges; as in Hadoop's text input, a line belongs to the range in
which it *starts*, so every line is read exactly once whatever the cut points:

    file   |line 1\\n|line 2 .......\\n|line 3\\r\\n|line 4|
    cuts          ^start            ^end
    split  reads from the first line start >= start to the first line start >= end

Cutting at bytes is only safe for encodings in which ``\\n`` and ``\\r`` bytes are
always line endings (UTF-8, ASCII, Latin-1 and the other one-byte codes); a file
in any other encoding, or a compressed file, is never cut: one task reads it whole,
decoded as a stream (a small one packed with other small files, by size on disk).
"""

from __future__ import annotations

import bisect
import codecs
import functools
import io
import itertools
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Generic, TypeVar

from .. import core
from .. import counters as C
from ..errors import InputError, JobDefinitionError
from ..memory import MiB, format_size
from .compression import codec_of, require_codec
from .filesystems import is_url, open_binary, size_of, url_stat, url_version
from .inputs import Split
from .paths import expand_paths, input_folders
from .reading import (
    READ_ERRORS,
    byte_splittable,
    check_text_encoding,
    decode_errors_counted,
    error_handler,
    errors_of,
    looks_binary,
    note_binary_skipped,
    open_input,
    replacements_uncounted,
    starts_binary,
)

__all__ = [
    "CombinedSplit", "FilesOf", "Packing", "TextBlock", "TextFiles", "TextSplit", "text_files",
]  # fmt: skip

T = TypeVar("T")

BLOCK_SIZE = 2 * MiB


def block_size(line_limit: int | None) -> int:
    """The bytes of lines read at a time, for a worker whose budget is ``line_limit``
    (None: none): ``BLOCK_SIZE``, or a sixteenth of a small budget (64 KiB at least),
    since a bulk mapper may hold several times its block while it works on it."""
    if line_limit is None:
        return BLOCK_SIZE
    return min(BLOCK_SIZE, max(64 * 1024, line_limit // 16))


#: The largest map task of text, by default: large enough that a task's fixed costs
#: (its final spill of every key it met) are a small part of it on a big input (a
#: 1 GB word count spent a fifth more CPU than one process with 64 MiB tasks, a
#: tenth more with 256 MiB), small enough that a task lost is soon run again.
MAX_SPLIT_SIZE = 256 * MiB
MIN_SPLIT_SIZE = 1 * MiB
#: How many map tasks of input each worker gets, by default: two, so that the last
#: tasks even out, and no more, since each task's end (its final spill of every key
#: it met) costs as much again for every further task.
TASKS_PER_WORKER = 2
#: The smallest piece of a file that planning cuts off at a task's boundary (a quarter
#: of a task, if less): below, the task ends a little early or late instead.
MIN_PIECE = 256 * 1024


@dataclass(frozen=True)
class TextSplit:
    """Lines of one file whose first byte lies in ``[start, end)``."""

    path: str
    start: int
    end: int
    size: int
    encoding: str
    errors: str
    whole: bool  # read as one decoded stream (compressed, or not byte-splittable)
    label: str = ""  # what messages call the file, if not its path ("<stdin>")
    binary: bool = False  # read it even if it looks binary
    mtime: int = 0  # st_mtime_ns when planned (0: not known)
    version: str = ""  # a URL's version when planned (filesystems.url_version)

    @property
    def name(self) -> str:
        return self.label or self.path

    def describe(self) -> str:
        if self.whole or (self.start == 0 and self.end >= self.size):
            return self.name
        return f"{self.name} bytes {self.start}-{self.end}"

    def blocks(
        self, counters: dict[str, int], line_limit: int | None = None
    ) -> Iterator[Sequence[str]]:
        with decode_errors_counted(counters, self.name):
            yield from self._blocks(counters, line_limit)

    def _blocks(self, counters: dict[str, int], line_limit: int | None) -> Iterator[Sequence[str]]:
        counters[C.INPUT_BYTES] = counters.get(C.INPUT_BYTES, 0) + (
            self.size if self.whole else self.end - self.start
        )
        handler = error_handler(self.errors)
        try:
            if self.whole:
                if not self.binary and looks_binary(self.path, self.encoding):
                    self._skip_binary()
                    return
                yield from _stream_blocks(self.path, self.encoding, handler, line_limit)
            else:
                with open_binary(self.path) as file:
                    if not self.binary and starts_binary(file, self.encoding):
                        self._skip_binary()
                        return
                    yield from _range_blocks(
                        file, self.start, self.end, self.size, self.encoding, handler, line_limit
                    )
            self._check_unchanged()
        except UnicodeDecodeError as error:
            raise InputError(
                f"cannot decode {self.name!r} as {self.encoding}: {error.reason} "
                f"(pass errors='replace' to replace undecodable bytes)"
            ) from None
        except _ReadFailed as failed:
            of_what = " of its decompressed text" if codec_of(self.path) else ""
            raise InputError(
                f"cannot read {self.name!r} after byte {failed.offset:,}{of_what}: {failed.error}"
            ) from None
        except READ_ERRORS as error:
            raise InputError(f"cannot read {self.name!r}: {error}") from None
        except _LineTooLong as error:
            raise InputError(
                f"{self.name!r} has a line{error.where} longer than the memory budget of a "
                f"worker ({format_size(error.limit)}): is it a text file? "
                "(a larger memory= budget would let such lines through)"
            ) from None

    def _skip_binary(self) -> None:
        """Note this file as skipped for looking binary, once (by its first range)."""
        if self.start == 0:
            note_binary_skipped(self.name)

    def _check_unchanged(self) -> None:
        """Refuse to count a file that changed while it was read: a log still being
        written, a file replaced. (A file that said it was empty, as /proc's files
        do, is read to its end, and only checked for having a size now.)"""
        if is_url(self.path):
            if self.version and url_version(self.path) != self.version:
                raise InputError(
                    f"{self.name!r} changed while the job read it (it was written again "
                    "since the job started), so its results would be wrong; run the job "
                    "again once it is complete"
                )
            return
        now = os.stat(self.path)
        if now.st_size == self.size and (
            not self.mtime or self.size == 0 or now.st_mtime_ns == self.mtime
        ):
            return
        what = (
            f"it was {self.size:,} bytes when the job started and is {now.st_size:,} now"
            if now.st_size != self.size
            else "it was modified"
        )
        raise InputError(
            f"{self.name!r} changed while the job read it ({what}), so its results would be "
            "wrong; run the job again once the file is complete"
        )

    def locate(self, block_number: int, index: int, record: Any) -> str:
        return f"{self.name}, line {self.block_starts[block_number] + index + 1}"

    @functools.cached_property
    def block_starts(self) -> list[int]:
        """How many lines of the file come before each block of this split.

        Only needed to say where a record was (an error, a skipped record), so it is
        worked out then, once per split, by reading the file again up to the split's
        end; that reading leaves the task's decode error count alone.
        """
        with replacements_uncounted():
            lines = _count_lines_to(self.path, self.start, self.encoding) if self.start else 0
            starts = []
            for block in self.blocks({}):
                starts.append(lines)
                lines += len(block)
            return starts


@dataclass(frozen=True)
class CombinedSplit:
    """Several small files read by one map task, so that a folder of many small
    files makes a few tasks of a useful size, not one task per file.

    Their blocks are packed together up to the usual block size, so a bulk mapper
    gets as many lines at once as from one big file. Packing keeps every line: a
    file's last line gets an ending if it had none, and a block that ends with a
    ``\\r`` ends its pack, so that ``\\r`` never pairs with another file's ``\\n``.
    """

    parts: tuple[TextSplit, ...]
    #: Each block read so far, as (part, block of that part, lines): what ``locate``
    #: needs to name a record's file and line.
    pieces: list[list[tuple[int, int, int]]] = field(
        default_factory=list, compare=False, repr=False
    )

    def describe(self) -> str:
        names = [part.name for part in self.parts]
        shown = ", ".join(names) if len(names) <= 3 else f"{names[0]} ... {names[-1]}"
        return f"{len(names)} files ({shown})"

    def blocks(
        self, counters: dict[str, int], line_limit: int | None = None
    ) -> Iterator[Sequence[str]]:
        pieces = self.pieces
        pieces.clear()
        packed: list[tuple[int, int, TextBlock]] = []
        size = 0
        for number, part in enumerate(self.parts):
            for block_number, block in enumerate(part.blocks(counters, line_limit)):
                if not isinstance(block, TextBlock):  # lines of a stream: as they are
                    if packed:
                        yield _packed(packed, pieces)
                        packed, size = [], 0
                    pieces.append([(number, block_number, len(block))])
                    yield block
                    continue
                packed.append((number, block_number, block))
                size += len(block.data)
                if size >= block_size(line_limit) or block.data.endswith(b"\r"):
                    yield _packed(packed, pieces)
                    packed, size = [], 0
        if packed:
            yield _packed(packed, pieces)

    def locate(self, block_number: int, index: int, record: Any) -> str:
        pieces = self.pieces
        if block_number >= len(pieces):  # not read here: read it now
            with replacements_uncounted():
                for _ in self.blocks({}):
                    pass
        for number, part_block, lines in pieces[block_number]:
            if index < lines:
                return self.parts[number].locate(part_block, index, record)
            index -= lines
        return self.describe()


def _ended(data: bytes) -> bytes:
    return data if data.endswith((b"\n", b"\r")) else data + b"\n"


def _ended_text(text: str) -> str:
    return text if text.endswith(("\n", "\r")) else text + "\n"


def _packed(
    packed: list[tuple[int, int, TextBlock]], pieces: list[list[tuple[int, int, int]]]
) -> TextBlock:
    """One block of the lines of several, recording where each came from."""
    pieces.append([(number, block_number, len(block)) for number, block_number, block in packed])
    if len(packed) == 1:
        return packed[0][2]
    blocks = [block for _, _, block in packed]
    data = b"".join(_ended(block.data) for block in blocks)
    undecoded = all(block._text is None for block in blocks)
    text = None if undecoded else "".join(_ended_text(block.text) for block in blocks)
    lines = sum(len(block) for block in blocks)  # counted above, and not changed by packing
    return TextBlock(data, text, blocks[0].encoding, blocks[0].errors, lines)


def _count_lines_to(path: str, offset: int, encoding: str) -> int:
    """Return how many lines of ``path`` start before byte ``offset``."""
    split = TextSplit(path, 0, offset, size_of(path), encoding, "replace", False, binary=True)
    return sum(len(block) for block in split.blocks({}))


def _next_line_start(file: IO[bytes], position: int, size: int) -> int:
    """Return the first line start at or after ``position``."""
    if position <= 0:
        return 0
    if position >= size:
        return size
    file.seek(position - 1)
    while True:
        chunk = file.read(64 * 1024)
        if not chunk:
            return size
        newline, carriage = chunk.find(b"\n"), chunk.find(b"\r")
        if newline == -1 and carriage == -1:
            position += len(chunk)
            continue
        if carriage == -1 or (newline != -1 and newline < carriage):
            return position - 1 + newline + 1
        # A '\r': the line ends after it, or after the '\n' that follows it.
        after = position - 1 + carriage + 1
        following = chunk[carriage + 1 : carriage + 2]
        if not following:
            file.seek(after)
            following = file.read(1)
        return after + 1 if following == b"\n" else after


def _split_lines(text: str) -> list[str]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def _count_lines(data: bytes) -> int:
    """How many lines ``_split_lines`` would make of ``data``, counted without
    splitting (in one pass, with the compiled core)."""
    return core.line_endings(data) + (0 if not data or data.endswith((b"\n", b"\r")) else 1)


class TextBlock(Sequence[str]):
    """About 2 MiB of whole lines of a text file: a sequence of lines (without
    their endings), split only when first used.

    A bulk mapper may work on the block's raw bytes instead: ``data`` holds them,
    to be decoded with ``encoding`` and ``errors``; in these encodings every byte
    below 0x80 is the ASCII character it looks like. ``text`` is ``data`` decoded,
    line endings and all.
    """

    __slots__ = ("_length", "_lines", "_text", "data", "encoding", "errors")

    def __init__(
        self, data: bytes, text: str | None, encoding: str, errors: str, length: int | None = None
    ) -> None:
        self.data = data
        self._text = text  # None when decoding data cannot fail: so it waits
        self.encoding = encoding
        self.errors = errors
        self._lines: list[str] | None = None
        self._length = length  # lines, when known already

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self.data.decode(self.encoding)
        return self._text

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = _split_lines(self.text)
        return self._lines

    def __len__(self) -> int:
        if self._length is None:
            self._length = len(self._lines) if self._lines is not None else _count_lines(self.data)
        return self._length

    def __getitem__(self, index):  # type: ignore[no-untyped-def]
        return self.lines[index]

    def __iter__(self) -> Iterator[str]:
        return iter(self.lines)

    def __repr__(self) -> str:
        return f"<TextBlock of {len(self)} lines, {len(self.data)} bytes>"


def _range_blocks(
    file: IO[bytes],
    start: int,
    end: int,
    size: int,
    encoding: str,
    errors: str,
    line_limit: int | None = None,
) -> Iterator[Sequence[str]]:
    begin = _next_line_start(file, start, size)
    stop = _next_line_start(file, end, size)
    if begin >= stop:
        return
    file.seek(begin)
    if begin > 0 and codecs.lookup(encoding).name == "utf-8-sig":
        encoding = "utf-8"  # the mark can only be at the file's start
    yield from _decoded_blocks(file, stop - begin, encoding, errors, line_limit, begin)


class _ReadFailed(Exception):
    def __init__(self, offset: int, error: BaseException) -> None:
        super().__init__(offset, error)
        self.offset = offset
        self.error = error


class _LineTooLong(Exception):
    def __init__(self, offset: int | None, limit: int) -> None:
        super().__init__(offset, limit)
        self.where = "" if offset is None else f", starting at byte {offset},"
        self.limit = limit


def _decoded_blocks(
    file: IO[bytes],
    length: int | None,
    encoding: str,
    errors: str,
    line_limit: int | None = None,
    offset: int = 0,
) -> Iterator[TextBlock]:
    """Read ``length`` bytes (all, if None) of ``file``, from byte ``offset``, as
    blocks of lines; a line longer than ``line_limit`` bytes is an error.

    Each block is cut after a line ending, holding back a final ``\\r`` whose
    ``\\n`` may be in the next read, so no line ending is split in two.
    """
    public_errors = errors_of(errors)
    bom = codecs.lookup(encoding).name == "utf-8-sig"
    if bom:  # strip the mark here, so blocks' bytes decode as plain UTF-8
        encoding = "utf-8"
    decoder = codecs.getincrementaldecoder(encoding)(errors)
    # The compiled core tells valid UTF-8 without making its text (the pure core's
    # check would decode it, so the decoder's own text is kept instead).
    checks_utf8 = codecs.lookup(encoding).name == "utf-8" and core.compiled is not None
    remaining = length
    carry = b""
    step = block_size(line_limit)
    while True:
        want = step if remaining is None else min(step, remaining)
        try:
            data = file.read(want) if want else b""
        except READ_ERRORS as error:
            raise _ReadFailed(offset + len(carry), error) from error
        if remaining is not None:
            remaining -= len(data)
        final = not data or remaining == 0
        data = carry + data
        if final:
            carry = b""
        else:
            cut = max(data.rfind(b"\n"), data.rfind(b"\r", 0, len(data) - 1))
            if cut == -1:
                carry = data
                if line_limit is not None and len(carry) > line_limit:
                    raise _LineTooLong(offset, line_limit)
                continue
            data, carry = data[: cut + 1], data[cut + 1 :]
            offset += len(data)
        if bom:
            bom = False
            if data.startswith(codecs.BOM_UTF8):
                data = data[len(codecs.BOM_UTF8) :]
        if data:
            # Blocks end with a line ending, so the decoder holds nothing back
            # between them, and a block that decodes without error may skip it.
            sure = data.isascii() or (checks_utf8 and core.utf8_valid(data))
            text = None if sure else decoder.decode(data, final)
            yield TextBlock(data, text, encoding, public_errors)
        if final:
            return


def _stream_blocks(
    path: str, encoding: str, errors: str, line_limit: int | None = None
) -> Iterator[Sequence[str]]:
    with open_input(path) as raw:
        if byte_splittable(encoding):
            yield from _decoded_blocks(raw, None, encoding, errors, line_limit)
            return
        text = io.TextIOWrapper(raw, encoding=encoding, errors=errors, newline=None)
        read = text.readlines if line_limit is None else _bounded_lines(text, line_limit)
        while True:
            lines = read(block_size(line_limit))
            if not lines:
                return
            yield [line[:-1] if line.endswith("\n") else line for line in lines]


def _bounded_lines(text: io.TextIOWrapper, limit: int) -> Callable[[int], list[str]]:
    """``text.readlines`` that never holds a line of more than ``limit`` characters
    (``_LineTooLong``): each line read with ``readline(limit + 1)``, so one long line
    (a decompressed bomb) is refused after ``limit`` characters, not once it is whole."""

    def readlines(hint: int) -> list[str]:
        lines: list[str] = []
        held = 0
        while held < hint:
            line = text.readline(limit + 1)
            if not line:
                break
            if len(line) > limit:
                raise _LineTooLong(None, limit)
            lines.append(line)
            held += len(line)
        return lines

    return readlines


class TextFiles:
    """Text files for the engine to read and split; each record is one line."""

    def __init__(
        self,
        paths: Iterable[str | os.PathLike[str]],
        *,
        encoding: str = "utf-8",
        errors: str = "replace",
        split_size: int | None = None,
        labels: Mapping[str, str] | None = None,
        binary: bool = False,
    ) -> None:
        check_text_encoding(encoding)
        if errors not in ("replace", "strict", "ignore", "surrogateescape"):
            raise JobDefinitionError(
                f"errors must be 'replace', 'strict', 'ignore' or 'surrogateescape', not {errors!r}"
            )
        if split_size is not None and split_size < 1:
            raise JobDefinitionError(
                f"split_size must be a positive number of bytes, not {split_size}"
            )
        # Workers open files by absolute path (a Dask worker's folder is not the
        # driver's); messages keep calling them as the caller named them.
        given = {_absolute(path): name for path, name in (labels or {}).items()}
        self.paths: list[str] = []
        self.labels: dict[str, str] = {}
        named = [os.fspath(path) for path in paths]
        #: The folders named, or matched by a glob, that the files were found in.
        self.folders = input_folders(named)
        #: FIFOs, sockets and devices found in those folders or by a glob: skipped.
        self.not_regular: list[str] = []
        for path in expand_paths(named, self.not_regular):
            full = _absolute(path)
            self.paths.append(full)
            name = given.get(full, path)
            if name != full:
                self.labels[full] = name
        self.sizes: list[int] = []
        #: When each local file was last changed, as planned (0: not known, for URLs).
        self.mtimes: list[int] = []
        #: The version of each URL as planned ("" for local files: see ``mtimes``).
        self.versions: list[str] = []
        for path in self.paths:
            codec = codec_of(path)
            if codec is not None:  # one not installed is refused before any work
                require_codec(codec, f"reading {self.labels.get(path, path)!r}")
            if is_url(path):
                size, version = url_stat(path)
                self.sizes.append(size)
                self.mtimes.append(0)
                self.versions.append(version)
            else:
                info = os.stat(path)
                self.sizes.append(info.st_size)
                self.mtimes.append(info.st_mtime_ns)
                self.versions.append("")
        self.encoding = encoding
        self.errors = errors
        self.split_size = split_size
        self.binary = binary

    @property
    def total_bytes(self) -> int:
        return sum(self.sizes)

    def split_size_for(self, workers: int) -> int:
        """The bytes of one split: ``split_size``, else an even share of the input for
        ``TASKS_PER_WORKER`` tasks a worker, between MIN_ and MAX_SPLIT_SIZE."""
        if self.split_size is not None:
            return self.split_size
        even = -(-self.total_bytes // (TASKS_PER_WORKER * max(workers, 1)))
        return max(MIN_SPLIT_SIZE, min(MAX_SPLIT_SIZE, even))

    def _split(self, number: int, start: int, end: int, whole: bool) -> TextSplit:
        """Bytes ``start`` to ``end`` of file ``number``, as planned."""
        path = self.paths[number]
        return TextSplit(
            path, start, end, self.sizes[number], self.encoding, self.errors, whole,
            self.labels.get(path, ""), self.binary, self.mtimes[number], self.versions[number],
        )  # fmt: skip

    def splits(self, workers: int) -> Iterator[TextSplit | CombinedSplit]:
        """The input cut as one stream of bytes, over all its files, into tasks of
        about ``split_size_for(workers)`` bytes, all about the same size (without an
        explicit ``split_size``, as many as a multiple of ``workers``): a big file
        gives several ranges, small files and the ends of big ones share a task. A
        file read whole (compressed, or in an encoding that cannot be cut) is one
        piece of the task it starts in."""
        step = self.split_size_for(workers)
        total = self.total_bytes
        tasks = max(1, -(-total // step))
        if self.split_size is None:  # no worker left alone with the last task
            tasks += -tasks % max(workers, 1)
        cuts = [total * task // tasks for task in range(1, tasks)]
        sliver = min(MIN_PIECE, step // 4)
        splittable = byte_splittable(self.encoding)
        pieces: list[tuple[int, TextSplit]] = []  # (the task it belongs to, the piece)
        offset = 0  # where the file starts in the whole input
        for number, (path, size) in enumerate(zip(self.paths, self.sizes, strict=True)):
            # A file that says it is empty may not be (/proc/cpuinfo): read it to its end.
            whole = not splittable or codec_of(path) is not None or size == 0
            if whole:
                ranges = [(bisect.bisect_right(cuts, offset), 0, size)]
            else:
                ranges = _cut_at(cuts, offset, size, sliver)
            for task, start, end in ranges:
                pieces.append((task, self._split(number, start, end, whole)))
            offset += size
        for _, group in itertools.groupby(pieces, key=lambda piece: piece[0]):
            yield _one_or_combined([split for _, split in group])


def _cut_at(cuts: list[int], offset: int, size: int, sliver: int) -> list[tuple[int, int, int]]:
    """A file of ``size`` bytes at ``offset`` in the whole input, cut at ``cuts`` (the
    offsets in the whole input where tasks begin): each piece with its task. A cut
    that would leave a piece under ``sliver`` bytes moves to the file's start or end.

    >>> _cut_at([100, 200, 300], 150, 200, 10)
    [(1, 0, 50), (2, 50, 150), (3, 150, 200)]
    >>> _cut_at([100, 200, 300], 195, 200, 10)
    [(2, 0, 105), (3, 105, 200)]
    >>> _cut_at([100, 200, 300], 150, 155, 10)
    [(1, 0, 50), (2, 50, 155)]
    """
    task = bisect.bisect_right(cuts, offset)
    pieces, start = [], 0
    for cut in cuts[task : bisect.bisect_left(cuts, offset + size)]:
        if size - (cut - offset) < sliver:  # the rest is a sliver: it stays here
            break
        if cut - offset - start >= sliver:
            pieces.append((task, start, cut - offset))
            start = cut - offset
        task += 1  # (a sliver before the cut: the file starts the next task)
    pieces.append((task, start, size))
    return pieces


class Packing(Generic[T]):
    """Small files gathered in order into packs of at least ``step`` bytes, so that
    a folder of thousands of small files makes a few tasks of a useful size."""

    def __init__(self, step: int) -> None:
        self.step = step
        self._held: list[T] = []
        self._bytes = 0

    def add(self, item: T, size: int) -> list[T]:
        """Hold ``item`` of ``size`` bytes; return the pack it completes, or ``[]``."""
        self._held.append(item)
        self._bytes += size
        return self.rest() if self._bytes >= self.step else []

    def rest(self) -> list[T]:
        """The items held and not yet packed (``[]`` if none); forget them."""
        packed, self._held, self._bytes = self._held, [], 0
        return packed


class FilesOf:
    """The files ``TextFiles`` found and measured, read in another format."""

    def __init__(self, files: TextFiles) -> None:
        self.files = files

    @property
    def total_bytes(self) -> int:
        return self.files.total_bytes

    @property
    def paths(self) -> list[str]:
        return self.files.paths

    @property
    def folders(self) -> list[str]:
        return self.files.folders

    @property
    def not_regular(self) -> list[str]:
        return self.files.not_regular

    def name(self, path: str) -> str:
        return self.files.labels.get(path, path)

    def splits(self, workers: int) -> Iterator[Split]:
        """Yield the splits, sized so that ``workers`` workers get an even load."""
        raise NotImplementedError


def _absolute(path: str) -> str:
    return path if is_url(path) else os.path.abspath(path)


def _one_or_combined(parts: list[TextSplit]) -> TextSplit | CombinedSplit:
    return parts[0] if len(parts) == 1 else CombinedSplit(tuple(parts))


def text_files(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    encoding: str = "utf-8",
    errors: str = "replace",
    split_size: int | None = None,
    labels: Mapping[str, str] | None = None,
    binary: bool = False,
) -> TextFiles:
    """Name text files for the engine to read: each record is one line, without its ending.

    ``paths`` are files, glob patterns or folders (read recursively, skipping names
    that start with ``.`` or ``_``). Large files are read in parallel as byte
    ranges of ``split_size`` bytes (default: half of an even share per worker,
    between 1 and 256 MiB). ``errors='replace'`` (the default) turns undecodable
    bytes into U+FFFD and counts them in ``input.decode_errors``. ``labels`` gives
    some paths another name in messages (the command line's ``<stdin>``).

    A file whose first 8 KiB (decompressed) hold a NUL byte is binary, not text, and
    is skipped, as grep does: it is listed in the result's ``binary_skipped``.
    ``binary=True`` reads such files as text too. (UTF-16 and UTF-32 files are never
    taken for binary.)
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    return TextFiles(
        paths,
        encoding=encoding,
        errors=errors,
        split_size=split_size,
        labels=labels,
        binary=binary,
    )
