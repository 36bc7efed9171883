"""Benchmark: what a perfect two-process run of a user job spends beyond its own work,
and so about how far two cores can speed it up, for a framework that reads records as
the loop does.

    python bench/floor.py --sizes 200 --json-lines 3000000

For each job of ``bench/user_jobs.py``, in one fresh process: the serial loop (``L``,
as there), then a *perfect* run on two workers, every phase timed here in one process,
so it has no process to start, no disk, no memory limit, no garbage collector and no
memory bandwidth or cache shared with the other worker:

1. **map**: each worker's half of the input (by bytes) through the mapper into its own
   ``dict`` of lists (and, for a job with a combiner, a second run with each key's
   values folded by it at the end: the faster run counts);
2. **cross**: each worker pickles the keys it holds that belong to the other (half of
   them, by ``hash``; pickling is how ``multiprocessing`` and Dask move objects), and
   unpickles and merges into its own dict what the other sent;
3. **reduce**: each worker's reducer calls;
4. **results**: one worker's results pickled and unpickled to reach the caller (the
   other worker is taken to be the caller itself).

Each phase takes its slower worker's time; the sum is the perfect run's. ``L`` divided
by it is about the ceiling of a two-process speed-up of the job on this machine for
such a framework (the machine drifts between runs; one that parses records faster than
the loop's own reading can pass it). For one
worker in a process of its own the floor is both workers' map and reduce work, done in
one, plus every result pickled to the caller, over ``L``. The perfect run's results must
equal the loop's.
"""

from __future__ import annotations

import gc
import json
import os
import pickle
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
from user_jobs import JOBS, UserJob, build_json_lines, grouped, serial


def halves(files: list[str]) -> tuple[list[str], list[str]]:
    """The files in two lists of about equal bytes (the first-fit of a sorted list)."""
    sized = sorted(files, key=os.path.getsize, reverse=True)
    parts: tuple[list[str], list[str]] = ([], [])
    loads = [0, 0]
    for path in sized:
        lighter = 0 if loads[0] <= loads[1] else 1
        parts[lighter].append(path)
        loads[lighter] += os.path.getsize(path)
    return parts


def map_half(job: UserJob, files: list[str], combine: bool) -> dict[Any, list[Any]]:
    groups = grouped(job, files)
    if combine and job.combiner is not None:
        combiner = job.combiner
        for key, values in groups.items():
            if len(values) > 1:
                values[:] = [combiner(key, iter(values))]
    return groups


def split_out(groups: dict[Any, list[Any]], worker: int) -> list[tuple[Any, list[Any]]]:
    """Take out of ``groups`` the keys the other worker reduces."""
    leaving = [key for key in groups if hash(key) & 1 != worker]
    return [(key, groups.pop(key)) for key in leaving]


def merge_in(groups: dict[Any, list[Any]], items: list[tuple[Any, list[Any]]]) -> None:
    for key, values in items:
        held = groups.get(key)
        if held is None:
            groups[key] = values
        else:
            held.extend(values)


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def perfect_run(
    job: UserJob, files: list[str], combine: bool
) -> tuple[dict[str, float], list[Any]]:
    """The phases of the perfect two-worker run (seconds of the slower worker; and
    ``... total``, of both), and every result."""
    gc.collect()
    gc.disable()
    phases: dict[str, float] = {}
    mapped = [timed(lambda half=half: map_half(job, half, combine)) for half in halves(files)]
    phases["map"] = max(seconds for seconds, _ in mapped)
    phases["map total"] = sum(seconds for seconds, _ in mapped)
    tables = [groups for _, groups in mapped]
    sent = []
    crossing = [0.0, 0.0]
    for worker in (0, 1):
        seconds, data = timed(
            lambda w=worker: pickle.dumps(split_out(tables[w], w), pickle.HIGHEST_PROTOCOL)
        )
        crossing[worker] += seconds
        sent.append(data)
    for worker in (0, 1):
        seconds, _ = timed(lambda w=worker: merge_in(tables[w], pickle.loads(sent[1 - w])))
        crossing[worker] += seconds
    sent.clear()
    phases["cross"] = max(crossing)
    reduced = [
        timed(lambda w=worker: [job.reducer(k, iter(v)) for k, v in tables[w].items()])
        for worker in (0, 1)
    ]
    phases["reduce"] = max(seconds for seconds, _ in reduced)
    phases["reduce total"] = sum(seconds for seconds, _ in reduced)
    phases["results"], back = timed(
        lambda: pickle.loads(pickle.dumps(reduced[1][1], pickle.HIGHEST_PROTOCOL))
    )
    results = reduced[0][1] + back
    phases["all results to a caller"], _ = timed(
        lambda: pickle.loads(pickle.dumps(results, pickle.HIGHEST_PROTOCOL))
    )
    gc.enable()
    return phases, results


