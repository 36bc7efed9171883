"""What a job is: its steps, and the options every task needs.

A ``JobSpec`` is shipped to each worker once, by value (``shipping.py``), so mappers,
reducers and combiners may be lambdas and closures. A step tells each task,
when it starts, which functions to call (``MapFunctions``, ``ReduceFunctions``):
a plain ``FunctionStep`` hands out the same functions every time, while a job
class (``jobclass.py``) makes a fresh instance per task and runs its hooks.
"""

from __future__ import annotations

import dataclasses
import functools
import types
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from . import shipping
from .errors import JobDefinitionError, ShapeError, SortError, short_repr

__all__ = [
    "FunctionStep",
    "JobSpec",
    "MapFunctions",
    "OutputTap",
    "ReduceFunctions",
    "SortKeyError",
    "StepSpec",
    "ValueOrder",
    "checked_sort_order",
    "checked_value_order",
    "mapper_of_named_inputs",
    "ordered_by",
    "seen_by",
]

Pairs = Iterable[tuple[Any, Any]]
#: ``(role, hook)``: a hook to call with no arguments, named for error messages.
Hook = tuple[str, Callable[[], Any]]

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from .io.commit import TaskCommitter
    from .shuffle.task import TaskContext

    #: What a whole task runs inside, given the task's attempt (its folder, its number).
    Scope = Callable[[TaskContext], AbstractContextManager[None]]


def _group_key(key: Any, result: Any) -> Any:
    return key


@dataclass(frozen=True)
class MapFunctions:
    """What one map task calls.

    ``setup`` hooks run before the first record; ``mapper(record)`` yields pairs
    (given a whole block with ``bulk``); ``combine(key, values)`` returns the
    values standing for ``values`` (for keys of at least ``combine_from`` values);
    ``mapper_final()`` yields more pairs after
    the last record, ``combiner_final()`` pairs that bypass the combiner;
    ``partitioner(key, partitions)`` chooses a key's reduce task (by default, the
    stable hash). The task runs inside ``scope(context)`` if given (a working
    folder, variables).
    """

    mapper: Callable[[Any], Pairs]
    combine: Callable[[Any, list[Any]], list[Any]] | None = None
    setup: Sequence[Hook] = ()
    mapper_final: Callable[[], Pairs] | None = None
    combiner_final: Callable[[], Pairs] | None = None
    scope: Scope | None = None
    #: The fewest values a key must hold in the buffer for ``combine`` to be called.
    combine_from: int = 2
    partitioner: Callable[[Any, int], int] | None = None
    #: A mapper for each named input (``io.inputs.NamedInputs``), in place of ``mapper``.
    input_mappers: Mapping[str, Callable[[Any], Pairs]] | None = None


#: What a plain combiner (``MapReduce(..., combiner)``) runs from: below 8 values, a
#: call costs more than the values it saves in the shuffle, and it may run on any
#: subset of a key's values, or none.
WORTH_COMBINING = 8


@dataclass(frozen=True)
class ValueOrder:
    """The order a reducer gets each key's values in (a secondary sort): by
    ``key(value)``, or by the values themselves where ``key`` is None; descending
    with ``reverse``. Values that compare equal keep no particular order."""

    key: Callable[[Any], Any] | None = None
    reverse: bool = False


class SortKeyError(SortError):
    """The ``sort_key`` of a sorted job raised."""


def ordered_by(order: ValueOrder, key: Any) -> Any:
    """What a sorted job orders the results of ``key`` by: the key, or ``order.key`` of
    it (an exception in which is a ``SortKeyError`` naming the key)."""
    if order.key is None:
        return key
    try:
        return order.key(key)
    except Exception as error:
        raise SortKeyError(f"the sort_key raised on key {short_repr(key)}: {error!r}") from error


def checked_sort_order(sort: Any, sort_key: Any, reverse: Any) -> ValueOrder:
    """The order of a sorted job's results that ``sort_key=`` and ``reverse=`` ask
    for, checked against ``sort=``."""
    if not isinstance(reverse, bool):
        raise JobDefinitionError(f"reverse must be True or False, got {reverse!r}")
    if sort_key is not None and not callable(sort_key):
        raise JobDefinitionError(
            f"sort_key must be a function of a key, giving what to order its results by; "
            f"got {sort_key!r}"
        )
    if not sort and (reverse or sort_key is not None):
        raise JobDefinitionError("sort_key= and reverse= order sorted results: add sort=True")
    return ValueOrder(sort_key, reverse)


