"""Benchmark: a shuffle-heavy inverted index, simplemr against the classic recipe.

Every word's values are its (file, line) positions, with no combiner possible,
so every pair crosses the shuffle. simplemr reads numbered lines
(``input_files(files, "numbered")``), so one large file is mapped in parallel too;
``single`` is the same functions in one process, every position in one dict. The
reducer returns the word's count and its first ten positions in (file, line) order,
keeping bounded state.

    python bench/inverted_index.py --sizes 50 100 200        # build, run, print tables

Each contender runs in its own process; its whole process tree's memory is sampled.
The recipe runs under a memory limit (this machine has no swap).
"""

from __future__ import annotations

import heapq
import json
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
from recipe import RecipeMapReduce

from simplemr.examples.wordcount import _PUNCTUATION_TO_SPACE, STOP_WORDS

CONTENDERS = ["single", "recipe", "simplemr-1", "simplemr-2"]


def positions(path: str) -> Iterator[tuple[str, tuple[str, int]]]:
    """Yield (word, (file, line number)) for every word of a file, by the word count rules."""
    name = Path(path).name
    with open(path, encoding="utf-8", errors="replace") as file:
        for number, line in enumerate(file, 1):
            if line.lstrip().startswith(".."):
                continue
            for word in line.translate(_PUNCTUATION_TO_SPACE).lower().split():
                if word.isalpha() and word not in STOP_WORDS:
                    yield word, (name, number)


def numbered_positions(record: tuple[str, int, str]) -> Iterator[tuple[str, tuple[str, int]]]:
    """``positions`` of one numbered line (``input_files(..., "numbered")``)."""
    path, number, line = record
    if line.lstrip().startswith(".."):
        return
    name = path.rsplit("/", 1)[-1]
    for word in line.translate(_PUNCTUATION_TO_SPACE).lower().split():
        if word.isalpha() and word not in STOP_WORDS:
            yield word, (name, number)


def single_process(files: list[str]) -> Iterator[tuple[str, int, list]]:
    """The index in one process: every position in one dict of lists."""
    places: dict[str, list[tuple[str, int]]] = {}
    for path in files:
        for word, place in positions(path):
            found = places.get(word)
            if found is None:
                places[word] = [place]
            else:
                found.append(place)
    return (summarise(word, found) for word, found in places.items())


def positions_list(path: str) -> list[tuple[str, tuple[str, int]]]:
    return list(positions(path))


def summarise(word: str, places: Iterable[tuple[str, int]]) -> tuple[str, int, list]:
    """(word, how many places, the first ten places), in bounded memory."""
    counted = _Counting(places)
    first = heapq.nsmallest(10, counted)
    return word, counted.count, first


class _Counting:
    def __init__(self, items: Iterable) -> None:
        self.items, self.count = items, 0

    def __iter__(self) -> Iterator:
        for item in self.items:
            self.count += 1
            yield item


def summarise_pair(item: tuple[str, list]) -> tuple[str, int, list]:
    return summarise(*item)


def run_contender(name: str, data: Path) -> None:
    import simplemr

    files = harness.corpus_files(data)
    if name == "single":
        digest = harness.digest_of(single_process(files))
    elif name == "recipe":
        digest = harness.digest_of(RecipeMapReduce(positions_list, summarise_pair, 2)(files))
    else:
        workers = int(name.split("-")[1])
        job = simplemr.MapReduce(numbered_positions, summarise, workers=workers)
        with job.stream(simplemr.input_files(files, "numbered")) as results:  # from disk
            digest = harness.digest_of(results)
    print(json.dumps({"digest": digest}))


def main() -> None:
    def shapes(parser) -> None:
        parser.add_argument("--shapes", nargs="+", default=["files"], choices=["files", "single"])

    args = harness.parse_arguments(__doc__, CONTENDERS, [50, 100, 200], recipe_gib=12, extra=shapes)
    if args.contender:
        run_contender(args.contender, args.data)
        return
    print(f"Inverted index on {harness.machine()}, {time.strftime('%Y-%m-%d')}\n")
    for size, shape in ((size, shape) for size in args.sizes for shape in args.shapes):
        data = harness.build_corpus(size, args.source, single_file=shape == "single")
        total = harness.corpus_bytes(data)
        rows = harness.run_contenders(
            __file__, args.contenders, data, args.timeout, args.recipe_memory << 30, args.repeat
        )
        reference = next((row.digest for row in rows if row.ok), None)
        print(f"### {total / 1e6:.0f} MB in {len(harness.corpus_files(data))} files\n")
        print(harness.table(rows, total, reference) + "\n", flush=True)
        harness.save(harness.HERE / "results" / "inverted_index.jsonl",
                     {"size_mb": size, "shape": shape,
                      "rows": [harness.asdict(row) for row in rows]})  # fmt: skip


if __name__ == "__main__":
    main()
