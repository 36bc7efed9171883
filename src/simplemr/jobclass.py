"""``Job``: a MapReduce job written as a class, with hooks and steps.

    class WordFrequency(simplemr.Job):
        def mapper(self, _, line):
            for word in line.split():
                yield word.lower(), 1

        def combiner(self, word, counts):
            yield word, sum(counts)

        def reducer(self, word, counts):
            yield word, sum(counts)

    if __name__ == "__main__":
        WordFrequency.main()

Every hook yields ``(key, value)`` pairs, the reducer too. Each task makes its
own instance of the class, so ``mapper_init`` may set up state on ``self`` that
``mapper`` uses and ``mapper_final`` reads, and tasks never share it. The class
is a thin layer over the engine: each ``Step`` becomes an engine step whose
tasks call the instance's methods, and step ``k + 1`` maps the pairs that step
``k``'s reducer yielded, read from the work folder by its map tasks.
"""

from __future__ import annotations

import argparse
import contextlib
import contextvars
import difflib
import os
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any, NoReturn

from .api import JobResult, MapReduce
from .core.partition import same_key
from .counters import increment_counter
from .errors import JobDefinitionError, short_repr
from .io.formats import input_files
from .io.inputs import InputSource
from .io.named_outputs import To
from .io.output import line_format_for
from .job import (
    MapFunctions,
    ReduceFunctions,
    ValueOrder,
    checked_value_order,
    mapper_of_named_inputs,
)
from .mrjob.vocabulary import MRJOB_ONLY

__all__ = ["Job", "Step"]

Pairs = Iterable[tuple[Any, Any]]

_HOOKS = (
    "mapper_init",
    "mapper_final",
    "combiner_init",
    "combiner_final",
    "reducer_init",
    "reducer_final",
)
_ROLES = ("mapper", "combiner", "reducer", *_HOOKS)


@dataclass(frozen=True)
class Step:
    """One step of a job: its mapper, combiner and reducer, and their hooks.

    - ``mapper(key, value)`` yields pairs; the first step's records come as
      ``(None, record)``, a later step's as the pairs the step before yielded.
      Without a mapper, records pass through as they come. A first step may have a
      dict of mappers, one for each named input (``job.run({"orders": ...})``).
    - ``combiner(key, values)`` yields ``(key, value)`` pairs for the same key
      standing for ``values``; it may run any number of times on any subset.
    - ``reducer(key, values)`` yields pairs; without one, every value passes
      through as ``(key, value)``.
    - ``*_init()`` runs once per task before its first record; ``*_final()`` once
      per task after its last, and may yield more pairs.
    - ``partitioner(key, partitions)`` returns the reduce task of ``key``, an int in
      ``range(partitions)``; by default, a stable hash of the key chooses it.
    - ``sort_values=True`` hands the reducer each key's values in their own order,
      ``sort_values=function`` in the order of ``function(value)``, descending with
      ``reverse_values=True`` (by default, the job's ``SORT_VALUES``).
    """

    mapper: Callable[[Any, Any], Pairs] | Mapping[str, Callable[[Any, Any], Pairs]] | None = None
    combiner: Callable[[Any, Iterator[Any]], Pairs] | None = None
    reducer: Callable[[Any, Iterator[Any]], Pairs] | None = None
    mapper_init: Callable[[], Any] | None = None
    mapper_final: Callable[[], Pairs | None] | None = None
    combiner_init: Callable[[], Any] | None = None
    combiner_final: Callable[[], Pairs | None] | None = None
    reducer_init: Callable[[], Any] | None = None
    reducer_final: Callable[[], Pairs | None] | None = None
    partitioner: Callable[[Any, int], int] | None = None
    sort_values: bool | Callable[[Any], Any] | None = None
    reverse_values: bool = False

    def __post_init__(self) -> None:
        for field in fields(self):
            function = getattr(self, field.name)
            if field.name in _ORDER_FIELDS:
                continue
            if field.name == "mapper" and isinstance(function, Mapping):  # several inputs
                _check_input_mappers(function)
                continue
            if function is not None and not callable(function):
                raise JobDefinitionError(
                    f"a step's {field.name} must be callable or None, got {function!r}"
                )
        if self.mapper is None and self.reducer is None:
            raise JobDefinitionError("a step needs a mapper, a reducer, or both")
        checked_value_order(self.sort_values, self.reverse_values)

    def value_order(self, sort_values: bool) -> ValueOrder | None:
        """The order of each key's values: this step's, else the job's ``sort_values``."""
        chosen = sort_values if self.sort_values is None else self.sort_values
        return checked_value_order(chosen, self.reverse_values)


