"""Mappers, reducers and combiners for the tests, in a module light enough for
worker processes to import quickly (no test framework imports)."""

from __future__ import annotations

import dataclasses
import os
import resource
import signal
import string
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from reference import as_multiset

import simplemr


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    y: str


def normal(key: Any) -> Any:
    """A key in a form whose repr is the same for every member of its equality
    class (``1``, ``1.0`` and ``True`` are one dict key, but repr differently)."""
    if isinstance(key, (bool, int, float)) and key == int(key):
        return int(key)
    if isinstance(key, tuple):
        return tuple(normal(item) for item in key)
    return key


# --- mappers: each takes one record ---------------------------------------------


def words_mapper(line: str) -> Iterator[tuple[str, int]]:
    for word in line.split():
        yield word, 1


def mixed_key_mapper(number: int) -> list[tuple[Any, Any]]:
    keys = [
        number % 3,
        float(number % 3),
        bool(number % 2),
        None,
        str(number % 5),
        str(number % 5).encode(),
        (number % 2, None, "t"),
        (float(number % 2), None, "t"),
        Point(number % 2, "p"),
    ]
    return [(keys[number % len(keys)], number), (keys[(number * 7) % len(keys)], -number)]


def letters_mapper(line: str) -> Iterator[tuple[int, str]]:
    for position, letter in enumerate(line):
        yield position % 4, letter


# --- reducers and combiners --------------------------------------------------------


def sum_reducer(key: Any, values: Iterable[int]) -> tuple[Any, int]:
    return normal(key), sum(values)


def sum_combiner(key: Any, values: Iterable[int]) -> int:
    return sum(values)


def sorted_values_reducer(key: Any, values: Iterable[Any]) -> tuple[Any, list[Any]]:
    return normal(key), sorted(values)


def joining_reducer(key: Any, values: Iterable[str]) -> tuple[Any, str]:
    # Not commutative: the result depends on the order the values arrive in, which
    # is unspecified, so results are compared with their letters sorted.
    return key, "".join(values)


