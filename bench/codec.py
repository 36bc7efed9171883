"""Benchmark: instructions to write and read one batch of 4096 bigram items, pickled
(as ``io/batches.dumps`` pickles: no memo) against the compact encoding of the
compiled core (``core/codec.py``).

    python bench/codec.py

Each way runs in its own process under ``valgrind --tool=callgrind``, once with no
round and once with ``--rounds``; the difference over the rounds is one round's
instructions (a load includes freeing the batch it replaces, the same for both).
"""

from __future__ import annotations

import argparse
import collections
import io
import itertools
import pickle
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness

WAYS = ("pickle-dump", "compact-dump", "pickle-load", "compact-load")
COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def batch_of_bigrams(source: Path) -> list:
    """4096 ``(bigram, [count])`` items of a book, as a spill of bigrams holds them."""
    text = Path(harness.corpus_files(harness.build_corpus(3, source))[0]).read_text()
    words = text.split()
    counts = collections.Counter(itertools.pairwise(words))
    return [(pair, [count]) for pair, count in list(counts.items())[:4096]]


def run_way(way: str, rounds: int, source: Path) -> None:
    from simplemr import core

    if core.compiled is None:
        sys.exit("the compiled core is not built")
    batch = batch_of_bigrams(source)

    def pickled() -> bytes:
        buffer = io.BytesIO()
        pickler = pickle.Pickler(buffer, pickle.HIGHEST_PROTOCOL)
        pickler.fast = True
        pickler.dump(batch)
        return buffer.getvalue()

    pickled_bytes, compact_bytes = pickled(), core.compiled.encode_batch(batch)
    step = {
        "pickle-dump": pickled,
        "compact-dump": lambda: core.compiled.encode_batch(batch),
        "pickle-load": lambda: pickle.loads(pickled_bytes),
        "compact-load": lambda: pickle.loads(compact_bytes),
    }[way]
    for _ in range(rounds):
        step()


def instructions(way: str, rounds: int, source: Path) -> int:
    command = [
        "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
        __file__, "--way", way, "--rounds", str(rounds), "--source", str(source),
    ]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, check=True)
    return int(COLLECTED.findall(run.stderr)[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--way", choices=WAYS, help="one way, in this process")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--source", type=Path, default=harness.DEFAULT_SOURCE)
    args = parser.parse_args()
    if args.way:
        run_way(args.way, args.rounds, args.source)
        return
    print(f"One batch of 4096 bigram items on {harness.machine()}\n")
    print("| way | instructions a batch (M) |\n|---|---:|")
    for way in WAYS:
        rounds = instructions(way, args.rounds, args.source) - instructions(way, 0, args.source)
        print(f"| {way} | {rounds / args.rounds / 1e6:.1f} |", flush=True)


if __name__ == "__main__":
    main()
