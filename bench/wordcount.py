"""Benchmark: word count, simplemr against the classic recipe and a single process.

    python bench/wordcount.py --sizes 100 1000 --repeat 3

For each size the corpus is built twice from real text: as many files and as one
file. Contenders, each in a fresh process, on the same files in one run:

- ``simplemr-1`` / ``simplemr-2``: ``simplemr.examples.wordcount`` with 1 and 2 workers;
- ``recipe``: the classic SimpleMapReduce (``Pool.map`` of per-file lists of
  ``(word, 1)``, grouped in the parent, ``Pool.map`` to sum) with 2 workers, under a
  memory limit: it keeps every pair in memory and this machine has no swap;
- ``single``: the fastest single-process Python of the rules we could write: the same
  byte-level counting kernel simplemr's job uses, over 4 MiB blocks, with no framework.

Every contender's full counts must be equal; the table says so.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
from recipe import RecipeMapReduce, count_words, file_to_words

CONTENDERS = ["single", "recipe", "simplemr-1", "simplemr-2"]
BLOCK = 4 * 1024 * 1024  # the single process's fastest block size here (1, 2, 4 MiB tried)


# --- the single-process baseline -----------------------------------------------------


def single_process(files: list[str]) -> Counter:
    """Read each file in blocks cut after a line ending; count each block."""
    from simplemr.examples.wordcount import count_bytes

    totals: Counter = Counter()
    for path in files:
        with open(path, "rb") as file:
            carry = b""
            while True:
                data = file.read(BLOCK)
                if not data:
                    if carry:
                        totals.update(count_bytes(carry))
                    break
                data = carry + data
                cut = max(data.rfind(b"\n"), data.rfind(b"\r", 0, len(data) - 1))
                if cut < 0:
                    carry = data
                    continue
                carry = data[cut + 1 :]
                totals.update(count_bytes(data[: cut + 1]))
    return totals


def run_contender(name: str, data: Path) -> None:
    files = harness.corpus_files(data)
    if name == "single":
        rows = single_process(files).items()
    elif name == "recipe":
        rows = RecipeMapReduce(file_to_words, count_words, 2)(files)
    else:
        import simplemr
        from simplemr.examples import wordcount

        job = wordcount.job(workers=int(name.split("-")[1]))
        with job.stream(simplemr.text_files(files)) as results:
            rows = list(results)
    print(json.dumps({"digest": harness.digest_of(rows)}))


def main() -> None:
    def shapes(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--shapes", nargs="+", default=["files", "single"])

    args = harness.parse_arguments(__doc__, CONTENDERS, [100], recipe_gib=16, extra=shapes)
    if args.contender:
        run_contender(args.contender, args.data)
        return
    print(f"Word count on {harness.machine()}, {time.strftime('%Y-%m-%d')}\n")
    for size in args.sizes:
        for shape in args.shapes:
            data = harness.build_corpus(size, args.source, single_file=shape == "single")
            total = harness.corpus_bytes(data)
            rows = harness.run_contenders(
                __file__, args.contenders, data, args.timeout, args.recipe_memory << 30, args.repeat
            )
            reference = next(
                (row.digest for row in rows if row.ok and row.contender == "single"), None
            )
            files = len(harness.corpus_files(data))
            print(f"### {total / 1e6:.0f} MB in {files} file{'s' if files > 1 else ''}\n")
            print(harness.table(rows, total, reference) + "\n", flush=True)
            record = {"size_mb": size, "shape": shape, "rows": [harness.asdict(r) for r in rows]}
            harness.save(harness.HERE / "results" / "wordcount.jsonl", record)


if __name__ == "__main__":
    main()
