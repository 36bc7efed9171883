"""Parquet files, read by row group and written a part at a time (pyarrow, the
optional extra ``simplemr[parquet]``, imported only when Parquet is met).

    parquet_files(paths)      each row a dict of its columns
    parquet_files(paths, columns=["a", "b"])    each row a tuple (a, b), read alone

Planning reads each file's footer and packs its row groups, in order, into tasks of
about the same number of bytes (as text files are cut): a big file is read by many
tasks, small ones share one. A task streams its row groups in batches of rows, so a
worker holds one batch at a time, not a file. A file whose footer or a row group
cannot be read fails naming the file and the row group.

Results written as Parquet go to a folder of ``part-00000.parquet``... (as Spark
writes ``out.parquet/``), one file a part, written a batch of rows at a time: each
result a dict (its keys are the columns) or a tuple (columns ``key``/``value`` for a
pair, ``column_0``... else, unless a schema names them), the schema given or taken
from the first batch. Results sent to a named output (``To``) go to
``name/part-00000.parquet``..., each with the schema of its own first results.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO, Any

from .. import counters as C
from ..errors import InputError, JobDefinitionError
from .filesystems import open_binary, url_version
from .inputs import Split
from .named_outputs import To
from .textfiles import FilesOf, Packing, TextFiles, text_files

__all__ = ["ParquetFiles", "ParquetSplit", "parquet_files", "write_parquet"]

_INSTALL = "pip install 'simplemr[parquet]'"
#: Rows converted to Python objects at once: one block of a task.
BATCH_ROWS = 4096


def _pyarrow() -> Any:
    """``pyarrow.parquet``, or an error saying what to install."""
    try:
        import pyarrow.parquet
    except ImportError:
        raise JobDefinitionError(
            f"Parquet needs pyarrow, which is not installed: {_INSTALL}"
        ) from None
    return pyarrow.parquet


def _read_errors() -> tuple[type[BaseException], ...]:
    """What reading a damaged or missing Parquet file raises."""
    import pyarrow

    return (OSError, ValueError, pyarrow.ArrowException)


class ParquetFiles(FilesOf):
    """Parquet files, each row a record: a dict, or a tuple of ``columns``."""

    def __init__(self, files: TextFiles, columns: Sequence[str] | None = None) -> None:
        super().__init__(files)
        if columns is not None and (
            isinstance(columns, str) or not all(isinstance(c, str) for c in columns)
        ):
            raise JobDefinitionError(f"columns must be a list of column names, not {columns!r}")
        self.columns = None if columns is None else tuple(columns)
        _pyarrow()  # refused before any work where pyarrow is missing

    def splits(self, workers: int) -> Iterator[Split]:
        pack: Packing[RowGroup] = Packing(self.files.split_size_for(workers))
        for path, version in zip(self.paths, self.files.versions, strict=True):
            name = self.name(path)
            for group, size in enumerate(_row_group_sizes(path, name, self.columns)):
                if packed := pack.add((path, name, group, size, version), size):
                    yield ParquetSplit(tuple(packed), self.columns)
        if packed := pack.rest():
            yield ParquetSplit(tuple(packed), self.columns)


def _row_group_sizes(path: str, name: str, columns: tuple[str, ...] | None) -> list[int]:
    """The bytes of each row group of the file (its footer read); an InputError
    naming the file where it is no Parquet file, or lacks one of ``columns``."""
    parquet = _pyarrow()
    try:
        with open_binary(path) as raw:
            metadata = parquet.ParquetFile(raw).metadata
    except _read_errors() as error:
        raise InputError(f"cannot read {name!r} as Parquet: {error}") from None
    missing = [c for c in columns or () if c not in metadata.schema.names]
    if missing:
        raise InputError(
            f"{name!r} has no column {missing[0]!r}; its columns: "
            f"{', '.join(metadata.schema.names)}"
        )
    groups = [metadata.row_group(number) for number in range(metadata.num_row_groups)]
    return [
        sum(group.column(c).total_compressed_size for c in range(group.num_columns))
        for group in groups
    ]


#: A row group to read: its file's path and name, its number (from 0), its bytes, and
#: the file's version as planned (a URL's; "" for a local file).
RowGroup = tuple[str, str, int, int, str]


class ParquetSplit:
    """Row groups of Parquet files, read in turn in blocks of up to ``BATCH_ROWS`` rows."""

    __slots__ = ("_where", "columns", "groups")

    def __init__(self, groups: tuple[RowGroup, ...], columns: tuple[str, ...] | None) -> None:
        self.groups = groups
        self.columns = columns
        #: For each block read so far: its row group's place in ``groups``, first row.
        self._where: list[tuple[int, int]] = []

    def __getstate__(self) -> tuple[Any, ...]:
        return self.groups, self.columns

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.groups, self.columns = state
        self._where = []

    def describe(self) -> str:
        first, last = self.groups[0], self.groups[-1]
        if first[0] == last[0]:
            if first == last:
                return f"{first[1]} row group {first[2] + 1}"
            return f"{first[1]} row groups {first[2] + 1}-{last[2] + 1}"
        return f"{len(self.groups)} row groups of {first[1]} ... {last[1]}"

    def locate(self, block_number: int, index: int, record: Any) -> str:
        if not 0 <= block_number < len(self._where):
            return self.describe()
        piece, first_row = self._where[block_number]
        _, name, group, _, _ = self.groups[piece]
        return f"{name}, row group {group + 1}, row {first_row + index + 1}"

    def blocks(
        self, counters: dict[str, int], line_limit: int | None = None
    ) -> Iterator[Sequence[Any]]:
        parquet = _pyarrow()
        errors = _read_errors()
        for piece, (path, name, group, size, version) in enumerate(self.groups):
            rows = 0
            try:
                with open_binary(path) as raw:
                    reader = parquet.ParquetFile(raw)
                    batches = reader.iter_batches(BATCH_ROWS, [group], columns=self.columns)
                    for batch in batches:
                        self._where.append((piece, rows))
                        rows += batch.num_rows
                        yield _records(batch, self.columns)
            except errors as error:
                raise InputError(f"cannot read {name!r}, row group {group + 1}: {error}") from None
            if version and url_version(path) != version:
                raise InputError(
                    f"{name!r} changed while the job read it (it was written again since the "
                    "job started), so its results would be wrong; run the job again"
                )
            counters[C.INPUT_BYTES] = counters.get(C.INPUT_BYTES, 0) + size


def _records(batch: Any, columns: tuple[str, ...] | None) -> list[Any]:
    """A record batch's rows: dicts, or tuples in the order of ``columns``."""
    if columns is None:
        return batch.to_pylist()  # type: ignore[no-any-return]
    return list(zip(*(batch.column(c).to_pylist() for c in columns), strict=True))


