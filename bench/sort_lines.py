"""Benchmark: sorting lines by a field, simplemr's ranges against GNU sort and against
the driver's merge of sorted partitions.

    python bench/sort_lines.py --sizes 1000 --repeat 3

Input: tab-separated lines (``row<TAB>key<TAB>text``, about 100 bytes), keys random.
Each contender sorts by field 2 and writes its output; a check (the same for all, left
out of the timings) reads it back and hashes the sequence of keys.

- ``gnu-sort``: ``LC_ALL=C sort -t TAB -k2,2 --parallel=2 -S 192M`` (the memory of
  simplemr's default budget for two workers), to one file;
- ``simplemr-2``: ``simplemr.examples.sort_lines`` with 2 workers: a sample cuts the
  keys into ordered ranges, one a reduce task, each writing its part of a folder;
- ``simplemr-2-merge``: the same job with a reducer that passes each line through,
  which sorts as simplemr did before ranges: every partition sorted, then merged into
  one file by the driver.

Each contender runs in its own process, rounds interleaved, the median kept; CPU of the
whole process tree from a cpuacct cgroup; the driver's share is its own CPU (the
process that ran the job) over the tree's.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness

from simplemr.examples.sort_lines import SortLines

CONTENDERS = ["gnu-sort", "simplemr-2", "simplemr-2-merge"]
SORT_MEMORY = "192M"


def build_lines(megabytes: int) -> Path:
    """``megabytes`` MB of tab-separated lines with a random key in field 2, in 8
    files; reused once built."""
    target = harness.DATA / f"lines-{megabytes}MB"
    if (target / "_COMPLETE").exists():
        return target
    target.mkdir(parents=True, exist_ok=True)
    chance = random.Random(20261207)
    words = ["the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was"]
    per_file = megabytes * 1_000_000 // 8
    row = 0
    for number in range(8):
        written = 0
        with open(target / f"lines-{number}.tsv", "w") as file:
            while written < per_file:
                text = " ".join(chance.choices(words, k=12))
                line = f"r{row:09d}\t{chance.getrandbits(40):012x}\t{text}\n"
                file.write(line)
                written += len(line)
                row += 1
    (target / "_COMPLETE").write_text(str(row))
    return target


def _lines(paths: list[Path]) -> Iterator[str]:
    for path in paths:
        with open(path) as file:
            yield from file


def key_digest(paths: list[Path]) -> str:
    """A hash of the key of every line of ``paths`` read in order, and their count."""
    digest, count = hashlib.sha256(), 0
    for line in _lines(paths):
        digest.update(line.split("\t", 2)[1].encode())
        count += 1
    return f"{count}:{digest.hexdigest()[:16]}"


def run_contender(name: str, data: Path) -> None:
    files = harness.corpus_files(data)
    out = Path(os.environ.get("TMPDIR", "/tmp")) / f"sorted-{os.getpid()}"
    started = time.perf_counter()
    if name == "gnu-sort":
        subprocess.run(
            ["sort", "-t", "\t", "-k2,2", "--parallel=2", "-S", SORT_MEMORY, "-o", str(out),
             *files],
            check=True, env={**os.environ, "LC_ALL": "C"},
        )  # fmt: skip
        outputs = [out]
    else:
        job: Any = SortLines(field=2) if name == "simplemr-2" else Merged(field=2)
        job.run(job.files(files), output=str(out), workers=2)
        outputs = sorted(out.glob("part-*"))
    seconds = time.perf_counter() - started
    driver_cpu = harness.own_cpu_seconds()
    checking, checking_cpu = time.perf_counter(), driver_cpu
    digest = key_digest(outputs)
    shutil.rmtree(out, ignore_errors=True) if out.is_dir() else out.unlink()
    print(json.dumps({
        "digest": digest, "seconds": seconds, "driver_cpu": driver_cpu,
        "check_seconds": time.perf_counter() - checking,
        "check_cpu": harness.own_cpu_seconds() - checking_cpu, "parts": len(outputs),
    }))  # fmt: skip


class Merged(SortLines):
    """SortLines with a reducer that passes each line through: its results may have
    keys of its own, so its partitions are merged by the driver."""

    def reducer(self, key: Any, lines: Any) -> Any:
        for line in lines:
            yield key, line


def main() -> None:
    args = harness.parse_arguments(__doc__, CONTENDERS, [1000], recipe_gib=0)
    if args.contender:
        run_contender(args.contender, args.data)
        return
    print(f"Sorting lines on {harness.machine()}, {time.strftime('%Y-%m-%d')}\n")
    for size in args.sizes:
        data = build_lines(size)
        rows = harness.run_contenders(__file__, args.contenders, data, args.timeout, 0, args.repeat)
        reference = next(
            (row.digest for row in rows if row.ok and row.contender == "gnu-sort"), None
        )
        total = harness.corpus_bytes(data)
        print(f"### {total / 1e6:.0f} MB in {len(harness.corpus_files(data))} files\n")
        print(harness.table(rows, total, reference) + "\n")
        print("| contender | wall (s) | CPU of the tree (s) | driver's share of CPU | parts |")
        print("|---|---:|---:|---:|---:|")
        for row in rows:
            if row.ok:
                wall = row.seconds - row.reported.get("check_seconds", 0.0)
                cpu = row.cpu_seconds - row.reported.get("check_cpu", 0.0)
                share = row.reported["driver_cpu"] / cpu if row.contender != "gnu-sort" else 0
                shown = f"{share:.1%}" if row.contender != "gnu-sort" else "-"
                print(f"| {row.contender} | {wall:.1f} | {cpu:.1f} | {shown} "
                      f"| {row.reported.get('parts')} |")  # fmt: skip
        harness.save(harness.HERE / "results" / "sort_lines.jsonl",
                     {"size_mb": size, "rows": [harness.asdict(r) for r in rows]})  # fmt: skip


if __name__ == "__main__":
    main()
