"""Shell commands in a job's steps: ``*_cmd`` substeps and ``*_pre_filter`` commands.

A command reads its substep's whole input on standard input and writes lines, so
a task spools the lines meant for it to a file in its working folder, sorted if
the substep reads sorted input (a combiner, a reducer), and runs the command over
that file once the task has read everything:

    lines ─▶ spool file ─▶ [sort -t TAB -k1,1 -s] ─▶ command ─▶ lines

As mrjob's local runner does, ``*_cmd`` strings are split into arguments and run
without a shell, and pre-filters run with ``/bin/sh -e -c``. A ``*_cmd`` that exits
non-zero fails its task, quoting what it said on standard error (which mrjob keeps
in task logs); a pre-filter's status is not checked (it ran at the head of a
pipeline, as ``grep`` does when nothing matches), unless it could not run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable, Iterator

from ..errors import SimplemrError
from .util import shlex_split

__all__ = ["CommandError", "Spool", "pre_filter_argv", "substep_argv"]

#: How much of a failed command's standard error its message quotes.
STDERR_SHOWN = 2000


class CommandError(SimplemrError):
    """A step's shell command failed, or could not be run."""


def substep_argv(command: str) -> list[str]:
    """A ``*_cmd`` as its arguments (no shell: ``|`` is an argument, as in mrjob)."""
    return shlex_split(command)


def pre_filter_argv(command: str) -> list[str]:
    """A pre-filter run by the shell."""
    return ["/bin/sh", "-e", "-c", command]


class Spool:
    """Lines written to a file of the task, then run through a command."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._file = open(path, "wb")  # noqa: SIM115 - closed in run() or discard()

    def write(self, lines: Iterable[bytes]) -> None:
        write = self._file.write
        for line in lines:
            write(line)
            write(b"\n")

    def write_bytes(self, data: bytes) -> None:
        """Spool ``data`` as it is: lines with their own endings."""
        self._file.write(data)

    def run(self, argv: list[str], sort: str | None, *, checked: bool) -> Iterator[bytes]:
        """The lines ``argv`` writes when given the spooled lines, sorted by ``sort``
        (``"key"``: by the text before the first tab, keeping the order of equal keys;
        ``"line"``: whole lines; None: as written); their endings stripped."""
        self._file.close()
        source = self.path
        if sort is not None:
            source = self.path + ".sorted"
            _sort_file(self.path, source, by_key=sort == "key")
        errors_path = self.path + ".stderr"
        try:
            with open(source, "rb") as stdin, open(errors_path, "wb") as stderr:
                try:
                    process = subprocess.Popen(
                        argv, stdin=stdin, stdout=subprocess.PIPE, stderr=stderr
                    )
                except OSError as error:
                    raise CommandError(
                        f"cannot run {argv[0]!r} ({' '.join(argv)}): {error.strerror}"
                    ) from None
                assert process.stdout is not None
                with process:
                    for line in process.stdout:
                        yield line.rstrip(b"\r\n")
                status = process.returncode
            if status and (checked or status < 0 or status >= 126):
                raise CommandError(_failure(argv, status, errors_path))
        finally:
            for path in (self.path, source, errors_path):
                if os.path.exists(path):
                    os.unlink(path)

    def discard(self) -> None:
        self._file.close()
        if os.path.exists(self.path):
            os.unlink(self.path)


def _sort_file(source: str, target: str, by_key: bool) -> None:
    """Sort lines as mrjob's local runner has ``sort`` do it, bytewise (LC_ALL=C)."""
    sort = shutil.which("sort")
    if sort is not None:
        argv = [sort, "-t", "\t", "-k", "1,1", "-s"] if by_key else [sort]
        environment = {**os.environ, "LC_ALL": "C", "TMPDIR": os.path.dirname(source)}
        with open(target, "wb") as out:
            if subprocess.run([*argv, source], stdout=out, env=environment).returncode == 0:
                return
    with open(source, "rb") as file:
        lines = file.read().splitlines(keepends=True)
    if by_key:
        lines.sort(key=lambda line: line.rstrip(b"\n").split(b"\t", 1)[0])
    else:
        lines.sort(key=lambda line: line.rstrip(b"\n"))
    with open(target, "wb") as out:
        out.writelines(line if line.endswith(b"\n") else line + b"\n" for line in lines)


def _failure(argv: list[str], status: int, errors_path: str) -> str:
    how = f"was killed by signal {-status}" if status < 0 else f"exited with status {status}"
    if status in (126, 127):
        how += " (command not found or not executable)"
    with open(errors_path, "rb") as file:
        said = file.read()[-STDERR_SHOWN:].decode("utf-8", "replace").strip()
    return f"the command {' '.join(argv)!r} {how}" + (f"; it said: {said}" if said else "")
