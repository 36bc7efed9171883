"""An mrjob job class's own command line (``MRYourJob.run()``, ``simplemr mrjob``):
the whole job run, its output and counters printed as mrjob prints them, and the
reports simplemr's options ask for. mrjob's ``launch.py`` has the same part.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from typing import Any

from ..errors import JobDefinitionError
from ..launch.common import (
    check_report_paths,
    report_input_problems,
    report_job,
    reported_if_it_fails,
    run_parsed,
)
from .options import engine_namespace

__all__ = ["execute", "run_job_class", "run_whole_job"]


def run_job_class(job_class: type) -> int:
    """``JobClass.run()``: the job over ``sys.argv``, every failure a message and a status."""
    return run_parsed(
        lambda: argparse.Namespace(run=lambda _: execute(job_class())), "--debug" in sys.argv
    )


def execute(job: Any) -> int:
    """Run what the job's command line asks; the exit status."""
    job.execute()
    return 0


def run_whole_job(job: Any) -> None:
    """``MRJob.run_job()``: run every step, print the output unless told not to, then the
    job's counters (unless ``-q``) and what ``--summary``, ``--stats``, ``--report`` ask."""
    options = job.options
    started = time.perf_counter()
    cat = options.output_dir is None if options.cat_output is None else options.cat_output
    direct = cat and job._stdout is None and options.output_dir is None
    if direct and sys.stdout is None:
        raise JobDefinitionError("standard output is closed: name an output with -o FOLDER")
    check_report_paths(engine_namespace(options))
    script = job.mr_job_script()
    title = f"simplemr mrjob {os.path.basename(script) if script else type(job).__name__}"
    with job.make_runner() as runner:
        with reported_if_it_fails(engine_namespace(options), title, started):
            runner.run(to_stdout=direct)
        if cat and not direct:
            for chunk in runner.cat_output():
                job.stdout.write(chunk)
            job.stdout.flush()
        elif direct:
            with contextlib.suppress(BrokenPipeError):
                sys.stdout.flush()
        result = runner.result
        if not options.quiet:
            _print_counters(runner.counters())
    report_input_problems(result)
    report_job(engine_namespace(options), title, result, time.perf_counter() - started)


def _print_counters(steps: list[dict[str, dict[str, int]]]) -> None:
    """The job's counters as mrjob prints them, a block per step that has any."""
    for number, groups in enumerate(steps, 1):
        if not groups:
            continue
        total = sum(len(names) for names in groups.values())
        lines = [f"Counters for step {number}: {total}"]
        for group in sorted(groups):
            lines.append(f"\t{group}")
            lines.extend(f"\t\t{name}={amount}" for name, amount in sorted(groups[group].items()))
        print("\n".join(lines), file=sys.stderr)