TWO_WORKERS = ("map", "cross", "reduce", "results")
ONE_WORKER = ("map total", "reduce total", "all results to a caller")


def run_job(data: Path, job_name: str) -> None:
    job = JOBS[job_name]
    files = harness.corpus_files(data)
    loop_seconds, expected = timed(lambda: serial(job, files))
    reference = harness.digest_of(sorted(expected))
    del expected
    runs = {}
    for combine in (False, True) if job.combiner is not None else (False,):
        phases, results = perfect_run(job, files, combine)
        if harness.digest_of(sorted(results)) != reference:
            sys.exit(f"{job_name}: the perfect run's results differ from the loop's")
        del results
        runs["folded" if combine else "not folded"] = phases
    best = min(runs, key=lambda name: sum(runs[name][phase] for phase in TWO_WORKERS))
    one = min(runs.values(), key=lambda phases: sum(phases[name] for name in ONE_WORKER))
    report = {
        "digest": reference, "seconds": loop_seconds, "phases": runs[best], "map": best,
        "runs": runs,
    }  # fmt: skip
    print(json.dumps({**report, "one worker": sum(one[name] for name in ONE_WORKER)}))


def main() -> None:
    def options(parser) -> None:
        parser.add_argument("--jobs", nargs="+", default=list(JOBS), choices=list(JOBS))
        parser.add_argument("--json-lines", type=int, default=3_000_000)
        parser.add_argument("--job", help="one job, in its own process")

    args = harness.parse_arguments(__doc__, ["floor"], [200], recipe_gib=0, extra=options)
    if args.contender:
        run_job(args.data, args.job)
        return
    print(f"The floor of a two-process run, on {harness.machine()}, {time.strftime('%Y-%m-%d')}\n")
    text = harness.build_corpus(args.sizes[0], args.source)
    print("| job | input (MB) | serial loop L (s) | map (values) | cross | reduce | results "
          "| perfect 2 workers (s) | L / perfect | perfect 1 worker / L |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for job_name in args.jobs:
        data = text if JOBS[job_name].input == "text" else build_json_lines(args.json_lines)
        (row,) = harness.run_contenders(
            __file__, ["floor"], data, args.timeout, 0, args.repeat, extra=["--job", job_name]
        )
        if not row.ok:
            print(f"| {job_name} | failed: {row.note} |")
            continue
        loop, phases = row.reported["seconds"], row.reported["phases"]
        perfect = sum(phases[name] for name in TWO_WORKERS)
        one = row.reported["one worker"] / loop
        size = harness.corpus_bytes(data) / 1e6
        print(f"| {job_name} | {size:.0f} | {loop:.1f} | {phases['map']:.1f} "
              f"({row.reported['map']}) "
              f"| {phases['cross']:.1f} | {phases['reduce']:.1f} | {phases['results']:.1f} "
              f"| {perfect:.1f} | {loop / perfect:.2f}x | {one:.2f} |", flush=True)  # fmt: skip
        record = {"job": job_name, "bytes": size * 1e6, "loop": loop, **row.reported}
        harness.save(harness.HERE / "results" / "floor.jsonl", record)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
