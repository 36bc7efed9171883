"""Benchmark: the recipe's API on many small items, simplemr's drop-in against the
recipe itself.

    python bench/many_items.py --items 30000 --repeat 3

Both contenders get the same 30,000 short log lines (made in each process from a
fixed seed) and the same map and reduce functions, with 2 workers and the recipe's
default ``chunksize=1``:

- ``recipe``: the classic ``RecipeMapReduce`` (``Pool.map``, grouped in the parent);
- ``simplemr``: ``simplemr.SimpleMapReduce``, the drop-in.

Their results, sorted, must be equal; the table says so.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness

CONTENDERS = ["recipe", "simplemr"]


def log_lines(count: int) -> list[str]:
    chance = random.Random(20261207)
    paths = [f"/shop/item/{n}" for n in range(500)]
    return [
        f"10.0.{chance.randrange(256)}.{chance.randrange(256)} GET "
        f"{chance.choice(paths)} {chance.choice([200, 200, 200, 304, 404, 500])}"
        for _ in range(count)
    ]


def status_of(line: str) -> list[tuple[str, int]]:
    return [(line.rsplit(" ", 1)[1], 1)]


def count(item: tuple[str, list[int]]) -> tuple[str, int]:
    status, ones = item
    return status, sum(ones)


def run_contender(name: str, items: int) -> None:
    lines = log_lines(items)
    started = time.perf_counter()
    if name == "recipe":
        from recipe import RecipeMapReduce

        results = RecipeMapReduce(status_of, count, 2)(lines)
    else:
        from simplemr import SimpleMapReduce

        results = SimpleMapReduce(status_of, count, 2)(lines)
    seconds = time.perf_counter() - started
    print(json.dumps({"digest": harness.digest_of(sorted(results)), "seconds": seconds}))


def main() -> None:
    def options(parser) -> None:
        parser.add_argument("--items", type=int, default=30_000)

    args = harness.parse_arguments(__doc__, CONTENDERS, [0], recipe_gib=4, extra=options)
    if args.contender:
        run_contender(args.contender, args.items)
        return
    print(f"The recipe's API on {args.items} items, {harness.machine()}, "
          f"{time.strftime('%Y-%m-%d')}\n")  # fmt: skip
    harness.DATA.mkdir(parents=True, exist_ok=True)
    rows = harness.run_contenders(
        __file__, args.contenders, harness.DATA, args.timeout, args.recipe_memory << 30,
        args.repeat, extra=["--items", str(args.items)],
    )  # fmt: skip
    reference = next((row.digest for row in rows if row.ok and row.contender == "recipe"), None)
    print(harness.table(rows, sum(len(line) + 1 for line in log_lines(args.items)), reference))
    for row in rows:
        print(f"{row.contender}: the job's own {row.reported.get('seconds', 0):.2f} s")


if __name__ == "__main__":
    main()
