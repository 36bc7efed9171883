"""Benchmark: simplemr on its local executor, on Dask, and the same jobs in dask.bag.

    python bench/on_dask.py --sizes 1000 --jobs wordcount index

Both jobs follow the word count rules of ``simplemr.examples.wordcount``:

- ``wordcount``: every word's count;
- ``index``: the shuffle-heavy inverted index of ``bench/inverted_index.py`` (every
  word's count and first ten (file, line) places).

Contenders, each in a fresh process, on the same files in one run:

- ``simplemr-local``: the local executor, 2 workers;
- ``simplemr-dask``: the dask executor on a ``LocalCluster`` of 2 worker processes
  (one thread each, Dask's profiler off, for every Dask contender), started inside the
  timed run;
- ``dask-bag``: the idiomatic dask.bag program on the same kind of cluster:
  ``read_text`` + ``frequencies`` for the word count; ``from_sequence`` of the files +
  ``groupby`` for the index (every pair through the shuffle, like simplemr's job);
- ``dask-bag-foldby``: the index with ``foldby``, which Dask combines before its shuffle.

Every contender's output must equal simplemr-local's; the table says so.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
from inverted_index import positions, positions_list, summarise

from simplemr.examples.wordcount import _PUNCTUATION_TO_SPACE, STOP_WORDS, is_comment

CONTENDERS = ["simplemr-local", "simplemr-dask", "dask-bag", "dask-bag-foldby"]
JOBS = ["wordcount", "index"]


def cluster():  # type: ignore[no-untyped-def]
    """The cluster every Dask contender runs on: 2 processes of one thread, without
    Dask's statistical profiler (which costs Python tasks about a quarter here)."""
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set({"distributed.worker.profile.enabled": False}):
        local = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
    return local, Client(local)


def line_words(line: str) -> list[str]:
    if is_comment(line):
        return []
    words = line.translate(_PUNCTUATION_TO_SPACE).lower().split()
    return [word for word in words if word.isalpha() and word not in STOP_WORDS]


def first_places(state: tuple[int, list], place: tuple[str, int]) -> tuple[int, list]:
    count, first = state
    return count + 1, sorted([*first, place])[:10]


def merge_places(a: tuple[int, list], b: tuple[int, list]) -> tuple[int, list]:
    return a[0] + b[0], sorted(a[1] + b[1])[:10]


def run_simplemr(job_name: str, files: list[str], executor: object) -> str:
    import simplemr
    from simplemr.examples import wordcount

    if job_name == "wordcount":
        job = wordcount.job(executor=executor, workers=2)
        inputs: object = simplemr.text_files(files)
    else:
        job = simplemr.MapReduce(positions, summarise, executor=executor, workers=2)
        inputs = files
    with job.stream(inputs) as results:
        return harness.digest_of(results)


def run_bag(job_name: str, files: list[str], foldby: bool) -> str:
    import dask.bag as db

    if job_name == "wordcount":
        bag = db.read_text(files, blocksize="64MiB", errors="replace")
        counts = bag.map(line_words).flatten().frequencies()
        return harness.digest_of(counts.compute())
    places = db.from_sequence(files, npartitions=min(len(files), 32)).map(positions_list).flatten()
    if foldby:
        folded = places.foldby(
            lambda pair: pair[0],
            lambda state, pair: first_places(state, pair[1]),
            (0, []),
            merge_places,
            (0, []),
        )
        rows = ((word, count, first) for word, (count, first) in folded.compute())
    else:
        grouped = places.groupby(lambda pair: pair[0])
        rows = grouped.map(lambda item: summarise(item[0], (p for _, p in item[1]))).compute()
    return harness.digest_of(rows)


def run_contender(name: str, data: Path, job_name: str) -> None:
    files = harness.corpus_files(data)
    if name == "simplemr-local":
        digest = run_simplemr(job_name, files, "local")
    else:
        local, client = cluster()
        try:
            if name == "simplemr-dask":
                digest = run_simplemr(job_name, files, client)
            else:
                digest = run_bag(job_name, files, foldby=name == "dask-bag-foldby")
        finally:
            client.close()
            local.close()
    print(json.dumps({"digest": digest}))


def main() -> None:
    def jobs(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--jobs", nargs="+", default=JOBS, choices=JOBS)
        parser.add_argument("--job", help=argparse.SUPPRESS)

    args = harness.parse_arguments(__doc__, CONTENDERS, [100], recipe_gib=0, extra=jobs)
    if args.contender:
        run_contender(args.contender, args.data, args.job)
        return
    print(f"simplemr and Dask on {harness.machine()}, {time.strftime('%Y-%m-%d')}\n")
    for size in args.sizes:
        data = harness.build_corpus(size, args.source)
        total = harness.corpus_bytes(data)
        for job_name in args.jobs:
            names = [n for n in args.contenders if job_name == "index" or "foldby" not in n]
            rows = harness.run_contenders(
                __file__, names, data, args.timeout, 0, args.repeat, ["--job", job_name]
            )
            reference = next(
                (r.digest for r in rows if r.ok and r.contender == "simplemr-local"), None
            )
            files = len(harness.corpus_files(data))
            print(f"### {job_name}, {total / 1e6:.0f} MB in {files} files\n")
            print(harness.table(rows, total, reference) + "\n", flush=True)
            record = {"size_mb": size, "job": job_name, "rows": [harness.asdict(r) for r in rows]}
            harness.save(harness.HERE / "results" / "on_dask.jsonl", record)


if __name__ == "__main__":
    main()
