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
from typing import Any

from reference import as_multiset


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
