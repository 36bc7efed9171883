"""Benchmark: the namespace cluster (examples/netcluster.py) against the local executor.

    sudo python bench/on_netcluster.py --size 1000 --rounds 3

Both contenders read the corpus from the cluster's S3 server and write their output
back to it, run on the driver host, on the machine's 2 cores (the S3 server and the
scheduler share them):

- ``local``: ``--executor local --workers 2``;
- ``cluster``: ``--executor dask --scheduler`` the cluster's, its two worker hosts.

Jobs: the word count (``simplemr wordcount``), and the inverted index
(``simplemr.examples.inverted_index``, ``--no-sort`` so that the reduce tasks write
it). Rounds interleave the contenders; each run's output must hold the same lines in
the same part files as the local executor's. Peak memory comes from each run's ``--stats``: the
driver's, and each worker's.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))

import harness
import netcluster

JOBS = {
    "wordcount": ["wordcount"],
    "index": ["run", "simplemr.examples.inverted_index:InvertedIndex", "--no-sort"],
}
MiB = 2**20


def _run(cluster, job: str, contender: str, inputs: str, out: str) -> dict:
    stats = Path(cluster.folder("driver")) / "stats.json"
    command = [sys.executable, "-m", "simplemr", *JOBS[job][:1]]
    if job == "index":
        command += JOBS[job][1:2]
    command += [inputs, "--output" if job == "wordcount" else "-o", out, *JOBS[job][2:]]
    command += ["--partitions", "4", "--stats", str(stats), "--no-progress"]
    command += ["--storage-option", f"endpoint_url={cluster.endpoint}"]
    # moto joins a multipart upload's parts in Python, which for an output part of a GB
    # or more can outlast botocore's 60 s read timeout; botocore then asks again, and
    # moto answers with a 500, the upload being complete and gone.
    command += ["--storage-option", 'config_kwargs={"read_timeout": 900}']
    if contender == "local":
        command += ["--executor", "local", "--workers", "2"]
    else:
        command += ["--executor", "dask", "--scheduler", cluster.scheduler]
    started = time.perf_counter()
    done = cluster.run("driver", command, capture_output=True, timeout=3600)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        server_log = Path(cluster.folder("s3")) / "log"
        said = server_log.read_text(errors="replace")[-3000:] if server_log.exists() else ""
        sys.exit(
            f"{job} on {contender} failed:\n{done.stderr.decode()[-3000:]}\n"
            f"the S3 server's log ends:\n{said}"
        )
    said = json.loads(stats.read_text())
    return {"seconds": seconds, "peaks": said["peak_memory_bytes"], "stats": said}


def _parts(s3, url: str) -> dict[str, str]:
    """An order-independent digest of each output file's lines: a partition too large
    for its budget is grouped in pieces, on the cluster (whole) and locally (a bucket at
    a time) in a different order, so lines within a part may come in another order.
    Each part is read whole: read line by line from moto, a 400 MB part took over nine
    minutes."""
    s3.invalidate_cache()
    root = url.removeprefix("s3://").rstrip("/")
    return {
        path[len(root) + 1 :]: harness.digest_of(s3.cat(path).split(b"\n"))
        for path in s3.find(root)
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1000, help="corpus MiB (1000)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", nargs="+", default=list(JOBS), choices=list(JOBS))
    args = parser.parse_args()
    reason = netcluster.why_not()
    if reason:
        sys.exit(f"on_netcluster: {reason}")
    corpus = harness.build_corpus(args.size)
    files = harness.corpus_files(corpus)
    with netcluster.NetCluster(worker_memory="8GiB") as cluster:
        s3 = cluster.s3(config_kwargs={"read_timeout": 900})  # see _run
        s3.mkdir("data")
        started = time.perf_counter()
        s3.put(files, "data/corpus/")
        print(f"uploaded {len(files)} files in {time.perf_counter() - started:.0f} s", flush=True)
        runs: dict[tuple[str, str], list[dict]] = {}
        for round_number in range(args.rounds):
            for job in args.jobs:
                for contender in (
                    ("local", "cluster") if round_number % 2 == 0 else ("cluster", "local")
                ):
                    out = f"s3://data/out-{job}-{contender}-{round_number}/"
                    run = _run(cluster, job, contender, "s3://data/corpus/", out)
                    print(
                        f"round {round_number + 1} {job} {contender}: {run['seconds']:.1f} s, "
                        f"peaks {json.dumps(run['peaks'])}",
                        flush=True,
                    )
                    run["parts"] = _parts(s3, out)
                    runs.setdefault((job, contender), []).append(run)
                    s3.rm(out.removeprefix("s3://"), recursive=True)
        report = [
            f"Machine: {harness.machine()}; {time.strftime('%Y-%m-%d')}; corpus "
            f"{harness.corpus_bytes(corpus) / MiB:.0f} MiB in {len(files)} files on the S3 server"
        ]
        for job in args.jobs:
            reference = runs[job, "local"][0]["parts"]
            for contender in ("local", "cluster"):
                equal = all(run["parts"] == reference for run in runs[job, contender])
                seconds = [run["seconds"] for run in runs[job, contender]]
                peaks = runs[job, contender][-1]["peaks"]
                workers = ", ".join(
                    f"{name} {size / MiB:.0f}" for name, size in sorted(peaks["workers"].items())
                )
                report.append(
                    f"| {job} | {contender} | {statistics.median(seconds):.1f} "
                    f"({', '.join(f'{s:.1f}' for s in seconds)}) | {peaks['driver'] / MiB:.0f} | "
                    f"{workers} | {'yes' if equal else 'NO'} |"
                )
            local = statistics.median(run["seconds"] for run in runs[job, "local"])
            cluster_seconds = statistics.median(run["seconds"] for run in runs[job, "cluster"])
            report.append(f"{job}: cluster / local = {cluster_seconds / local:.2f}")
        print("\n".join(report))


if __name__ == "__main__":
    main()
