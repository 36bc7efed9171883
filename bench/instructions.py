"""Benchmark: instructions, the measure that does not drift, of each user job run
inline by simplemr against the same functions in a plain loop.

    python bench/instructions.py --sizes 3 --json-lines 25000

Each contender of ``user_jobs.py`` runs once under ``valgrind --tool=callgrind
--trace-children=yes``, which prints every process's instruction total. Two empty
runs are subtracted: the interpreter with the benchmark's own imports (from the
loop), and the same plus ``import simplemr`` (from simplemr's run); the cost of that
import is reported on its own. The results are counted, not checked: the check (a
sort and a digest of every result) is the same for every contender. On a shared
machine a timing can move by 40%; the same binary on the same input executes the
same instructions, within a fraction of a percent, whatever else runs.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
import user_jobs

COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def instructions(data: Path, contender: str, job: str) -> int:
    """The instructions of every process of one contender's run, summed."""
    command = [
        "valgrind", "--tool=callgrind", "--trace-children=yes", "--callgrind-out-file=/dev/null",
        sys.executable, user_jobs.__file__, "--contender", contender, "--data", str(data),
        "--job", job, "--unchecked",
    ]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        sys.exit(f"{contender} on {job} failed:\n{run.stderr[-2000:]}")
    return sum(int(count) for count in COLLECTED.findall(run.stderr))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs=1, default=[3], help="MiB of text")
    parser.add_argument("--json-lines", type=int, default=25_000)
    parser.add_argument("--jobs", nargs="+", default=list(user_jobs.JOBS))
    parser.add_argument("--source", type=Path, default=harness.DEFAULT_SOURCE)
    args = parser.parse_args()
    text = harness.build_corpus(args.sizes[0], args.source)
    jsonl = user_jobs.build_json_lines(args.json_lines)
    megabytes = harness.corpus_bytes(text) / 1e6
    print(f"Instructions on {harness.machine()}, {time.strftime('%Y-%m-%d')}: "
          f"{megabytes:.1f} MB of text, {args.json_lines} JSON lines\n")  # fmt: skip
    first_job = args.jobs[0]
    empty = instructions(text, "nothing", first_job)
    imported = instructions(text, "import-simplemr", first_job)
    print(f"interpreter and benchmark imports: {empty / 1e6:.0f} M; "
          f"import simplemr: {(imported - empty) / 1e6:.0f} M more\n")  # fmt: skip
    print("| job | loop (M instructions) | simplemr inline (M) | simplemr / loop |")
    print("|---|---:|---:|---:|")
    for job in args.jobs:
        data = text if user_jobs.JOBS[job].input == "text" else jsonl
        loop = instructions(data, "serial", job) - empty
        engine = instructions(data, "simplemr-inline", job) - imported
        row = f"| {job} | {loop / 1e6:.0f} | {engine / 1e6:.0f} | {engine / loop:.2f} |"
        print(row, flush=True)


if __name__ == "__main__":
    main()
