"""Planning inputs into splits, and reading records out of a split.

A split is the unit of work of one map task. It is a small picklable object
that the driver makes without reading any data and a worker reads:

    iterable of items  ─▶  ItemsSplit: a chunk of the items themselves
    text_files(paths)  ─▶  TextSplit: a byte range of one file (see textfiles.py)
    a step's results   ─▶  ResultsSplit: one partition of them, for the next step

A split yields *blocks*: lists of records read together, so a bulk mapper can
take a block at once and a per-record mapper pays no per-record reading cost.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from ..errors import JobDefinitionError, check_positive_int, short_repr
from .batches import ITEM_BATCH, Stored, read_batch_lists

__all__ = [
    "SKIP_RECORD",
    "InputSource",
    "ItemsInput",
    "ItemsSplit",
    "NamedInputs",
    "NamedSplit",
    "ResultsSplit",
    "Split",
    "plan_splits",
]


#: What a split's ``parse`` returns for a record that is no record (a blank line).
SKIP_RECORD: Any = type("SkipRecord", (), {"__repr__": lambda self: "SKIP_RECORD"})()


class Split(Protocol):
    """What a map task reads. Implementations must pickle small."""

    def blocks(
        self, counters: dict[str, int], line_limit: int | None = None
    ) -> Iterator[Sequence[Any]]:
        """Yield the split's records as lists, counting input figures into ``counters``.

        ``line_limit`` (the worker's budget) bounds one record of text: a longer
        line is an InputError rather than a worker out of memory. Splits whose
        records are already in memory (items, a step's results) have nothing to
        bound, and CSV bounds its own fields (``csv.field_size_limit``)."""
        ...

    def describe(self) -> str:
        """Say what the split covers, for messages: ``'notes.txt bytes 0-1048576'``."""
        ...

    def locate(self, block_number: int, index: int, record: Any) -> str:
        """Say where record ``index`` of block ``block_number`` came from."""
        ...


@runtime_checkable
class InputSource(Protocol):
    """Anything that can plan itself into splits, like ``text_files(...)``.

    A source of files may also say which files and folders it reads (``paths`` and
    ``folders`` attributes; see ``input_locations``), so that no output is written over
    or inside them.
    """

    def splits(self, workers: int) -> Iterator[Split]:
        """Yield the splits, sized so that ``workers`` workers get an even load."""
        ...


def input_locations(inputs: Any) -> tuple[list[str], list[str]]:
    """The files, and the folders, that ``inputs`` reads: none for an iterable."""
    return list(getattr(inputs, "paths", ())), list(getattr(inputs, "folders", ()))


class ItemsSplit:
    """A chunk of items from an iterable; item numbers count from 1."""

    __slots__ = ("first", "items")

    def __init__(self, first: int, items: list[Any]) -> None:
        self.first = first
        self.items = items

    def blocks(
        self, counters: dict[str, int], line_limit: int | None = None
    ) -> Iterator[Sequence[Any]]:
        yield self.items

    def describe(self) -> str:
        if len(self.items) == 1:
            return f"item {self.first + 1} ({short_repr(self.items[0])})"
        return f"items {self.first + 1}-{self.first + len(self.items)}"

    def locate(self, block_number: int, index: int, record: Any) -> str:
        return f"item {self.first + index + 1} ({short_repr(record)})"


class ResultsSplit:
    """One partition of a step's results, wherever they are kept, read as the
    records of the next step."""

    __slots__ = ("label", "source")

    def __init__(self, source: Stored, label: str) -> None:
        self.source = source
        self.label = label

    def blocks(
        self, counters: dict[str, int], line_limit: int | None = None
    ) -> Iterator[Sequence[Any]]:
        # The reduce task wrote its results in batches of ITEM_BATCH: one block each.
        yield from read_batch_lists(self.source)

    def describe(self) -> str:
        return self.label

    def locate(self, block_number: int, index: int, record: Any) -> str:
        number = block_number * ITEM_BATCH + index + 1
        return f"{self.label}, result {number} ({short_repr(record)})"


class ItemsInput:
    """An iterable of items, read lazily in chunks.

    With a known length the chunks are about ``len / (4 * workers)`` items, so the
    load spreads evenly. Without one (a generator), chunks start at one item and
    double up to ``max_chunk``, so a short generator still spreads over workers and
    a long one is not cut into millions of tasks. ``chunksize`` fixes the number of
    items a chunk holds; ``min_chunk`` only sets the fewest (a batching hint, as
    ``Pool.map``'s ``chunksize`` is).
    """

    def __init__(
        self,
        items: Iterable[Any],
        chunksize: int | None = None,
        max_chunk: int = 65536,
        min_chunk: int = 1,
    ) -> None:
        if chunksize is not None:
            check_positive_int("chunksize", chunksize)
        check_positive_int("chunksize", min_chunk)
        self.items = items
        self.chunksize = chunksize
        self.max_chunk = max_chunk
        self.min_chunk = min_chunk

    def _chunk_sizes(self, workers: int) -> Iterator[int]:
        if self.chunksize is not None:
            return itertools.repeat(self.chunksize)
        least = self.min_chunk
        try:
            total = len(self.items)  # type: ignore[arg-type]
        except TypeError:
            return (max(least, min(2**n, self.max_chunk)) for n in itertools.count())
        size = max(least, min(-(-total // (4 * workers)), self.max_chunk))
        return itertools.repeat(size)

    def splits(self, workers: int) -> Iterator[Split]:
        iterator = iter(self.items)
        first = 0
        for size in self._chunk_sizes(workers):
            chunk = list(itertools.islice(iterator, size))
            if not chunk:
                return
            yield ItemsSplit(first, chunk)
            first += len(chunk)


class NamedSplit:
    """A split of one of several named inputs (``NamedInputs``), which a map task maps
    with that input's mapper; in all else, the split itself."""

    def __init__(self, input_name: str, split: Split) -> None:
        self.input_name = input_name
        self.split = split

    def blocks(
        self, counters: dict[str, int], line_limit: int | None = None
    ) -> Iterator[Sequence[Any]]:
        return self.split.blocks(counters, line_limit)

    def describe(self) -> str:
        return f"{self.split.describe()} (input {self.input_name!r})"

    def locate(self, block_number: int, index: int, record: Any) -> str:
        return f"{self.split.locate(block_number, index, record)} (input {self.input_name!r})"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("split", "input_name"):
            raise AttributeError(name)  # not set yet, as while unpickling
        return getattr(self.split, name)


class NamedInputs:
    """Several inputs by name, ``{"orders": text_files(...), "customers": rows}``: each
    planned as it would be alone (``chunksize`` for those that are iterables of items),
    its splits named after it, so that a job may map each with a mapper of its own and
    count its records apart (``map.records_in.orders``)."""

    def __init__(self, sources: Mapping[str, Any], chunksize: int | None = None) -> None:
        if not sources:
            raise JobDefinitionError("inputs is an empty dict: name at least one input")
        for name in sources:
            if not isinstance(name, str) or not name.isidentifier():
                raise JobDefinitionError(
                    f"an input's name must be a word of letters, digits and _, such as "
                    f"'orders'; got {name!r}"
                )
        self.sources = dict(sources)
        self.chunksize = chunksize
        located = [input_locations(source) for source in self.sources.values()]
        self.paths = [path for paths, _ in located for path in paths]
        self.folders = [folder for _, folders in located for folder in folders]

    @property
    def total_bytes(self) -> int | None:
        sizes = [getattr(source, "total_bytes", None) for source in self.sources.values()]
        return None if None in sizes else sum(sizes)  # type: ignore[arg-type]

    def splits(self, workers: int) -> Iterator[Split]:
        for name, source in self.sources.items():
            chunksize = None if isinstance(source, InputSource) else self.chunksize
            for split in plan_splits(source, workers, chunksize):
                yield NamedSplit(name, split)


def plan_splits(inputs: Any, workers: int, chunksize: int | None = None) -> Iterator[Split]:
    """Return the splits of ``inputs``: an input source's own, or chunks of items
    (``chunksize`` items each, if given)."""
    if isinstance(inputs, Mapping):
        inputs = NamedInputs(inputs, chunksize)
    if isinstance(inputs, NamedInputs):
        return inputs.splits(workers)
    if isinstance(inputs, InputSource):
        if chunksize is not None:
            raise JobDefinitionError(
                f"chunksize={chunksize!r} sets how many items of an iterable a map task "
                f"gets; {type(inputs).__name__} inputs are cut by size instead "
                "(text_files(..., split_size=N) sets it in bytes)"
            )
        return inputs.splits(workers)
    if isinstance(inputs, (str, bytes)):
        raise JobDefinitionError(
            f"inputs is a single string ({short_repr(inputs)}): pass a list of items, "
            "or simplemr.text_files(path) to read the lines of a file"
        )
    if not isinstance(inputs, Iterable):
        raise JobDefinitionError(
            f"inputs must be an iterable of items or simplemr.text_files(...), "
            f"not {type(inputs).__name__}"
        )
    return ItemsInput(inputs, chunksize).splits(workers)
