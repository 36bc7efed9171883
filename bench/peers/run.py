"""Head to head: simplemr and the tools people would use instead, on the same files.

    pip install -r bench/peers/requirements.txt      # and, for PySpark: a Java runtime
    python bench/peers/run.py --sizes 100 1000       # resumes where it stopped

Two jobs by the classic recipe's word count rules (``rules.py``): the word count, and
the shuffle-heavy inverted index (every word's count and first ten (file, line)
places). Inputs: the Gutenberg books replicated to each size, as many files and as one
file. Each contender is one small script run in a fresh process, its whole process tree
sampled for memory; ``--repeat`` runs each (medians: 3 at 100 MB by default, 1 above),
except that a run which does not finish (time limit, memory, wrong output) is its
cell's verdict and is not repeated.
Every output is checked against the single process's; the coreutils pipeline follows
simpler rules, so its output is expected to differ (its table row says so).

Runs are appended to ``bench/results/peers.jsonl`` as they finish; a later call skips
what is there (``--fresh`` starts over), so the hours-long matrix can stop and resume.
``bench/results/peers.md`` is rewritten from that file after every run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import harness

HERE = Path(__file__).resolve().parent

PYTHON = sys.executable
CONTENDERS = {
    "single": [PYTHON, str(HERE / "single.py")],
    "simplemr-local": [PYTHON, str(HERE / "simplemr_local.py")],
    "simplemr-dask": [PYTHON, str(HERE / "simplemr_dask.py")],
    "recipe": [PYTHON, str(HERE / "recipe.py")],
    "dask-bag": ["env", "SCHEDULER=distributed", PYTHON, str(HERE / "dask_bag.py")],
    "dask-bag-processes": ["env", "SCHEDULER=processes", PYTHON, str(HERE / "dask_bag.py")],
    "pyspark": [PYTHON, str(HERE / "pyspark_rdd.py")],
    "mrjob": [PYTHON, str(HERE / "mrjob_job.py")],
    "coreutils": ["bash", str(HERE / "coreutils.sh")],
}
JOBS = ["wordcount", "index"]
RESULTS = harness.HERE / "results" / "peers.jsonl"
TABLE = harness.HERE / "results" / "peers.md"


def done_runs() -> list[dict]:
    if not RESULTS.exists():
        return []
    return [json.loads(line) for line in RESULTS.read_text().splitlines() if line.strip()]


def cell(record: dict) -> tuple:
    return record["size_mb"], record["shape"], record["job"], record["contender"]


def median_run(runs: list[dict]) -> tuple[float, dict, int] | str:
    """The median seconds of a cell's successful runs, the run nearest it and their
    number; or, when none succeeded, why the last one did not ("not run": no runs)."""
    ok = [run["measurement"] for run in runs if run["measurement"]["ok"]]
    if not ok:
        return runs[-1]["measurement"]["note"] if runs else "not run"
    seconds = statistics.median(m["seconds"] for m in ok)
    return seconds, min(ok, key=lambda m: abs(m["seconds"] - seconds)), len(ok)


def headline(groups: dict[tuple, list[dict]], size: int, job: str) -> list[str]:
    """The README's table: seconds, MB/s and peak MiB of every contender on many
    files and on one file."""
    shapes = ("files", "single")
    out = [
        f"### The headline: {job}, {size} MB\n",
        "| contender | many files: s | MB/s | peak MiB | one file: s | MB/s | peak MiB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in CONTENDERS:
        cells = []
        for shape in shapes:
            runs = groups.get((size, shape, job, name))
            summary = median_run(runs) if runs else "not run"
            if isinstance(summary, str):
                cells += [summary, "", ""]
                continue
            seconds, best, _ = summary
            rate = runs[0]["input_bytes"] / 1e6 / seconds
            cells += [f"{seconds:.1f}", f"{rate:.1f}", f"{best['peak_tree_mib']:.0f}"]
        if any(text != "not run" for text in cells[::3]):
            out.append(f"| {name} | {' | '.join(cells)} |")
    return [*out, ""]


def _table_order(key: tuple) -> tuple:
    size, shape, job = key
    return size, JOBS.index(job) if job in JOBS else len(JOBS), shape


def write_table(records: list[dict]) -> str:
    """The Markdown tables of every (size, shape, job), medians of the runs made,
    the largest word count's headline first."""
    groups: dict[tuple, list[dict]] = {}
    for record in records:
        groups.setdefault(cell(record), []).append(record)
    out = [f"Peers on {harness.machine()}, {time.strftime('%Y-%m-%d')}\n"]
    counted = [key[0] for key in groups if key[2] == "wordcount"]
    if counted:
        out += headline(groups, max(counted), "wordcount")
    for size, shape, job in sorted({key[:3] for key in groups}, key=_table_order):
        out.append(f"### {job}, {size} MB, {'one file' if shape == 'single' else 'many files'}\n")
        out.append("| contender | seconds | MB/s | CPU s | peak MiB (tree) | output | versions |")
        out.append("|---|---:|---:|---:|---:|---|---|")
        reference = median_run(groups.get((size, shape, job, "single")) or [])
        expected = reference[1]["digest"] if isinstance(reference, tuple) else None
        for name in CONTENDERS:
            runs = groups.get((size, shape, job, name))
            if not runs:
                continue
            summary = median_run(runs)
            if isinstance(summary, str):
                out.append(f"| {name} | {summary} | | | | | |")
                continue
            seconds, best, count = summary
            if name == "coreutils":
                same = "differs by design (ASCII letters, no comment rule)"
            else:
                same = "same" if expected in (None, best["digest"]) else "DIFFERENT"
            versions = ", ".join(
                f"{k} {v}" for k, v in best["reported"].get("versions", {}).items()
            )
            median = f" (median of {count})" if count > 1 else ""
            rate = runs[0]["input_bytes"] / 1e6 / seconds
            out.append(
                f"| {name} | {seconds:.1f}{median} | {rate:.1f} | "
                f"{best['cpu_seconds']:.0f} | {best['peak_tree_mib']:.0f} | {same} | {versions} |"
            )
        out.append("")
    text = "\n".join(out)
    TABLE.parent.mkdir(parents=True, exist_ok=True)
    TABLE.write_text(text)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000], help="MiB")
    parser.add_argument("--shapes", nargs="+", default=["files", "single"])
    parser.add_argument("--jobs", nargs="+", default=JOBS, choices=JOBS)
    parser.add_argument("--contenders", nargs="+", default=list(CONTENDERS), choices=CONTENDERS)
    parser.add_argument("--repeat", type=int, help="runs per cell (3 at 100 MB, else 1)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per run")
    parser.add_argument("--recipe-memory", type=int, default=16, help="GiB for the recipe")
    parser.add_argument("--source", type=Path, default=harness.DEFAULT_SOURCE)
    parser.add_argument("--fresh", action="store_true", help="forget earlier runs")
    args = parser.parse_args()
    if args.fresh and RESULTS.exists():
        RESULTS.unlink()
    records = done_runs()
    have: dict[tuple, int] = {}
    for record in records:
        have[cell(record)] = have.get(cell(record), 0) + 1
    # A run that did not finish is its cell's verdict: running it again would only
    # spend the time limit again.
    failed = {cell(record) for record in records if not record["measurement"]["ok"]}
    for size in args.sizes:
        repeat = args.repeat or (3 if size <= 100 else 1)
        for shape in args.shapes:
            data = harness.build_corpus(size, args.source, single_file=shape == "single")
            total = harness.corpus_bytes(data)
            for job in args.jobs:
                for name in args.contenders:
                    if name == "coreutils" and job != "wordcount":
                        continue
                    if name == "pyspark" and shutil.which("java") is None:
                        print("  pyspark: no Java runtime here, skipped", file=sys.stderr)
                        continue
                    key = (size, shape, job, name)
                    for _ in range(repeat - have.get(key, 0)):
                        if key in failed:
                            break
                        limit = args.recipe_memory << 30 if name == "recipe" else None
                        command = [*CONTENDERS[name], job, str(data)]
                        measured = harness.measure(name, command, args.timeout, limit)
                        record = {
                            "size_mb": size, "shape": shape, "job": job, "contender": name,
                            "input_bytes": total, "measurement": harness.asdict(measured),
                        }  # fmt: skip
                        harness.save(RESULTS, record)
                        records.append(record)
                        print(f"  {key}: {measured.seconds:.1f} s {measured.note}", file=sys.stderr)
                        write_table(records)
                        if not measured.ok:
                            failed.add(key)
    print(write_table(records))


if __name__ == "__main__":
    main()
