"""A task's surroundings, as mrjob's local runner makes them: a working folder holding
the job's uploaded files, and the jobconf as environment variables.

Each task attempt runs in a folder of its own (``mapreduce.job.local.dir``) where
every ``FILES``/``DIRS``/``ARCHIVES`` entry and ``add_file_arg`` value appears
under its name, and with the jobconf set as variables named like it with ``.`` as
``_`` (``mapreduce_task_partition``), under both its Hadoop 1 and Hadoop 2 names.
Both are undone when the task ends: an inline task runs in the driver's process.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import JobDefinitionError
from ..shuffle.task import TaskContext
from .compat import translate_jobconf_for_all_versions

__all__ = ["TaskEnvironment", "set_jobconf"]


@dataclass(frozen=True)
class TaskEnvironment:
    """What every task of one job shares: the job's id, the files to place in each
    working folder as ``(name, absolute path)``, and the variables to set."""

    job_id: str
    uploads: tuple[tuple[str, str], ...] = ()
    jobconf: tuple[tuple[str, Any], ...] = ()
    cmdenv: tuple[tuple[str, str], ...] = ()
    output_dir: str = ""
    #: Each step's own ``MRStep(jobconf=...)``, by step.
    step_jobconf: tuple[tuple[tuple[str, Any], ...], ...] = field(default=())

    @contextlib.contextmanager
    def task(self, kind: str, context: TaskContext) -> Iterator[str]:
        """Run a task of ``kind`` (``mapper`` or ``reducer``) in its working folder
        with its variables; yield the folder."""
        folder = os.path.abspath(context.path(".wd"))
        os.mkdir(folder, 0o700)
        saved_environment = os.environ.copy()
        saved_folder = os.getcwd()
        try:
            for name, target in self.uploads:
                os.symlink(target, os.path.join(folder, name))
            refuse_threads()
            own = (
                dict(self.step_jobconf[context.step])
                if context.step < len(self.step_jobconf)
                else {}
            )
            set_jobconf({**dict(self.jobconf), **own})
            set_jobconf(self._simulated(kind, context, folder))
            for name, value in self.cmdenv:  # as mrjob: they win, and *PATH ones prepend
                before = os.environ.get(name)
                os.environ[name] = (
                    f"{value}{os.pathsep}{before}" if name.endswith("PATH") and before else value
                )
            os.chdir(folder)
            yield folder
        finally:
            os.chdir(saved_folder)
            os.environ.clear()
            os.environ.update(saved_environment)
            shutil.rmtree(folder, ignore_errors=True)

    def _simulated(self, kind: str, context: TaskContext, folder: str) -> dict[str, str]:
        """The variables Hadoop sets for a task, as mrjob's local runner fills them in."""
        letter = "m" if kind == "mapper" else "r"
        task = f"{self.job_id}_{letter}_{context.step:04d}{context.index:02d}"
        names = ",".join(name for name, _ in self.uploads)
        return {
            "mapreduce.job.id": self.job_id,
            "mapreduce.task.id": f"task_{task}",
            "mapreduce.task.attempt.id": f"attempt_{task}_{context.attempt - 1}",
            "mapreduce.task.ismap": "true" if kind == "mapper" else "false",
            "mapreduce.task.partition": str(context.index),
            "mapreduce.task.output.dir": self.output_dir,
            "mapreduce.job.local.dir": folder,
            "mapreduce.job.cache.files": names,
            "mapreduce.job.cache.local.files": ",".join(
                os.path.join(folder, name) for name, _ in self.uploads
            ),
        }


def set_jobconf(jobconf: Mapping[str, Any]) -> None:
    """Set each jobconf variable in the environment, under every name it has (``True``
    as ``true``, as Hadoop says it); None unsets it."""
    for name, value in jobconf.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        for variant in translate_jobconf_for_all_versions(name):
            if value is None:
                os.environ.pop(variant.replace(".", "_"), None)
            else:
                os.environ[variant.replace(".", "_")] = text


def refuse_threads() -> None:
    """Refuse to run in a Dask worker that runs several tasks at once: a task changes
    its process's working folder and environment, which threads share."""
    try:
        from distributed import get_worker

        threads = get_worker().state.nthreads
    except (ImportError, ValueError, AttributeError):
        return
    if threads > 1:
        raise JobDefinitionError(
            f"a Dask worker with {threads} threads runs several tasks at once, and an mrjob "
            "task changes its process's working folder and environment: start the "
            "workers with --nthreads 1"
        )