def _check_input_mappers(mappers: Mapping[Any, Any]) -> None:
    for name, mapper in mappers.items():
        if not isinstance(name, str) or not callable(mapper):
            raise JobDefinitionError(
                f"a step's mapper of input {name!r} must be callable, got {mapper!r}"
            )


#: The fields of a ``Step`` that say how values are ordered, not functions to call.
_ORDER_FIELDS = ("sort_values", "reverse_values")


class _run_method:
    """``job.run(inputs)`` on an instance; on the class, ``MyJob.run()`` is mrjob's
    spelling of ``MyJob.main()``."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function
        self.__doc__ = function.__doc__

    def __get__(self, instance: Any, owner: type) -> Any:
        if instance is None:
            return owner.main  # type: ignore[attr-defined]
        return self.function.__get__(instance, owner)


#: Whether job code is being loaded by ``simplemr run`` (see ``loading_job_code``), in
#: this thread or task only.
_loading: contextvars.ContextVar[bool] = contextvars.ContextVar("simplemr_loading", default=False)


@contextlib.contextmanager
def loading_job_code() -> Iterator[None]:
    """While job code loads, ``Job.main()`` raises instead of running a job (a call
    of it at a job file's top level, without ``if __name__ == "__main__":``)."""
    token = _loading.set(True)
    try:
        yield
    finally:
        _loading.reset(token)


class Job:
    """A MapReduce job as a class: override ``mapper``, ``combiner``, ``reducer``
    and the ``*_init``/``*_final`` hooks (see ``Step``), or ``steps()`` for a
    pipeline of several steps.

    Options of the job itself come from ``configure_options`` and are read as
    ``self.options.name``; pass them as keywords (``MyJob(top=5)``) or on the
    command line (``--top 5``). ``run`` runs the job from Python, ``main`` from
    the command line (``if __name__ == "__main__": MyJob.main()``). Do not
    override ``__init__``: each task makes an instance of its own with it.
    """

    #: How input files are read: ``"text"``, ``"jsonl"``, ``"csv"`` or ``"file"``.
    INPUT_FORMAT = "text"
    #: How results are written to standard output and part files: ``"tsv"``, ``"jsonl"``
    #: or ``"value"`` (see ``simplemr.io.output``).
    OUTPUT_FORMAT = "tsv"
    #: The encoding of text input files.
    ENCODING = "utf-8"
    #: Whether results come ordered by key.
    SORT = False
    #: Whether each reducer gets a key's values in their own order, in every step that
    #: does not say otherwise (``Step(sort_values=...)``).
    SORT_VALUES = False
    #: Reduce tasks per step; None for two per worker.
    PARTITIONS: int | None = None

    #: Where ``add_passthru_arg`` adds an option: set while ``add_options`` runs.
    _parser: argparse.ArgumentParser | argparse._ArgumentGroup | None = None

    def __init__(self, **options: Any) -> None:
        parser = argparse.ArgumentParser(prog=type(self).__name__, add_help=False)
        type(self).add_options(parser)
        required = [action for action in parser._actions if action.required]
        for action in required:  # given as keywords (or on the command line), checked below
            action.required = False
        try:
            values = vars(parser.parse_args([]))
        except SystemExit:
            raise JobDefinitionError(
                f"{type(self).__name__}'s options must all have defaults"
            ) from None
        missing = [action.dest for action in required if action.dest not in options]
        if missing:
            given = ", ".join(f"{name}=..." for name in missing)
            raise JobDefinitionError(
                f"{type(self).__name__} needs its required options: {type(self).__name__}({given})"
            )
        unknown = sorted(set(options) - set(values))
        if unknown == ["args"]:  # mrjob's MRJob(args=[...])
            raise JobDefinitionError(
                f"{type(self).__name__} takes its options as keywords "
                f"({type(self).__name__}(top=5)); to run it with command-line arguments, "
                f"call {type(self).__name__}.main([...])"
            )
        if unknown:
            known = ", ".join(sorted(values)) or "none"
            raise JobDefinitionError(
                f"{type(self).__name__} has no option {', '.join(unknown)} (its options: {known})"
            )
        values.update(options)
        self.options = argparse.Namespace(**values)

    @classmethod
    def _option_names(cls) -> list[str]:
        """The names of the job's own options, as ``self.options`` holds them."""
        parser = argparse.ArgumentParser(add_help=False)
        cls.add_options(parser)
        return [action.dest for action in parser._actions]

    @classmethod
    def add_options(cls, parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
        """Add the job's own options to ``parser`` (what ``configure_options`` says,
        or mrjob's ``configure_args`` with ``add_passthru_arg``)."""
        job = cls.__new__(cls)
        job._parser = parser
        try:
            job.configure_options(parser)  # type: ignore[arg-type]
            job.configure_args()
        except argparse.ArgumentError as error:
            raise JobDefinitionError(
                f"{cls.__name__}'s option {error.argument_name} clashes with one of "
                "simplemr's own; give it another name"
            ) from None
        except Exception as error:
            raise JobDefinitionError(
                f"{cls.__name__}.configure_options raised {type(error).__name__}: {error}"
            ) from error

    def configure_options(self, parser: argparse.ArgumentParser) -> None:
        """Add the job's own options to ``parser`` (``parser.add_argument(...)``,
        each with a default or ``required=True``); they show in ``--help``."""

    def configure_args(self) -> None:
        """mrjob's spelling of ``configure_options``: call ``self.add_passthru_arg(...)``."""

    def add_passthru_arg(self, *names: str, **options: Any) -> None:
        """mrjob's spelling of ``parser.add_argument``, inside ``configure_args``."""
        if self._parser is None:
            raise JobDefinitionError(
                f"{type(self).__name__}.add_passthru_arg() adds an option only inside "
                "configure_args()"
            )
        self._parser.add_argument(*names, **options)

    def steps(self) -> list[Step]:
        """The job's steps; by default one, of the methods this class overrides."""
        defined = {role: getattr(self, role) for role in _ROLES if self._overrides(role)}
        if "mapper" not in defined and "reducer" not in defined:
            raise JobDefinitionError(
                f"{type(self).__name__} defines no mapper and no reducer; "
                "define either or both, or steps()"
            )
        return [Step(**defined)]

    def _overrides(self, role: str) -> bool:
        return getattr(type(self), role, None) is not getattr(Job, role, None)

    def mapper(self, key: Any, value: Any) -> Pairs:
        """Yield the pairs of one record (``key`` is None in the first step)."""
        yield key, value

    def combiner(self, key: Any, values: Iterator[Any]) -> Pairs:
        """Yield pairs of ``key`` standing for ``values``."""
        for value in values:
            yield key, value

    def reducer(self, key: Any, values: Iterator[Any]) -> Pairs:
        """Yield the result pairs of one key."""
        for value in values:
            yield key, value

    def mapper_init(self) -> None:
        """Run once per map task, before its first record."""

    def mapper_final(self) -> Pairs | None:
        """Run once per map task, after its last record; may yield pairs."""

    def combiner_init(self) -> None:
        """Run once per map task, after ``mapper_init`` and before its first record
        (whether or not the combiner ever runs)."""

    def combiner_final(self) -> Pairs | None:
        """Run once per map task, after the combiner last runs; may yield pairs."""

    def reducer_init(self) -> None:
        """Run once per reduce task, before its first key."""

    def reducer_final(self) -> Pairs | None:
        """Run once per reduce task, after its last key; may yield pairs."""

    def increment_counter(self, group: str, name: str, amount: int = 1) -> None:
        """Add ``amount`` to the counter ``group.name`` (see ``simplemr.increment_counter``)."""
        increment_counter(group, name, amount)

    def files(self, paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> Any:
        """Name input files, read in this job's ``INPUT_FORMAT`` and ``ENCODING``."""
        return input_files(paths, self.INPUT_FORMAT, encoding=self.ENCODING)

    def engine_steps(self) -> tuple[ClassStep, ...]:
        """The engine's steps for this job (each task makes its own instance)."""
        _warn_of_mrjob_names(type(self))
        _warn_of_misspelt_hooks(type(self))
        try:
            steps = self.steps()
        except JobDefinitionError:
            raise
        except Exception as error:
            raise JobDefinitionError(
                f"{type(self).__name__}.steps() raised {type(error).__name__}: {error}"
            ) from error
        if not isinstance(steps, (list, tuple)) or not steps:
            raise JobDefinitionError(
                f"{type(self).__name__}.steps() must return a non-empty list of simplemr.Step"
            )
        for number, step in enumerate(steps, 1):
            if not isinstance(step, Step):
                raise JobDefinitionError(
                    f"{type(self).__name__}.steps() item {number} is {step!r}, not a simplemr.Step"
                )
        options = vars(self.options)
        return tuple(ClassStep(type(self), options, index) for index in range(len(steps)))

    @_run_method
    def run(
        self,
        inputs: Iterable[Any] | InputSource,
        *,
        output: str | os.PathLike[str] | None = None,
        overwrite: bool = False,
        output_format: str | None = None,
        compression: str | None = None,
        parquet_schema: Any = None,
        progress: bool = False,
        verbose: bool = False,
        chunksize: int | None = None,
        storage_options: Mapping[str, Any] | None = None,
        step_output: str | os.PathLike[str] | None = None,
        resume: bool = False,
        **engine: Any,
    ) -> JobResult:
        """Run the job over ``inputs`` (records, or ``self.files(paths)``).

        ``engine`` takes ``MapReduce``'s options (``workers``, ``memory``,
        ``executor``, ``sort``, ``max_bad_records``...); ``output`` and the rest are
        as for ``MapReduce.run``. The results are the last step's pairs. Called on
        the class, ``MyJob.run()`` is ``MyJob.main()`` (mrjob's entry point).
        """
        _check_inputs(type(self).__name__, inputs)
        engine.setdefault("sort", self.SORT)
        engine.setdefault("partitions", self.PARTITIONS)
        job = MapReduce._for_steps(self.engine_steps(), **engine)
        if output is not None:
            output_format = line_format_for(os.fspath(output), output_format, self.OUTPUT_FORMAT)
        return job.run(
            inputs,
            chunksize=chunksize,
            output=output,
            overwrite=overwrite,
            output_format=output_format,
            compression=compression,
            parquet_schema=parquet_schema,
            progress=progress,
            verbose=verbose,
            storage_options=storage_options,
            step_output=step_output,
            resume=resume,
        )

    @classmethod
    def main(cls, argv: list[str] | None = None) -> NoReturn:
        """Run the job from the command line: ``python job.py INPUT ... [-o OUT]``
        with the options of ``simplemr run``, and exit with its status."""
        if _loading.get():
            raise JobDefinitionError(
                f"{cls.__name__}.main() ran while the job file was being loaded: "
                'put it under if __name__ == "__main__":'
            )

        from .launch.jobs import run_job_class  # at call time: most programs never do

        raise SystemExit(run_job_class(cls, argv))


_warned: weakref.WeakSet[type] = weakref.WeakSet()


def _warn_of_mrjob_names(job_class: type[Job]) -> None:
    """Warn, once per class, of mrjob names a ``Job`` class sets that only mrjob honours."""
    names = [name for name in MRJOB_ONLY if hasattr(job_class, name)]
    if not names or job_class in _warned:
        return
    _warned.add(job_class)
    said = "; ".join(f"{name} (in mrjob it {MRJOB_ONLY[name]})" for name in names)
    warnings.warn(
        f"{job_class.__name__} sets {said}, which simplemr.Job does not honour. To have it "
        "honoured, base the class on mrjob.job.MRJob and run the file with simplemr mrjob",
        stacklevel=4,
    )


_warned_of_spelling: weakref.WeakSet[type] = weakref.WeakSet()


def _warn_of_misspelt_hooks(job_class: type[Job]) -> None:
    """Warn, once per class, of a method whose name is close to a hook's (``mapp``,
    ``reduce``, ``mapper_int``) where the class has no such hook: simplemr calls
    hooks by name, so a misspelt one would never run, without a word. A class with
    its own ``steps()`` names its methods itself: nothing to guess there."""
    if job_class in _warned_of_spelling or job_class.steps is not Job.steps:
        return
    _warned_of_spelling.add(job_class)
    own = {
        name
        for klass in job_class.__mro__[: job_class.__mro__.index(Job)]
        for name, value in vars(klass).items()
        if callable(value) and not name.startswith("__")
    }
    for name in sorted(own - set(dir(Job))):
        close = difflib.get_close_matches(name, _ROLES, n=1, cutoff=0.8)
        if close and close[0] not in own:
            warnings.warn(
                f"{job_class.__name__} defines {name}(), which looks like a misspelt "
                f"{close[0]}(), and has no {close[0]}(): simplemr calls hooks by name "
                f"({', '.join(_ROLES[:3])}, their *_init and *_final), so {name}() "
                "never runs",
                stacklevel=4,
            )


def _check_inputs(job_name: str, inputs: Any) -> None:
    """Refuse one string as inputs, and warn of names of existing files given as
    items (their names, not their lines, would be mapped): both mean ``job.files``."""
    if isinstance(inputs, (str, bytes, os.PathLike)):
        raise JobDefinitionError(
            f"{job_name}.run() got one {type(inputs).__name__} ({short_repr(inputs)}) as "
            f"inputs: to read files, pass job.files({short_repr(inputs)}) (a name, a "
            "pattern or a list of them); to map items, a list of them"
        )
    if isinstance(inputs, (list, tuple)) and inputs:
        first = inputs[:_NAMES_LOOKED_AT]
        if all(isinstance(item, str) and os.path.isfile(item) for item in first):
            warnings.warn(
                f"{job_name}.run() got names of existing files ({short_repr(first[0])}...) "
                "as items: the job maps the names themselves, not the files' records. "
                "To read the files, pass job.files(names)",
                stacklevel=3,
            )


#: How many items ``_check_inputs`` looks at (each costs a look at the disk).
_NAMES_LOOKED_AT = 8


@dataclass(frozen=True)
class ClassStep:
    """Step ``index`` of a job class, as the engine runs it."""

    job_class: type[Job]
    options: dict[str, Any]
    index: int
    bulk: bool = False

    def _step(self) -> Step:
        return self.job_class(**self.options).steps()[self.index]

    @property
    def definition(self) -> tuple[Any, ...]:
        """What this step runs: its ``Step`` (the methods it names, not the whole
        class) and the job's options; what a kept step's fingerprint is made of."""
        return (self.options, self._step(), self.bulk)

    @property
    def input_names(self) -> list[str] | None:
        """The inputs the step's mapper is a dict of, by name; None for one mapper."""
        mapper = self._step().mapper
        return list(mapper) if isinstance(mapper, Mapping) else None

    def _record_mapper(self, mapper: Callable[[Any, Any], Pairs] | None) -> Callable[[Any], Pairs]:
        if mapper is None:
            return _first_record if self.index == 0 else _later_record
        if self.index == 0:
            return _calling_with_none(mapper)
        return _calling_with_pair(mapper)

    def map_task(self) -> MapFunctions:
        step = self._step()
        mapper = step.mapper
        input_mappers = None
        map_record: Callable[[Any], Pairs]
        if isinstance(mapper, Mapping):  # one for each named input
            input_mappers = {name: self._record_mapper(m) for name, m in mapper.items()}
            map_record = mapper_of_named_inputs
        else:
            map_record = self._record_mapper(mapper)
        if step.reducer is None:  # a map-only step: its mapper may send to named outputs
            map_record = _routing(map_record)
        setup = [
            (role, hook)
            for role, hook in (
                ("mapper_init", step.mapper_init),
                ("combiner_init", step.combiner_init),
            )
            if hook is not None
        ]
        combine = None if step.combiner is None else _combining_with(step.combiner)
        mapper_final = (
            None if step.mapper_final is None else _pairs_of(step.mapper_final, "mapper_final")
        )
        combiner_final = (
            None
            if step.combiner_final is None
            else _pairs_of(step.combiner_final, "combiner_final")
        )
        return MapFunctions(
            map_record,
            combine,
            setup,
            mapper_final,
            combiner_final,
            partitioner=step.partitioner,
            input_mappers=input_mappers,
        )

    def reduce_task(self) -> ReduceFunctions:
        step = self._step()
        reducer = step.reducer or _pass_values
        setup = [("reducer_init", step.reducer_init)] if step.reducer_init is not None else []
        final = (
            None if step.reducer_final is None else _pairs_of(step.reducer_final, "reducer_final")
        )
        return ReduceFunctions(
            _checking_pairs(reducer),
            setup,
            final,
            _key_of_pair,
            value_order=step.value_order(self.job_class.SORT_VALUES),
        )

    def functions(self) -> dict[str, Any]:
        return {"job class": self.job_class}

    @property
    def sorts_by_group_key(self) -> bool:
        # Results are (key, value) pairs ordered by their key: the key grouped by
        # only where no reducer yields pairs of its own choosing.
        step = self._step()
        return step.reducer is None and step.partitioner is None


def _first_record(record: Any) -> Pairs:
    return ((None, record),)


def _later_record(record: Any) -> Pairs:
    return (record,)


def _calling_with_none(mapper: Callable[[Any, Any], Pairs]) -> Callable[[Any], Pairs]:
    return lambda record: mapper(None, record) or ()  # a mapper may return None


def _calling_with_pair(mapper: Callable[[Any, Any], Pairs]) -> Callable[[Any], Pairs]:
    return lambda pair: mapper(*pair) or ()


def _pass_values(key: Any, values: Iterator[Any]) -> Iterator[Any]:
    for value in values:
        yield value if type(value) is To else (key, value)


def _routing(mapper: Callable[[Any], Pairs]) -> Callable[[Any], Pairs]:
    """``mapper`` of a map-only step, whose ``To(name, (key, value))`` travels to the
    reduce side as the value of ``key``, and comes out whole (``_pass_values``)."""

    def route(record: Any) -> Iterator[Any]:
        item: Any
        for item in mapper(record):
            if type(item) is To:
                yield _pair("mapper", item.result)[0], item
            else:
                yield item

    return route


def _key_of_pair(key: Any, pair: tuple[Any, Any]) -> Any:
    return pair[0]


def _checking_pairs(reducer: Callable[[Any, Iterator[Any]], Pairs]) -> Callable[..., Pairs]:
    def reduce(key: Any, values: Iterator[Any]) -> Pairs:
        for pair in reducer(key, values):
            yield _pair("reducer", pair)

    return reduce


def _pairs_of(
    hook: Callable[[], Pairs | None], role: str
) -> Callable[[], Iterator[tuple[Any, Any]]]:
    """A ``*_final`` hook's pairs, checked as they come (none if it returns None)."""

    def final() -> Iterator[tuple[Any, Any]]:
        for pair in hook() or ():
            yield _pair(role, pair)

    return final


def _pair(role: str, item: Any) -> tuple[Any, Any]:
    """``item`` as a ``(key, value)`` tuple (a two-item list will do; a pair sent to a
    named output, ``To``, as it is), or an error."""
    if type(item) is tuple and len(item) == 2:
        return item
    if type(item) is To and role.startswith("reducer"):
        return item  # type: ignore[return-value]
    if type(item) is list and len(item) == 2:
        return (item[0], item[1])
    raise TypeError(f"the {role} must yield (key, value) pairs, but it yielded {item!r}")


def _combining_with(
    combiner: Callable[[Any, Iterator[Any]], Pairs],
) -> Callable[[Any, list[Any]], list[Any]]:
    def combine(key: Any, values: list[Any]) -> list[Any]:
        combined = []
        for item in combiner(key, iter(values)):
            pair = _pair("combiner", item)
            if not same_key(pair[0], key):
                raise ValueError(
                    f"the combiner must keep its key: given {key!r}, it yielded {pair[0]!r}"
                )
            combined.append(pair[1])
        return combined

    return combine
