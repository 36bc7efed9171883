"""Input formats: what one record of a file is.

    text      a line, without its ending (the default; see textfiles.py)
    numbered  a line as ``(file name, line number, line)``, numbered from 1 (numbered.py)
    jsonl     the JSON value on a line (blank lines skipped)
    csv       a row, as a dict keyed by the file's header row (a row with more or
              fewer fields than the header is an error)
    file      a whole file, as ``(path, bytes)``
    parquet   a row of a Parquet file, as a dict (parquet.py; the extra simplemr[parquet])

Text, numbered lines and JSON lines split large files into byte ranges. A CSV file is read by
one task from start to end, because a quoted field may hold line breaks, so no
byte offset can be trusted to start a row. Compressed files are decompressed.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from .. import counters as C
from ..errors import InputError, JobDefinitionError
from ..memory import format_size
from .filesystems import size_of
from .inputs import SKIP_RECORD, InputSource, Split
from .numbered import numbered_splits
from .parquet import ParquetFiles
from .reading import READ_ERRORS, decode_errors_counted, error_handler, open_input
from .textfiles import FilesOf, Packing, TextFiles

__all__ = ["FORMATS", "input_files"]

#: The input formats, by the name ``input_files`` and ``--input-format`` take.
FORMATS = ("text", "numbered", "jsonl", "csv", "file", "parquet")

_ROWS_PER_BLOCK = 1024
_MISSING = object()  # what DictReader gives a field a short row lacks


_scan_json = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # not in the stubs


def parse_json_line(line: str) -> Any:
    """The JSON value on ``line`` (as ``json.loads``); a blank line is skipped."""
    try:
        # The scanner alone, for a line that is one value and nothing else: what
        # json.loads does, without its two regular-expression matches.
        value, end = _scan_json(line, 0)
        if end == len(line):
            return value
    except StopIteration:  # not a value at the start: blank, spaced or invalid
        pass
    if not line or line.isspace():
        return SKIP_RECORD
    return json.loads(line)


@dataclass(frozen=True)
class ParsedSplit:
    """A split whose records the map task parses with ``parse`` before the mapper
    sees them, so a bad record is located (and may be skipped) like any other."""

    inner: Split
    parse: Callable[[Any], Any]

    def blocks(
        self, counters: dict[str, int], line_limit: int | None = None
    ) -> Iterator[Sequence[Any]]:
        return self.inner.blocks(counters, line_limit)

    def describe(self) -> str:
        return self.inner.describe()

    def locate(self, block_number: int, index: int, record: Any) -> str:
        return self.inner.locate(block_number, index, record)

    @property
    def parts(self) -> Sequence[Split]:
        return getattr(self.inner, "parts", (self.inner,))


class NumberedLinesFiles(FilesOf):
    """Text files whose every line is a ``(file name, line number, line)`` record."""

    def splits(self, workers: int) -> Iterator[Split]:
        return numbered_splits(self.files, workers)


class JsonLinesFiles(FilesOf):
    """Files of JSON lines: text files whose every line is parsed as JSON."""

    def splits(self, workers: int) -> Iterator[Split]:
        for split in self.files.splits(workers):
            yield ParsedSplit(split, parse_json_line)


@dataclass(frozen=True)
class CsvSplit:
    """The rows of one CSV file, as dicts keyed by its header row."""

    path: str
    name: str
    encoding: str
    errors: str

    def describe(self) -> str:
        return self.name

    def locate(self, block_number: int, index: int, record: Any) -> str:
        return f"{self.name}, row {block_number * _ROWS_PER_BLOCK + index + 1} after the header"

    def blocks(
        self, counters: dict[str, int], line_limit: int | None = None
    ) -> Iterator[Sequence[Any]]:
        rows = 0
        try:
            counters[C.INPUT_BYTES] = counters.get(C.INPUT_BYTES, 0) + size_of(self.path)
            encoding = (
                "utf-8-sig" if codecs.lookup(self.encoding).name == "utf-8" else self.encoding
            )
            with (
                decode_errors_counted(counters, self.name),
                open_input(self.path) as raw,
                io.TextIOWrapper(
                    raw, encoding=encoding, errors=error_handler(self.errors), newline=""
                ) as text,
            ):
                reader = csv.DictReader(text, restval=cast(Any, _MISSING))  # a sentinel, not a str
                block: list[dict[str, Any]] = []
                for row in reader:
                    if None in row or _MISSING in row.values():
                        raise _ragged(self.name, rows + 1, row, len(reader.fieldnames or ()))
                    block.append(row)
                    rows += 1
                    if len(block) == _ROWS_PER_BLOCK:
                        yield block
                        block = []
                if block:
                    yield block
        except csv.Error as error:
            raise InputError(f"{self.name!r}, row {rows + 1} after the header: {error}") from None
        except UnicodeDecodeError as error:
            raise InputError(
                f"cannot decode {self.name!r} as {self.encoding}: {error.reason}"
            ) from None
        except READ_ERRORS as error:
            raise InputError(f"cannot read {self.name!r}: {error}") from None


def _ragged(name: str, number: int, row: dict[Any, Any], header: int) -> InputError:
    extra = len(row.get(None, ()))
    fields = header + extra if extra else sum(value is not _MISSING for value in row.values())
    return InputError(
        f"{name!r}, row {number} after the header has {fields} fields, the header {header}"
    )


class CsvFiles(FilesOf):
    """CSV files with a header row; one task a file."""

    def splits(self, workers: int) -> Iterator[Split]:
        files = self.files
        for path in files.paths:
            yield CsvSplit(path, self.name(path), files.encoding, files.errors)


@dataclass(frozen=True)
class WholeFilesSplit:
    """Several files read whole: one block, of one ``(path, bytes)`` record, a file."""

    files: tuple[tuple[str, str], ...]  # (path, name)

    def describe(self) -> str:
        names = [name for _, name in self.files]
        if len(names) == 1:
            return names[0]
        shown = ", ".join(names) if len(names) <= 3 else f"{names[0]} ... {names[-1]}"
        return f"{len(names)} files ({shown})"

    def locate(self, block_number: int, index: int, record: Any) -> str:
        return self.files[block_number][1]

    def blocks(
        self, counters: dict[str, int], line_limit: int | None = None
    ) -> Iterator[Sequence[Any]]:
        for path, name in self.files:
            try:
                size = size_of(path)
            except READ_ERRORS as error:
                raise InputError(f"cannot read {name!r}: {error}") from None
            if line_limit is not None and size > line_limit:
                raise InputError(
                    f"{name!r} ({format_size(size)}) is larger than the memory budget of a "
                    f"worker ({format_size(line_limit)}); give a larger memory budget to read "
                    "it whole"
                )
            try:
                with open_input(path) as file:  # decompressed, it may be far larger
                    data = file.read() if line_limit is None else file.read(line_limit + 1)
            except READ_ERRORS as error:
                raise InputError(f"cannot read {name!r}: {error}") from None
            if line_limit is not None and len(data) > line_limit:
                raise InputError(
                    f"{name!r} decompresses to more than the memory budget of a worker "
                    f"({format_size(line_limit)}); give a larger memory budget to read it whole"
                )
            counters[C.INPUT_BYTES] = counters.get(C.INPUT_BYTES, 0) + size
            yield [(name, data)]


class WholeFiles(FilesOf):
    """Files read whole, packed a few to a task so that small files make few tasks."""

    def splits(self, workers: int) -> Iterator[Split]:
        files: Packing[tuple[str, str]] = Packing(self.files.split_size_for(workers))
        for path, size in zip(self.files.paths, self.files.sizes, strict=True):
            if packed := files.add((path, self.name(path)), size):
                yield WholeFilesSplit(tuple(packed))
        if packed := files.rest():
            yield WholeFilesSplit(tuple(packed))


def input_files(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    format: str = "text",
    *,
    encoding: str = "utf-8",
    errors: str = "replace",
    labels: Mapping[str, str] | None = None,
    binary: bool = False,
) -> InputSource:
    """Name files for the engine to read, each record in the given ``format``:
    ``"text"`` lines (as ``text_files``), ``"numbered"`` lines as ``(file name, line
    number, line)`` (numbered from 1; a large file is still read in parallel),
    ``"jsonl"`` JSON values, ``"csv"`` rows as dicts, ``"file"`` whole files as
    ``(path, bytes)``, or ``"parquet"`` rows of Parquet files as dicts (``parquet_files``
    reads chosen columns as tuples).

    ``paths``, ``encoding``, ``errors``, ``labels`` and ``binary`` (for text and
    JSON lines) are as for ``text_files``.
    """
    if format not in FORMATS:
        raise JobDefinitionError(
            f"unknown input format {format!r}; choose one of {', '.join(FORMATS)}"
        )
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    text = TextFiles(paths, encoding=encoding, errors=errors, labels=labels, binary=binary)
    if format == "text":
        return text
    if format == "parquet":
        return ParquetFiles(text)
    kinds = {"numbered": NumberedLinesFiles, "jsonl": JsonLinesFiles, "csv": CsvFiles,
             "file": WholeFiles}  # fmt: skip
    return kinds[format](text)