def checked_value_order(sort_values: Any, reverse_values: Any) -> ValueOrder | None:
    """The ``ValueOrder`` that ``sort_values=`` (False, True, or a key function) and
    ``reverse_values=`` ask for, checked; None for no order."""
    if not isinstance(reverse_values, bool):
        raise JobDefinitionError(f"reverse_values must be True or False, got {reverse_values!r}")
    if sort_values is False or sort_values is None:
        if reverse_values:
            raise JobDefinitionError("reverse_values=True needs sort_values too")
        return None
    if sort_values is True:
        return ValueOrder(None, reverse_values)
    if not callable(sort_values):
        raise JobDefinitionError(
            "sort_values must be True (values in their own order), a function of a value "
            f"giving what to order it by, or False; got {sort_values!r}"
        )
    return ValueOrder(sort_values, reverse_values)


@dataclass(frozen=True)
class ReduceFunctions:
    """What one reduce task calls.

    ``reduce(key, values)`` yields the key's results (with ``returns_one``, it
    returns one result, or a generator of results); ``final()`` yields more
    results after the last key; ``sort_key(key, result)`` is what ``sort=True``
    orders a result by; ``value_order`` the order of each key's values, if any.
    The task runs inside ``scope(context)`` if given.
    """

    reduce: Callable[[Any, Iterator[Any]], Any]
    setup: Sequence[Hook] = ()
    final: Callable[[], Iterable[Any]] | None = None
    sort_key: Callable[[Any, Any], Any] = _group_key
    scope: Scope | None = None
    returns_one: bool = False
    value_order: ValueOrder | None = None


class OutputTap(Protocol):
    """Sees each result a last-step reduce task writes to the output, to hand the
    driver a small summary of them (the word count's top words, say)."""

    def see(self, result: Any) -> None:
        """Take note of one result."""

    def summary(self) -> Any:
        """What the task hands the driver: small, and picklable."""


def seen_by(tap: OutputTap, results: Iterable[Any]) -> Iterator[Any]:
    """``results``, each shown to ``tap`` as it passes."""
    see = tap.see
    for result in results:
        see(result)
        yield result


class StepSpec(Protocol):
    """One map, shuffle and reduce of a job."""

    @property
    def bulk(self) -> bool:
        """Whether the mapper takes a whole block of records at once."""
        ...

    def map_task(self) -> MapFunctions:
        """The functions one map task calls (its setup hooks not yet run)."""
        ...

    def reduce_task(self) -> ReduceFunctions:
        """The functions one reduce task calls (its setup hooks not yet run)."""
        ...

    def functions(self) -> dict[str, Any]:
        """The user's functions by role, to name one that cannot be pickled."""
        ...

    @property
    def sorts_by_group_key(self) -> bool:
        """Whether ``sort=True`` may order this step's results by the keys they were
        grouped by (cut into ranges, one a reduce task): its results are ordered by
        those keys, and it chooses no reduce task itself."""
        ...


def _checked_combiner(
    combiner: Callable[[Any, Any], Any], is_reducer: bool, key: Any, values: list[Any]
) -> list[Any]:
    """What ``combiner`` returns for ``values``, as the one value standing for them,
    after checking it has a combiner's shape: one value, not a generator, and (for
    the reducer passed as the combiner too, mrjob's habit) not the ``(key, value)``
    pair a reducer returns, which the reducer would then get among its values."""
    result = combiner(key, iter(values))
    if isinstance(result, types.GeneratorType):
        raise ShapeError(
            f"the combiner must return one value standing for the values of key "
            f"{short_repr(key)}, which the reducer then gets among them; it returned a "
            "generator"
        )
    if is_reducer and type(result) is tuple and len(result) == 2 and result[0] == key:
        raise ShapeError(
            f"the combiner, which is the reducer, returned {short_repr(result)} for key "
            f"{short_repr(key)}: a combiner returns one value standing for the values it "
            "is given (the reducer then gets it among them), not a (key, value) pair; "
            "pass a combiner of its own, such as lambda key, values: sum(values)"
        )
    return [result]


def mapper_of_named_inputs(record: Any) -> Pairs:
    """The mapper of a step that has one for each named input, where its split has no
    input's name (its inputs were not given as a dict): it says so."""
    raise JobDefinitionError(
        "this job has a mapper for each named input: pass its inputs as a dict of the same "
        "names, such as job.run({'orders': orders, 'customers': customers})"
    )


