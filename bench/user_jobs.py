"""Benchmark: jobs shaped like the ones users write, against the same functions in a
plain loop.

    python bench/user_jobs.py --sizes 200 --json-lines 3000000

Each job is a per-record mapper, a reducer and maybe a combiner (below). Contenders,
each in a fresh process, interleaved round by round on the same files:

- ``serial``: the same functions in the plainest loop: read every record, group
  every pair in one ``dict`` of lists, call the reducer once per key (the recipe's
  logic without its processes, and no combiner: the loop needs none);
- ``simplemr-1`` / ``simplemr-2``: ``simplemr.MapReduce(mapper, reducer, combiner,
  workers=N).run(simplemr.input_files(...))``;
- ``dask-bag``: ``dask.bag`` on its processes scheduler with 2 workers: ``foldby`` with
  the combiner where there is one, else ``groupby``;
- ``recipe``: the classic ``Pool.map`` recipe with 2 workers running the same
  functions (every pair held in its parent).

Every contender's results, sorted, must be equal; the table says so.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness

CONTENDERS = ["serial", "simplemr-1", "simplemr-2", "dask-bag", "recipe"]
#: Contenders for counting instructions (``bench/instructions.py``): the job inline
#: in one process, and the two empty runs whose counts are subtracted.
INSTRUCTION_CONTENDERS = ["simplemr-inline", "nothing", "import-simplemr"]


# --- the jobs ------------------------------------------------------------------------


def tokens(line: str) -> Iterator[tuple[str, int]]:
    for word in line.split():
        yield word.lower(), 1


def bigrams(line: str) -> Iterator[tuple[tuple[str, str], int]]:
    words = line.lower().split()
    for pair in itertools.pairwise(words):
        yield pair, 1


def word_lengths(line: str) -> Iterator[tuple[str, int]]:
    for word in line.split():
        yield word.lower(), len(line)


def sales(record: dict) -> Iterator[tuple[tuple[str, str], int]]:
    yield (record["country"], record["item"]), record["cents"]


def by_order(record: dict) -> Iterator[tuple[str, tuple[str, int]]]:
    yield record["order"], (record["country"], record["cents"])


def add(key: object, values: Iterable[int]) -> int:
    return sum(values)


def total(key: object, values: Iterable[int]) -> tuple[object, int]:
    return key, sum(values)


def count_and_longest(key: str, values: Iterable[int]) -> tuple[str, int, int]:
    count = longest = 0
    for value in values:
        count += 1
        longest = max(longest, value)
    return key, count, longest


def first(key: str, values: Iterable[tuple[str, int]]) -> tuple[str, str, int]:
    country, cents = min(values)
    return key, country, cents


@dataclass(frozen=True)
class UserJob:
    mapper: Callable
    reducer: Callable
    combiner: Callable | None
    input: str  # "text" or "jsonl"


JOBS = {
    "tokens": UserJob(tokens, total, add, "text"),
    "bigrams": UserJob(bigrams, total, add, "text"),
    "no-combiner": UserJob(word_lengths, count_and_longest, None, "text"),
    "json-group-by": UserJob(sales, total, add, "jsonl"),
    "distinct-keys": UserJob(by_order, first, None, "jsonl"),
}


# --- the inputs ----------------------------------------------------------------------


def build_json_lines(count: int, files: int = 16) -> Path:
    """``count`` order records as JSON lines in ``files`` files; reuse if built."""
    target = harness.DATA / f"orders-{count}"
    if (target / "_COMPLETE").exists():
        return target
    target.mkdir(parents=True, exist_ok=True)
    chance = random.Random(20261201)
    countries = [f"{a}{b}" for a in "abcdefghij" for b in "klmnopqrst"]  # 100
    items = [f"item-{n:04d}" for n in range(2000)]
    per_file = -(-count // files)
    written = 0
    for number in range(files):
        with open(target / f"orders-{number:02d}.jsonl", "w") as file:
            for _ in range(min(per_file, count - written)):
                record = {
                    "order": f"o{written:09d}-{chance.randrange(10**6):06d}",
                    "country": chance.choice(countries),
                    "item": chance.choice(items),
                    "cents": chance.randrange(1, 100_000),
                    "note": chance.choice(["", "gift", "express", "returned later"]),
                }
                file.write(json.dumps(record) + "\n")
                written += 1
    (target / "_COMPLETE").write_text(str(written))
    return target


def records_of(path: str, kind: str) -> Iterator:
    """Every record of one file as simplemr reads it: lines without their endings
    (``\\n``, ``\\r\\n`` or ``\\r``, as universal newlines), or parsed JSON lines."""
    with open(path, encoding="utf-8", errors="replace") as file:
        if kind == "jsonl":
            for line in file:
                if line.strip():
                    yield json.loads(line)
        else:
            for line in file:
                yield line.rstrip("\n")


# --- the contenders ------------------------------------------------------------------


def serial(job: UserJob, files: list[str]) -> list:
    return [job.reducer(key, iter(values)) for key, values in grouped(job, files).items()]


def grouped(job: UserJob, files: list[str]) -> dict:
    """Every pair the mapper yields for the records of ``files``, grouped by key."""
    groups: dict = {}
    mapper = job.mapper
    for path in files:
        for record in records_of(path, job.input):
            for key, value in mapper(record):
                values = groups.get(key)
                if values is None:
                    groups[key] = [value]
                else:
                    values.append(value)
    return groups


def with_simplemr(
    job: UserJob, files: list[str], workers: int, memory: str | None, executor: str | None = None
) -> list:
    import simplemr

    mr = simplemr.MapReduce(
        job.mapper, job.reducer, job.combiner, workers=workers, memory=memory, executor=executor
    )
    return mr.run(simplemr.input_files(files, job.input)).results


def with_dask_bag(job: UserJob, files: list[str]) -> list:
    import dask
    import dask.bag as db

    def map_file(path: str) -> list:
        return [pair for record in records_of(path, job.input) for pair in job.mapper(record)]

    pairs = db.from_sequence(files, npartitions=len(files)).map(map_file).flatten()
    with dask.config.set(scheduler="processes", num_workers=2):
        if job.combiner is None:
            grouped = pairs.groupby(lambda pair: pair[0])
            return grouped.map(lambda kv: job.reducer(kv[0], (v for _, v in kv[1]))).compute()
        combine = job.combiner

        def fold(held: object, pair: tuple) -> object:
            return pair[1] if held is None else combine(pair[0], iter((held, pair[1])))

        folded = pairs.foldby(
            lambda pair: pair[0],
            fold,
            None,
            lambda a, b: b if a is None else a if b is None else combine(None, iter((a, b))),
            None,
        )
        return folded.map(lambda kv: job.reducer(kv[0], iter((kv[1],)))).compute()


def _recipe_map(arguments: tuple) -> list:
    job, path = arguments
    return [pair for record in records_of(path, job.input) for pair in job.mapper(record)]


def _recipe_reduce(arguments: tuple) -> object:
    reducer, (key, values) = arguments
    return reducer(key, iter(values))


def with_recipe(job: UserJob, files: list[str]) -> list:
    from recipe import RecipeMapReduce

    recipe = RecipeMapReduce(_recipe_map, _recipe_reduce, 2)
    mapped = recipe.pool.map(_recipe_map, [(job, path) for path in files])
    groups = recipe.partition(pair for pairs in mapped for pair in pairs)
    return recipe.pool.map(_recipe_reduce, [(job.reducer, item) for item in groups])


def run_contender(
    name: str, data: Path, job_name: str, memory: str | None, checked: bool = True
) -> None:
    job = JOBS[job_name]
    files = harness.corpus_files(data)
    started = time.perf_counter()
    if name == "serial":
        results = serial(job, files)
    elif name == "simplemr-inline":
        results = with_simplemr(job, files, 1, memory, executor="inline")
    elif name == "nothing":
        results = []
    elif name == "import-simplemr":
        import simplemr  # noqa: F401

        results = []
    elif name.startswith("simplemr-"):
        results = with_simplemr(job, files, int(name.split("-")[1]), memory)
    elif name == "dask-bag":
        results = with_dask_bag(job, files)
    else:
        results = with_recipe(job, files)
    seconds = time.perf_counter() - started  # the job, not the checking of its output
    driver_cpu = harness.own_cpu_seconds()  # the whole process so far: start, imports, job
    checking, checking_cpu = time.perf_counter(), driver_cpu
    # Unchecked (for counting instructions): the check, the same for every contender,
    # would add as many instructions as the loop's own work, and hide the difference.
    digest = harness.digest_of(sorted(results)) if checked else f"{len(results)} results"
    print(json.dumps({
        "digest": digest, "seconds": seconds, "driver_cpu": driver_cpu,
        "check_seconds": time.perf_counter() - checking,
        "check_cpu": harness.own_cpu_seconds() - checking_cpu,
    }))  # fmt: skip


def main() -> None:
    def options(parser) -> None:
        parser.add_argument("--jobs", nargs="+", default=list(JOBS), choices=list(JOBS))
        parser.add_argument("--json-lines", type=int, default=3_000_000)
        parser.add_argument("--job", help="one job, in the contender's process")
        parser.add_argument(
            "--memory", help="simplemr's budget for the whole job (default: its own)"
        )
        parser.add_argument(
            "--unchecked", action="store_true", help="count the results, leave their check out"
        )

    args = harness.parse_arguments(
        __doc__, CONTENDERS, [200], recipe_gib=16, extra=options,
        hidden_contenders=INSTRUCTION_CONTENDERS,
    )  # fmt: skip
    if args.contender:
        run_contender(args.contender, args.data, args.job, args.memory, not args.unchecked)
        return
    print(f"User-shaped jobs on {harness.machine()}, {time.strftime('%Y-%m-%d')}\n")
    text = harness.build_corpus(args.sizes[0], args.source)
    summary: list[tuple[str, dict]] = []
    for job_name in args.jobs:
        data = text if JOBS[job_name].input == "text" else build_json_lines(args.json_lines)
        total = harness.corpus_bytes(data)
        rows = harness.run_contenders(
            __file__, args.contenders, data, args.timeout, args.recipe_memory << 30,
            args.repeat,
            extra=["--job", job_name, *(["--memory", args.memory] if args.memory else [])],
        )  # fmt: skip
        reference = next((row.digest for row in rows if row.ok and row.contender == "serial"), None)
        print(f"### {job_name}: {total / 1e6:.0f} MB in {len(harness.corpus_files(data))} files\n")
        print(harness.table(rows, total, reference) + "\n", flush=True)
        summary.append((job_name, {row.contender: row for row in rows if row.ok}))
        record = {"job": job_name, "bytes": total, "rows": [harness.asdict(r) for r in rows]}
        harness.save(harness.HERE / "results" / "user_jobs.jsonl", record)
    print_summary(summary)


def _wall_and_cpu(row: harness.Measurement) -> tuple[float, float]:
    """A run's wall and CPU seconds (its whole process tree), less its output's check."""
    return (
        row.seconds - row.reported.get("check_seconds", 0.0),
        row.cpu_seconds - row.reported.get("check_cpu", 0.0),
    )


def print_summary(summary: list[tuple[str, dict[str, harness.Measurement]]]) -> None:
    """Per job, the serial loop against simplemr with 2 workers: wall and CPU of each
    process tree from start to exit (less the checking of the output), the speed-up,
    simplemr's CPU against the loop's, its parallel efficiency (CPU / (2 x wall)),
    and its driver's share of its CPU; then the peers that ran, wall and CPU."""
    peers = [name for name in CONTENDERS[3:] if any(name in rows for _, rows in summary)]
    print(
        "| job | loop wall / CPU (s) | simplemr 1 worker wall / CPU | 2 workers wall / CPU "
        "| speed-up | CPU vs loop | parallel efficiency | driver's share of CPU |"
        + "".join(f" {name} wall / CPU |" for name in peers)
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|" + "---:|" * len(peers))
    for job_name, rows in summary:
        if not {"serial", "simplemr-2"} <= rows.keys():
            continue
        loop_wall, loop_cpu = _wall_and_cpu(rows["serial"])
        two_wall, two_cpu = _wall_and_cpu(rows["simplemr-2"])
        one = "-"
        if "simplemr-1" in rows:
            one_wall, one_cpu = _wall_and_cpu(rows["simplemr-1"])
            one = f"{one_wall:.2f} / {one_cpu:.2f}"
        driver = rows["simplemr-2"].reported.get("driver_cpu", 0.0)
        others = "".join(
            " {:.2f} / {:.2f} |".format(*_wall_and_cpu(rows[name])) if name in rows else " - |"
            for name in peers
        )
        print(f"| {job_name} | {loop_wall:.2f} / {loop_cpu:.2f} | {one} "
              f"| {two_wall:.2f} / {two_cpu:.2f} | {loop_wall / two_wall:.2f}x "
              f"| {two_cpu / loop_cpu:.2f} | {two_cpu / (2 * two_wall):.0%} "
              f"| {driver / two_cpu:.1%} |{others}")  # fmt: skip


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")  # dask.bag groupby across processes
    main()
