"""Where a job's time goes: user code, reading input, the engine's map and reduce
sides, pickling for the shuffle, and start-up.

    .venv/bin/pip install py-spy
    python bench/where_time_goes.py --sizes 20 --json-lines 300000

Each of ``user_jobs.py``'s jobs runs with ``executor="inline"`` (one process, so one
profile holds every task) under ``py-spy record``; each sample is put in the first
category its stack matches, from the leaf up: user code (a frame of ``user_jobs.py``),
pickling (the engine's pickle calls), reading input (``io/``'s ``textfiles.py``,
``reading.py``, ``formats.py``, ``numbered.py``), map side (``maptask.py``), reduce
side (``reducetask.py``, ``sorting.py``), else the driver. Start-up is measured apart:
a job of ten records on two local workers, wall time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
import user_jobs

PICKLING = ("dumps", "load_batch", "read_pickles", "read_segment", "read_batch_lists",
            "load_segment")  # fmt: skip
READING = ("textfiles.py", "formats.py", "numbered.py", "reading.py", "paths.py")


def category(stack: list[str]) -> str:
    if any("user_jobs.py" in frame for frame in stack):
        return "user code"
    leaf = stack[-1].split(" (")[0]
    if leaf in PICKLING:
        return "pickling"
    for frame in reversed(stack):
        if any(name in frame for name in READING):
            return "reading input"
        if "maptask.py" in frame:
            return "map side"
        if "reducetask.py" in frame or "sorting.py" in frame:
            return "reduce side"
    return "driver"


def profile(job_name: str, data: Path) -> tuple[float, Counter]:
    with tempfile.NamedTemporaryFile(suffix=".txt") as raw:
        command = [
            "py-spy", "record", "-r", "250", "-f", "raw", "-o", raw.name, "--",
            sys.executable, __file__, "--contender", job_name, "--data", str(data),
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        [report] = [line for line in done.stdout.splitlines() if line.startswith("{")]
        seconds = json.loads(report)["seconds"]
        shares: Counter = Counter()
        for line in Path(raw.name).read_text().splitlines():
            stack, count = line.rsplit(" ", 1)
            shares[category(stack.split(";"))] += int(count)
    return seconds, shares


def start_up() -> float:
    import simplemr

    started = time.perf_counter()
    simplemr.MapReduce(lambda n: [(n, 1)], lambda k, v: k, workers=2).run(range(10))
    return time.perf_counter() - started


def main() -> None:
    def options(parser) -> None:
        parser.add_argument("--jobs", nargs="+", default=list(user_jobs.JOBS))
        parser.add_argument("--json-lines", type=int, default=300_000)

    args = harness.parse_arguments(__doc__, ["inline"], [20], recipe_gib=0, extra=options)
    if args.contender:  # one inline run, in the profiled process
        import simplemr

        job = user_jobs.JOBS[args.contender]
        files = harness.corpus_files(args.data)
        mr = simplemr.MapReduce(job.mapper, job.reducer, job.combiner, executor="inline")
        started = time.perf_counter()
        mr.run(simplemr.input_files(files, job.input))
        print(json.dumps({"seconds": time.perf_counter() - started}))
        return
    print(f"Where the time goes, {harness.machine()}, {time.strftime('%Y-%m-%d')}\n")
    print(f"Start-up of 2 local workers and a job of ten records: {start_up():.2f} s\n")
    columns = ["user code", "reading input", "map side", "pickling", "reduce side", "driver"]
    print("| job | seconds (inline, profiled) | " + " | ".join(columns) + " |")
    print("|---|---:|" + "---:|" * len(columns))
    text = harness.build_corpus(args.sizes[0], args.source)
    for job_name in args.jobs:
        kind = user_jobs.JOBS[job_name].input
        data = text if kind == "text" else user_jobs.build_json_lines(args.json_lines)
        seconds, shares = profile(job_name, data)
        total = sum(shares.values()) or 1
        cells = " | ".join(f"{shares[name] / total:.0%}" for name in columns)
        print(f"| {job_name} | {seconds:.1f} | {cells} |", flush=True)


if __name__ == "__main__":
    main()
