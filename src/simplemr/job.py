"""What a job is: its functions and the options every task needs.

A ``JobSpec`` is shipped to each worker once, with ``cloudpickle``, so mappers,
reducers and combiners may be lambdas and closures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cloudpickle

from .errors import JobDefinitionError

__all__ = ["JobSpec"]


@dataclass(frozen=True)
class JobSpec:
    """The functions of a job and the options its tasks run with.

    ``mapper(record)`` returns or yields ``(key, value)`` pairs; with ``bulk=True``
    it takes a list of records (a block of lines, or a chunk of items) instead.
    ``combiner(key, values)`` returns one value standing for ``values``.
    ``reducer(key, values)`` returns the key's result, or is a generator whose
    every item is a result.
    """

    mapper: Callable[[Any], Any]
    reducer: Callable[[Any, Any], Any]
    combiner: Callable[[Any, Any], Any] | None
    bulk: bool
    partitions: int
    worker_budget: int
    max_bad_records: int = 0

    def __post_init__(self) -> None:
        for role in ("mapper", "reducer"):
            if not callable(getattr(self, role)):
                raise JobDefinitionError(
                    f"the {role} must be callable, got {getattr(self, role)!r}"
                )
        if self.combiner is not None and not callable(self.combiner):
            raise JobDefinitionError(
                f"the combiner must be callable or None, got {self.combiner!r}"
            )

    def to_bytes(self) -> bytes:
        """Pickle the job for the workers, naming the function that cannot be shipped."""
        try:
            return cloudpickle.dumps(self)
        except Exception as error:
            for role in ("mapper", "combiner", "reducer"):
                function = getattr(self, role)
                try:
                    cloudpickle.dumps(function)
                except Exception as culprit:
                    name = getattr(function, "__qualname__", repr(function))
                    raise JobDefinitionError(
                        f"the {role} {name} cannot be sent to worker processes: {culprit}. "
                        "It, or something it refers to (an open file, a lock, a connection), "
                        "cannot be pickled; create such objects inside the function instead"
                    ) from culprit
            raise JobDefinitionError(f"the job cannot be pickled: {error}") from error
