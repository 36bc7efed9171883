"""mrjob's own example jobs, unmodified, under mrjob 0.7.4 ``-r local`` and ``simplemr mrjob``.

The three jobs are mrjob's ``mr_word_freq_count.py`` (one step, a combiner),
``mr_most_used_word.py`` (two steps, an uploaded stop-word file, JSON value output)
and ``mr_next_word_stats.py`` (two steps, ``SORT_VALUES``), from the installed
mrjob package. Both contenders use both cores (mrjob's local runner runs a task
per core, simplemr a worker per core); runs are interleaved, job by job, and the
outputs (sorted lines) must be identical.

    .venv/bin/python bench/mrjob_compat.py --sizes 100 --repeat 2
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import (
    build_corpus,
    corpus_bytes,
    corpus_files,
    digest_of,
    machine,
    measure,
    parse_arguments,
    save,
)

JOBS = ["mr_word_freq_count.py", "mr_most_used_word.py", "mr_next_word_stats.py"]
CONTENDERS = ["mrjob -r local", "simplemr mrjob"]
RESULTS = Path(__file__).resolve().parent / "results" / "mrjob_compat.jsonl"


def examples() -> Path:
    spec = importlib.util.find_spec("mrjob")
    if spec is None or spec.origin is None:
        sys.exit("mrjob is not installed: pip install mrjob==0.7.4")
    return Path(spec.origin).parent / "examples"


def contender(name: str, job: str, data: Path) -> None:
    """Run one contender, its output to a file; print the digest of its lines."""
    script = examples() / job
    inputs = corpus_files(data)
    if name == "mrjob -r local":
        command = [sys.executable, str(script), "-r", "local", *inputs]
    else:
        command = [sys.executable, "-m", "simplemr", "mrjob", str(script), *inputs]
    with tempfile.TemporaryFile() as output:
        done = subprocess.run(command, stdout=output, stderr=subprocess.PIPE)
        if done.returncode:
            sys.exit(done.stderr.decode(errors="replace")[-500:])
        output.seek(0)
        print(json.dumps({"digest": digest_of(line.rstrip(b"\n") for line in output)}))


def main() -> None:
    args = parse_arguments(
        __doc__, CONTENDERS, [100], 0, lambda parser: parser.add_argument("--job", choices=JOBS)
    )
    if args.contender:
        contender(args.contender, args.job, args.data)
        return
    print(f"machine: {machine()}", file=sys.stderr)
    for size in args.sizes:
        data = build_corpus(size, args.source)
        runs: dict[tuple[str, str], list] = {}
        for _ in range(args.repeat):
            for job in JOBS:
                for name in args.contenders:
                    command = [
                        sys.executable,
                        __file__,
                        "--contender",
                        name,
                        "--job",
                        job,
                        "--data",
                        str(data),
                    ]
                    row = measure(name, command, args.timeout)
                    runs.setdefault((job, name), []).append(row)
                    print(
                        f"  {job} {name}: {row.seconds:.1f} s {row.note}",
                        file=sys.stderr,
                        flush=True,
                    )
        files = len(corpus_files(data))
        print(f"\n{size} MiB ({corpus_bytes(data) / 1e6:.0f} MB in {files} files)\n")
        print(report(runs, args.contenders, size))


def report(runs: dict[tuple[str, str], list], names: list[str], size: int) -> str:
    """The Markdown table of the runs: each contender's median, and every run."""
    lines = [
        "| job | mrjob -r local (s) | simplemr mrjob (s) | speed-up "
        "| peak RSS of the tree, mrjob / simplemr (MiB) | outputs |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for job in JOBS:
        medians, every = {}, {}
        for name in names:
            ok = sorted((row for row in runs[(job, name)] if row.ok), key=lambda row: row.seconds)
            medians[name] = ok[len(ok) // 2] if ok else None
            every[name] = ", ".join(f"{row.seconds:.1f}" for row in runs[(job, name)])
        mrjob, ours = medians.get(CONTENDERS[0]), medians.get(CONTENDERS[1])
        if mrjob is None or ours is None:
            lines.append(
                f"| {job} | {every.get(CONTENDERS[0])} | {every.get(CONTENDERS[1])} | - | - | "
                "a run failed |"
            )
            continue
        same = "identical" if mrjob.digest == ours.digest else "DIFFERENT"
        lines.append(
            f"| {job} | {mrjob.seconds:.1f} ({every[CONTENDERS[0]]}) | {ours.seconds:.1f} "
            f"({every[CONTENDERS[1]]}) | {mrjob.seconds / ours.seconds:.1f}× | "
            f"{mrjob.peak_tree_mib:.0f} / {ours.peak_tree_mib:.0f} | {same} |"
        )
        record = {"size_mb": size, "job": job, "mrjob": mrjob.seconds, "simplemr": ours.seconds}
        save(RESULTS, {**record, "same": same, "machine": machine()})
    return "\n".join(lines)


if __name__ == "__main__":
    main()
