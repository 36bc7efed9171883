"""Benchmark: a shuffle-heavy inverted index, simplemr against the classic recipe.

Every word's values are its (file, line) positions, with no combiner possible,
so every pair crosses the shuffle. The reducer returns the word's count and its
first ten positions in (file, line) order, keeping bounded state.

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

CONTENDERS = ["recipe", "simplemr-1", "simplemr-2"]


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
    if name == "recipe":
        digest = harness.digest_of(RecipeMapReduce(positions_list, summarise_pair, 2)(files))
    else:
        workers = int(name.split("-")[1])
        job = simplemr.MapReduce(positions, summarise, workers=workers)
        with job.stream(files) as results:  # results stream from disk
            digest = harness.digest_of(results)
    print(json.dumps({"digest": digest}))


def main() -> None:
    args = harness.parse_arguments(__doc__, CONTENDERS, [50, 100, 200], recipe_gib=12)
    if args.contender:
        run_contender(args.contender, args.data)
        return
    print(f"Inverted index on {harness.machine()}, {time.strftime('%Y-%m-%d')}\n")
    for size in args.sizes:
        data = harness.build_corpus(size, args.source)
        total = harness.corpus_bytes(data)
        rows = harness.run_contenders(
            __file__, args.contenders, data, args.timeout, args.recipe_memory << 30, args.repeat
        )
        reference = next((row.digest for row in rows if row.ok), None)
        print(f"### {total / 1e6:.0f} MB in {len(harness.corpus_files(data))} files\n")
        print(harness.table(rows, total, reference) + "\n", flush=True)
        harness.save(harness.HERE / "results" / "inverted_index.jsonl",
                     {"size_mb": size, "rows": [harness.asdict(row) for row in rows]})  # fmt: skip


if __name__ == "__main__":
    main()