def parquet_files(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    columns: Sequence[str] | None = None,
) -> ParquetFiles:
    """Name Parquet files for the engine to read: each row a record, a dict of its
    columns, or with ``columns`` a tuple of those columns alone (the others are not
    read). ``paths`` are files, glob patterns, folders or URLs, as for ``text_files``.
    Row groups are the unit of splitting: a file of one row group is read by one task."""
    return ParquetFiles(text_files(paths, binary=True), columns)


# --- writing --------------------------------------------------------------------------


class ParquetPartWriter:
    """Results written as one Parquet file, a batch of rows at a time, in a file
    ``open_file()`` opens at the first batch: the schema is ``schema``, or the first
    batch's. No result and no schema: no file (there is no schema to write)."""

    def __init__(self, open_file: Callable[[], IO[bytes]], schema: Any = None) -> None:
        self._parquet = _pyarrow()
        self._open_file = open_file
        self._binary: IO[bytes] | None = None
        self._schema = schema
        self._writer: Any = None
        self._rows: list[Any] = []
        self.count = 0

    def write(self, result: Any) -> None:
        self._rows.append(result)
        self.count += 1
        if len(self._rows) >= BATCH_ROWS:
            self._flush()

    def close(self) -> None:
        """Write what is held and end the file; the file is closed even on an error."""
        try:
            self._flush()
            if self._writer is None and self._schema is not None:  # a file of no rows
                self._start(self._table([]))
            if self._writer is not None:
                self._writer.close()
        finally:
            if self._binary is not None:
                self._binary.close()

    def abandon(self) -> None:
        """Close the file as it is (the attempt failed: its files are never read)."""
        if self._binary is not None:
            self._binary.close()

    def _flush(self) -> None:
        if not self._rows:
            return
        table = self._table(self._rows)
        self._rows = []
        if self._writer is None:
            self._start(table)
        self._writer.write_table(table.cast(self._schema))

    def _start(self, table: Any) -> None:
        if self._schema is None:
            self._schema = table.schema
        self._binary = self._open_file()
        self._writer = self._parquet.ParquetWriter(self._binary, self._schema)

    def _table(self, rows: list[Any]) -> Any:
        import pyarrow

        if rows and isinstance(rows[0], dict):
            return self._dict_table(rows)
        for row in rows:
            if not isinstance(row, (tuple, list)) or len(row) != len(rows[0]):
                raise ValueError(
                    "a Parquet output takes results that are all dicts, or all tuples of "
                    f"one length; met {row!r}"
                )
        if self._schema is None:
            width = len(rows[0])
            names = ["key", "value"] if width == 2 else [f"column_{n}" for n in range(width)]
            columns = [pyarrow.array(c) for c in zip(*rows, strict=True)]
            return pyarrow.Table.from_arrays(columns, names=names)
        if rows and len(rows[0]) != len(self._schema):
            raise ValueError(
                f"the Parquet schema has {len(self._schema)} columns, but a result has "
                f"{len(rows[0])} fields: {rows[0]!r}"
            )
        values = zip(*rows, strict=True) if rows else [[] for _ in self._schema]
        arrays = [pyarrow.array(c, type=f.type) for c, f in zip(values, self._schema, strict=True)]
        return pyarrow.Table.from_arrays(arrays, schema=self._schema)

    def _dict_table(self, rows: list[Any]) -> Any:
        """Dict results as a table: their keys, in the order first met, are the
        columns (a key a row lacks is null there); with a schema, a key it has no
        column for is an error, not a column dropped."""
        import pyarrow

        names = list(dict.fromkeys(key for row in rows for key in _keys_of(row)))
        if self._schema is None:
            return pyarrow.Table.from_pydict({n: [row.get(n) for row in rows] for n in names})
        unknown = [name for name in names if name not in self._schema.names]
        if unknown:
            raise ValueError(
                f"a result has the column {unknown[0]!r}, which the Parquet output's schema "
                f"({', '.join(self._schema.names)}) has not; give a parquet_schema that has it"
            )
        return pyarrow.Table.from_pylist(rows, schema=self._schema)


def _keys_of(row: Any) -> Any:
    if not isinstance(row, dict):
        raise ValueError(
            f"a Parquet output takes results that are all dicts, or all tuples; met {row!r}"
        )
    return row.keys()


def write_parquet(
    open_binary: Callable[[str], IO[bytes]], part: str, results: Iterable[Any], schema: Any = None
) -> int:
    """Write ``results`` as the Parquet file ``part`` (opened by ``open_binary``, a
    name relative to the output's folder), those sent to a named output (``To``) as
    ``name/part`` (each with the schema of its own first results); return how many."""
    writers = {"": ParquetPartWriter(functools.partial(open_binary, part), schema)}
    count = 0
    try:
        for result in results:
            name = result.name if type(result) is To else ""
            writer = writers.get(name)
            if writer is None:
                opened = functools.partial(open_binary, f"{name}/{part}")
                writer = writers[name] = ParquetPartWriter(opened)
            writer.write(result.result if name else result)
            count += 1
    except BaseException:
        for writer in writers.values():
            writer.abandon()
        raise
    for writer in writers.values():
        writer.close()
    return count
