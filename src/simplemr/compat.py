"""``SimpleMapReduce``: the classic ``multiprocessing.Pool`` recipe's API, on the engine.

Code written against the recipe runs unchanged but for its import line::

    mapper = SimpleMapReduce(file_to_words, count_words)
    word_counts = mapper(input_files)

It differs from the recipe only where the recipe breaks: intermediate pairs
never pass through one process, memory stays within a budget, and a worker
killed by the OS is replaced instead of hanging the job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .api import MapReduce
from .io.inputs import InputSource, ItemsInput

__all__ = ["SimpleMapReduce"]


class _ReduceWithList:
    """Calls the recipe's ``reduce_func((key, values))`` with ``values`` as a list."""

    def __init__(self, reduce_func: Callable[[tuple[Any, list[Any]]], Any]) -> None:
        self.reduce_func = reduce_func

    def __call__(self, key: Any, values: Iterable[Any]) -> Any:
        return self.reduce_func((key, list(values)))


class SimpleMapReduce:
    """The recipe's MapReduce: ``map_func(item)`` returns ``(key, value)`` pairs,
    ``reduce_func((key, values))`` returns one result per key.

    ``num_workers`` defaults to the number of cores. Calling the object with the
    inputs returns the list of ``reduce_func`` results, one per key, in no
    particular order (as with the recipe).
    """

    def __init__(
        self,
        map_func: Callable[[Any], Iterable[tuple[Any, Any]]],
        reduce_func: Callable[[tuple[Any, list[Any]]], Any],
        num_workers: int | None = None,
        **options: Any,
    ) -> None:
        self.map_func = map_func
        self.reduce_func = reduce_func
        self._job = MapReduce(
            map_func, _ReduceWithList(reduce_func), workers=num_workers, **options
        )

    def __call__(self, inputs: Iterable[Any], chunksize: int = 1) -> list[Any]:
        """Map ``inputs``, group by key, reduce.

        As with ``Pool.map``, ``chunksize`` is a batching hint: a map task gets at
        least that many items, and more where the inputs are many (about a quarter
        of a worker's share), since a task per item would cost far more than the
        items themselves. ``text_files(...)`` are cut by size."""
        batched: Any = inputs
        if not isinstance(inputs, (InputSource, str, bytes)) and isinstance(inputs, Iterable):
            batched = ItemsInput(inputs, min_chunk=chunksize)  # (others: refused by run)
        return self._job.run(batched).results