def exploding_reducer(key: Any, values: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
    for value in values:
        yield normal(key), value


def max_combiner(key: Any, values: Iterable[int]) -> int:
    return max(values)


def max_reducer(key: Any, values: Iterable[int]) -> tuple[Any, int]:
    return normal(key), max(values)


def normalise_joined(results: Iterable[tuple[Any, str]]) -> list[str]:
    return as_multiset((key, sorted(text)) for key, text in results)


# --- the classic recipe's own word count functions (Python 3 spelling) ------------

STOP_WORDS = set(
    ["a", "an", "and", "are", "as", "be", "by", "for", "if", "in", "is", "it", "of", "or",
     "py", "rst", "that", "the", "to", "with"]
)  # fmt: skip
TR = str.maketrans(string.punctuation, " " * len(string.punctuation))


def file_to_words(filename: str) -> list[tuple[str, int]]:
    """Read a file and return a sequence of (word, occurrences) values."""
    output = []
    with open(filename) as f:
        for line in f:
            if line.lstrip().startswith(".."):  # Skip rst comment lines
                continue
            line = line.translate(TR)  # Strip punctuation
            for word in line.split():
                word = word.lower()
                if word.isalpha() and word not in STOP_WORDS:
                    output.append((word, 1))
    return output


def count_words(item: tuple[str, list[int]]) -> tuple[str, int]:
    """Convert the partitioned data for a word to a tuple containing the word
    and the number of occurrences."""
    word, occurrences = item
    return (word, sum(occurrences))


# --- jobs with side effects the tests observe (inline executor only) ---------------

CONSUMED = [0]
CONSUMED_AT_MAP: list[int] = []


def counting_generator(total: int) -> Iterator[int]:
    for number in range(total):
        CONSUMED[0] += 1
        yield number


def logging_mapper(number: int) -> list[tuple[int, int]]:
    CONSUMED_AT_MAP.append(CONSUMED[0])
    return [(number % 10, 1)]


# --- a hot key whose values must stream -------------------------------------------


def hot_key_mapper(block: list[int]) -> Iterator[tuple[str, int]]:
    for start in block:
        for number in range(start, start + 100_000):
            yield "hot", number


def streaming_counter(key: str, values: Iterable[int]) -> tuple[int, int]:
    """Count the values; return the count and this worker's peak resident memory."""
    count = sum(1 for _ in values)
    return count, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def failing_mapper(number: int) -> list[tuple[int, int]]:
    return [(number, 1 // (number - 3))]


def failing_reducer(key: Any, values: Iterable[Any]) -> Any:
    if key == "bad":
        raise KeyError("no luck")
    return key


def gc_thresholds_mapper(record: Any) -> list[tuple[Any, Any]]:
    import gc

    return [(record, gc.get_threshold())]


def identity_mapper(record: Any) -> list[tuple[Any, Any]]:
    return [(record, record)]


def first_reducer(key: Any, values: Iterable[Any]) -> Any:
    return key


def dying_mapper(argument: tuple[int, str]) -> list[tuple[int, int]]:
    """Kill this worker the first time it sees number 5 (a marker file remembers)."""
    number, marker = argument
    if number == 5 and not os.path.exists(marker):
        open(marker, "w").close()
        os.kill(os.getpid(), signal.SIGKILL)
    return [(number % 3, number)]


def always_dying_mapper(number: int) -> list[tuple[int, int]]:
    os._exit(3)


class StubbornError(Exception):
    """Pickles, but cannot be unpickled: its __init__ wants two arguments."""

    def __init__(self, number: int, reason: str) -> None:
        super().__init__(number)
        self.reason = reason


def raising_stubborn_error(number: int) -> list[tuple[int, int]]:
    raise StubbornError(number, "always")


def partly_bad_mapper(number: int) -> Iterator[tuple[int, int]]:
    """Yields a pair, then raises for multiples of 7: a skipped record must add nothing."""
    yield number, 1
    if number % 7 == 0:
        raise ValueError(f"{number} is a multiple of 7")


def slow_mapper(number: int) -> list[tuple[int, int]]:
    time.sleep(0.005)
    return [(number % 5, number)]


def dying_reducer(key: Any, values: Iterable[Any]) -> Any:
    """Kill this worker the first time it reduces key 2 (a marker file remembers)."""
    marker = os.environ["SIMPLEMR_TEST_MARKER"]
    if key == 2 and not os.path.exists(marker):
        open(marker, "w").close()
        os.kill(os.getpid(), signal.SIGKILL)
    return key, sorted(values)


# --- job classes --------------------------------------------------------------------


class HookOrder(simplemr.Job):
    """Checks, in every task, that its hooks run once each and in order: a hook
    out of turn raises (failing the job); each counts itself in ``hooks.*``."""

    def steps(self) -> list[simplemr.Step]:
        return [
            simplemr.Step(
                mapper_init=self.mapper_init,
                mapper=self.mapper,
                mapper_final=self.mapper_final,
                combiner_init=self.combiner_init,
                combiner=self.combiner,
                combiner_final=self.combiner_final,
                reducer_init=self.reducer_init,
                reducer=self.reducer,
                reducer_final=self.reducer_final,
            )
        ]

    def _turn(self, hook: str, expected: str | None, then: str) -> None:
        state = getattr(self, "state", None)
        if state != expected:
            raise AssertionError(f"{hook} ran in state {state!r}, not {expected!r}")
        self.state = then
        self.increment_counter("hooks", hook)

    def mapper_init(self) -> None:
        self._turn("mapper_init", None, "mapper initialised")

    def combiner_init(self) -> None:
        self._turn("combiner_init", "mapper initialised", "mapping")

    def mapper(self, _: None, number: int) -> Iterator[tuple[Any, int]]:
        if self.state != "mapping":
            raise AssertionError(f"mapper ran in state {self.state!r}")
        yield number % 5, number

    def combiner(self, key: Any, values: Iterable[int]) -> Iterator[tuple[Any, int]]:
        if self.state not in ("mapping", "mapper finished"):
            raise AssertionError(f"combiner ran in state {self.state!r}")
        yield key, sum(values)

    def mapper_final(self) -> Iterator[tuple[str, int]]:
        self._turn("mapper_final", "mapping", "mapper finished")
        yield "mapper_final", 1

    def combiner_final(self) -> Iterator[tuple[str, int]]:
        self._turn("combiner_final", "mapper finished", "done")
        yield "combiner_final", 1

    def reducer_init(self) -> None:
        self._turn("reducer_init", None, "reducing")

    def reducer(self, key: Any, values: Iterable[int]) -> Iterator[tuple[Any, int]]:
        if self.state != "reducing":
            raise AssertionError(f"reducer ran in state {self.state!r}")
        yield key, sum(values)

    def reducer_final(self) -> Iterator[tuple[str, int]]:
        self._turn("reducer_final", "reducing", "done")
        yield "reducer_final", 1


def letters_of_words(_: Any, text: str) -> Iterator[tuple[str, int]]:
    for word in text.split():
        yield word, 1


def summed(key: Any, values: Iterable[int]) -> Iterator[tuple[Any, int]]:
    yield key, sum(values)


def count_to_words(word: str, count: int) -> Iterator[tuple[int, str]]:
    yield count, word


def words_by_count(count: int, words: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    yield count, sorted(words)


def by_parity(count: int, words: list[str]) -> Iterator[tuple[str, int]]:
    yield ("even" if count % 2 == 0 else "odd"), len(words)


#: A three-step pipeline, as (mapper, reducer) functions of job-class shape.
PIPELINE = [
    (letters_of_words, summed),
    (count_to_words, words_by_count),
    (by_parity, summed),
]


class ThreeSteps(simplemr.Job):
    """``PIPELINE`` as a job class (the first step with a combiner)."""

    def steps(self) -> list[simplemr.Step]:
        first, second, third = PIPELINE
        return [
            simplemr.Step(mapper=first[0], combiner=summed, reducer=first[1]),
            simplemr.Step(mapper=second[0], reducer=second[1]),
            simplemr.Step(mapper=third[0], reducer=third[1]),
        ]


class CountingDyingOnce(simplemr.Job):
    """Counts records and values in user counters; the worker mapping record 7 is
    killed the first time (a marker file named by $SIMPLEMR_TEST_MARKER remembers)."""

    def mapper(self, _: None, number: int) -> Iterator[tuple[int, int]]:
        self.increment_counter("test", "records")
        if number == 7:
            marker = os.environ["SIMPLEMR_TEST_MARKER"]
            if not os.path.exists(marker):
                open(marker, "w").close()
                os.kill(os.getpid(), signal.SIGKILL)
        yield number % 4, number

    def reducer(self, key: int, values: Iterable[int]) -> Iterator[tuple[int, int]]:
        values = list(values)
        self.increment_counter("test", "values", len(values))
        yield key, sum(values)


def killing_its_dask_worker_once(number: int) -> list[tuple[int, int]]:
    """Kill the worker process the first time it maps 13 ($SIMPLEMR_TEST_MARKER
    remembers): a Dask worker's nanny starts a new one, and Dask runs the task again."""
    if number == 13:
        marker = os.environ.get("SIMPLEMR_TEST_MARKER", "")
        if marker and not os.path.exists(marker):
            open(marker, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)
    simplemr.increment_counter("test", "mapped")
    return [(number % 5, number)]


def padded_pairs(record: tuple[int, int]) -> Iterator[tuple[int, str]]:
    """``copies`` pairs of about 100 bytes for record ``(number, copies)``."""
    number, copies = record
    for copy in range(copies):
        yield (number * copies + copy) % 1000, f"{number:>10}-{copy:>6}".ljust(100, "x")


def value_count(key: int, values: Iterable[str]) -> tuple[int, int]:
    return key, sum(1 for _ in values)


class StorageOptionsSeen:
    """A mapper that maps each line to the storage option ``name`` its task opens URLs
    with, reading it while the other job's mapper runs too: each says when it has
    started and when it has read, with files in ``meeting``, and waits for the other."""

    def __init__(self, meeting: str, me: str, other: str, name: str) -> None:
        self.meeting, self.me, self.other, self.name = meeting, me, other, name

    def _meet(self, step: str) -> None:
        import time

        Path(self.meeting, f"{step}-{self.me}").touch()
        deadline = time.monotonic() + 60
        while not Path(self.meeting, f"{step}-{self.other}").exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"the other job's mapper never got to {step}")
            time.sleep(0.01)

    def __call__(self, line: str) -> list[tuple[str, Any]]:
        from simplemr.io.filesystems import current_storage_options

        self._meet("started")
        seen = current_storage_options().get(self.name)
        self._meet("read")
        return [(line, seen)]