@dataclass(frozen=True)
class FunctionStep:
    """A step made of plain functions (see ``MapReduce`` for their contracts)."""

    mapper: Callable[[Any], Any] | Mapping[str, Callable[[Any], Any]]
    reducer: Callable[[Any, Any], Any]
    combiner: Callable[[Any, Any], Any] | None = None
    bulk: bool = False
    partitioner: Callable[[Any, int], int] | None = None
    value_order: ValueOrder | None = None

    def __post_init__(self) -> None:
        mappers: Mapping[Any, Any] = (
            self.mapper if isinstance(self.mapper, Mapping) else {"": self.mapper}
        )
        for name, mapper in mappers.items():
            if not isinstance(name, str) or not callable(mapper):
                of = f" of input {name!r}" if name else ""
                raise JobDefinitionError(
                    f"the mapper{of} must be callable, got {mapper!r} (several inputs: "
                    "a dict of their names to their mappers)"
                )
        if not callable(self.reducer):
            raise JobDefinitionError(f"the reducer must be callable, got {self.reducer!r}")
        for role in ("combiner", "partitioner"):
            function = getattr(self, role)
            if function is not None and not callable(function):
                raise JobDefinitionError(f"the {role} must be callable or None, got {function!r}")

    @property
    def input_names(self) -> list[str] | None:
        """The inputs the mapper is a dict of, by name; None for one mapper for all."""
        return list(self.mapper) if isinstance(self.mapper, Mapping) else None

    def map_task(self) -> MapFunctions:
        if isinstance(self.mapper, Mapping):
            plain = MapFunctions(
                mapper_of_named_inputs,
                partitioner=self.partitioner,
                input_mappers=dict(self.mapper),
            )
        else:
            plain = MapFunctions(self.mapper, partitioner=self.partitioner)
        combiner = self.combiner
        if combiner is None:
            return plain
        return dataclasses.replace(
            plain,
            combine=functools.partial(_checked_combiner, combiner, combiner == self.reducer),
            combine_from=WORTH_COMBINING,
        )

    def reduce_task(self) -> ReduceFunctions:
        return ReduceFunctions(self.reducer, returns_one=True, value_order=self.value_order)

    @property
    def sorts_by_group_key(self) -> bool:
        return self.partitioner is None  # results are ordered by the reducer's key

    def functions(self) -> dict[str, Any]:
        mappers = (
            {f"mapper of input {name!r}": mapper for name, mapper in self.mapper.items()}
            if isinstance(self.mapper, Mapping)
            else {"mapper": self.mapper}
        )
        return {
            **mappers,
            "combiner": self.combiner,
            "reducer": self.reducer,
            "partitioner": self.partitioner,
        }


@dataclass(frozen=True)
class JobSpec:
    """A job's steps and the options its tasks run with.

    Step ``k + 1`` maps the results of step ``k``; ``sort`` orders the last
    step's results by key (by ``sort_order``: a function of the key, descending);
    with ``verbose`` each map task says on stderr which
    worker reads what. With ``output``, the last step's reduce tasks write the
    results there themselves (each watched by a new ``output_tap()`` if given);
    ``storage_options`` go to the fsspec filesystem of every URL the job opens.
    """

    steps: tuple[StepSpec, ...]
    partitions: int
    worker_budget: int
    max_bad_records: int = 0
    sort: bool = False
    verbose: bool = False
    output: TaskCommitter | None = None
    sort_order: ValueOrder = ValueOrder()
    output_tap: Callable[[], OutputTap] | None = None
    storage_options: dict[str, Any] = field(default_factory=dict)
    #: Exceptions that make a task run again (``executors/base.TaskFailure``).
    retry_exceptions: tuple[type[BaseException], ...] = ()

    @property
    def sorted_by_ranges(self) -> bool:
        """Whether ``sort`` is done by cutting the keys into ordered ranges, one a
        reduce task (``shuffle/ranges.py``), so that the parts in partition order are
        the sorted output: for a job of one step whose results are ordered by the
        keys they are grouped by (``StepSpec.sorts_by_group_key``). Other sorted
        jobs merge every partition's sorted results as they are read."""
        return self.sort and len(self.steps) == 1 and self.steps[0].sorts_by_group_key

    def to_bytes(self) -> bytes:
        """Pickle the job for the workers, naming the function that cannot be shipped
        (in one message that says it all: the pickling's own traceback is no help)."""
        try:
            return shipping.dumps(self)
        except Exception as error:
            for step in self.steps:
                for role, function in step.functions().items():
                    try:
                        shipping.dumps(function)
                    except Exception as culprit:
                        name = getattr(function, "__qualname__", repr(function))
                        raise JobDefinitionError(
                            f"the {role} {name} cannot be sent to worker processes: "
                            f"{culprit}. It, or something it refers to (an open file, a "
                            "lock, a connection), cannot be pickled; create such objects "
                            "inside the function instead"
                        ) from None
            raise JobDefinitionError(f"the job cannot be pickled: {error}") from None
