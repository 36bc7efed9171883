"""What every contender script shares: ``python <script> JOB FOLDER`` runs JOB over
the files of FOLDER and prints one JSON line with the output's digest and the versions
of what ran it."""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Callable, Iterable

from rules import digest, index_rows, word_rows

# Processes a contender starts (Spark's Python workers, mrjob's tasks) import these
# helpers too.
HERE = os.path.dirname(os.path.abspath(__file__))
os.environ["PYTHONPATH"] = os.pathsep.join([HERE, *filter(None, [os.environ.get("PYTHONPATH")])])


def files_of(folder: str) -> list[str]:
    return sorted(
        os.path.join(folder, name) for name in os.listdir(folder) if not name.startswith("_")
    )


def main(run: Callable[[str, list[str]], Iterable], versions: dict[str, str]) -> None:
    job, folder = sys.argv[1], sys.argv[2]
    if job not in ("wordcount", "index"):
        sys.exit(f"unknown job {job!r}: wordcount or index")
    rows = run(job, files_of(folder))
    rows = word_rows(rows) if job == "wordcount" else index_rows(rows)
    versions = {"python": platform.python_version(), **versions}
    print(json.dumps({"digest": digest(rows), "versions": versions}))
