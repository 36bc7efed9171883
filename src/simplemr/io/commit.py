"""Output written by the reduce tasks themselves, and committed by the driver.

    reduce task p, attempt a ─write─▶ <staging>/_temporary/<job>/<attempt>/part-p
                                      (and <attempt>/<name>/part-p for each named output)
                                              │ the first successful attempt of each task
    driver, once every task is done:          ▼
        move each task's committed attempt ─▶ <staging>/part-p, <staging>/<name>/part-p
        remove _temporary/<job>, then write ─▶ <staging>/_SUCCESS (last)
        a local target: rename <staging> ─────▶ <target> (one atomic rename)

An attempt writes under a name of its own (unique to each run of it: Dask may run
one attempt twice), so attempts never mix; only the attempts the driver saw
succeed first are moved, so a part is never written twice. A failed or
interrupted job removes its ``_temporary/<job>`` folder and never writes
``_SUCCESS``.

For a local folder (or ``file://``), ``<staging>`` is a hidden folder beside the
target, and the job's last step is one rename: the output appears whole or not at
all. For an object store (``s3://``, ``gs://``...), ``<staging>`` is the target
itself; a move there is a copy and a delete, object by object, so parts appear one
at a time while the job commits, and ``_SUCCESS`` only once all are in place.
Readers must wait for ``_SUCCESS``. One job at a time commits to a store's folder:
it first writes ``_temporary/_commit`` (only if absent, where the store can say so,
as S3 can), and a job that finds another's fails naming it; holding it, a job that
finds output committed since it started (and no ``overwrite``) fails and leaves it
be. An output being overwritten is moved aside (its ``_SUCCESS`` first), and moved
back if the new parts cannot all be moved in: a failed commit leaves it as it was.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from ..errors import OutputError
from .filesystems import filesystem_of, is_url
from .output import (
    SUCCESS_MARKER,
    TEMPORARY,
    local_opener,
    looks_like_output,
    make_folder,
    output_kind,
    part_name,
    part_suffix,
    put_in_place,
    results_text,
    staging_path,
    write_lines,
    write_part_files,
    write_results,
)
from .workdir import owner_gone, owner_tag, remove_path, remove_stale

__all__ = ["COMMIT_MARKER", "TaskCommitter", "write_output"]

#: What a job holds in a store's ``_temporary`` folder while it commits there.
COMMIT_MARKER = "_commit"


@dataclass(frozen=True)
class TaskCommitter:
    """Where a job's last reduce tasks write their results as lines, and how the
    driver commits them (see the module docstring). Shipped to the tasks in the job."""

    target: str
    line_format: str
    overwrite: bool
    job_id: str
    staging: str
    #: The codec the parts are written in (``part-00000.gz``...), or None.
    codec: str | None = None
    #: The schema of Parquet parts (None: the first results').
    schema: Any = None

    @classmethod
    def for_target(
        cls,
        target: str,
        line_format: str,
        overwrite: bool,
        codec: str | None = None,
        schema: Any = None,
    ) -> TaskCommitter:
        """A committer for the folder or URL ``target`` (checked already)."""
        if target.startswith("file://"):
            target = target[len("file://") :]
        if is_url(target):
            staging = target.rstrip("/")
        else:
            target = os.path.abspath(target)
            staging = staging_path(target, "new")
        job_id = uuid.uuid4().hex[:16]
        return cls(target.rstrip("/"), line_format, overwrite, job_id, staging, codec, schema)

    # --- in a task ------------------------------------------------------------------

    def write_part(self, partition: int, attempt: int, results: Iterable[Any]) -> tuple[str, int]:
        """Write ``results`` as partition ``partition``'s part, under a name of this
        run of attempt ``attempt`` alone; return where, and how many results."""
        name = f"attempt-{partition + 1:05d}-{attempt}-{uuid.uuid4().hex[:8]}"
        folder = f"{self.staging}/{TEMPORARY}/{self.job_id}/{name}"
        path = f"{folder}/{part_name(partition, self._suffix)}"
        try:
            opener = functools.partial(self._open_binary, folder)
            part, count = write_part_files(
                opener, partition, results, self.line_format, self.codec, self.schema
            )
        except OSError as error:
            raise OutputError(
                f"cannot write part {partition + 1} of the output {self.target!r} "
                f"at {path!r}: {error.strerror or error}"
            ) from error
        return f"{folder}/{part}", count

    @property
    def _suffix(self) -> str:
        return part_suffix(self.line_format, self.codec)

    def _open_binary(self, folder: str, name: str) -> IO[bytes]:
        if not is_url(folder):
            return local_opener(folder)(name)
        filesystem, inner = filesystem_of(f"{folder}/{name}", "write")
        return filesystem.open(inner, "wb")  # type: ignore[no-any-return]

    # --- on the driver --------------------------------------------------------------

    def setup(self) -> None:
        """Make the staging folder of a local target (what a killed job left for the
        same target goes first)."""
        if is_url(self.staging):
            return
        folder, name = os.path.split(os.path.abspath(self.target))
        make_folder(folder)
        remove_stale(folder, f".{name}.simplemr-")
        remove_path(self.staging)
        try:
            os.mkdir(self.staging)
        except OSError as error:
            raise OutputError(f"cannot write the output {self.target!r}: {error}") from error

    def commit(self, written: Sequence[str | None]) -> list[str]:
        """Move each task's part (the committed attempt's, in partition order) into
        place, then write ``_SUCCESS``; return where the parts are now."""
        parts = [path for path in written if path is not None]
        if len(parts) != len(written):
            raise OutputError(f"a reduce task wrote no part of the output {self.target!r}")
        try:
            if is_url(self.staging):
                return self._commit_to_store(parts)
            final = []
            for partition, path in enumerate(parts):
                name = part_name(partition, self._suffix)
                if os.path.exists(path) or self.line_format != "parquet":  # see io/parquet.py
                    os.rename(path, os.path.join(self.staging, name))
                    final.append(os.path.join(self.target, name))
                _move_named_parts(os.path.dirname(path), self.staging, name)
            remove_path(os.path.join(self.staging, TEMPORARY))
            open(os.path.join(self.staging, SUCCESS_MARKER), "w").close()
            put_in_place(self.staging, self.target, self.overwrite)
            return final
        except OSError as error:
            self.abort()
            raise OutputError(
                f"cannot commit the output {self.target!r}: {error.strerror or error}"
            ) from error
        except BaseException:
            self.abort()
            raise

    def _commit_to_store(self, parts: list[str]) -> list[str]:
        filesystem, root = filesystem_of(self.target, "write")
        lock = f"{root}/{TEMPORARY}/{COMMIT_MARKER}"
        self._hold(filesystem, lock)
        try:
            earlier = [n for n in _names_under(filesystem, root) if not n.startswith(TEMPORARY)]
            if earlier and not self.overwrite:
                raise OutputError(
                    f"the output {self.target!r} was written by someone else while this job "
                    "ran; this job's results were not written: choose another output"
                )
            if not looks_like_output(earlier):
                raise OutputError(f"the output {self.target!r} holds more than earlier output")
            # The earlier output goes aside (its _SUCCESS first), and comes back if the
            # new one cannot be moved in: a failed commit leaves it as it was. Aside is
            # not under _temporary/<job>, which ``abort`` removes: should it not come
            # back whole, it stays there, and the error says where.
            aside = f"{root}/{TEMPORARY}/earlier-{self.job_id}"
            earlier.sort(key=lambda name: name != SUCCESS_MARKER)
            _move_all(filesystem, root, aside, earlier)
            try:
                written = self._move_in(filesystem, root, parts)
            except BaseException as error:
                try:
                    _move_all(filesystem, aside, root, earlier[::-1])  # its _SUCCESS last
                except Exception:
                    raise OutputError(
                        f"cannot commit the output {self.target!r} ({error}), nor put the "
                        f"earlier output back: what is left of it is in {aside!r}"
                    ) from error
                raise
            with contextlib.suppress(FileNotFoundError):  # nothing was set aside
                filesystem.rm(aside, recursive=True)
            filesystem.pipe_file(f"{root}/{SUCCESS_MARKER}", b"")
        finally:
            with contextlib.suppress(Exception):  # the error that stopped it matters more
                filesystem.rm_file(lock)
        self._remove_temporary(filesystem, root)
        return [f"{self.target}/{name}" for name in written]

    def _move_in(self, filesystem: Any, root: str, parts: list[str]) -> list[str]:
        """Move each task's committed attempt (its part, and its named outputs' parts)
        into place; return the names of the parts moved (not the named outputs'); if
        one cannot be moved, remove those moved, and raise."""
        moved: list[str] = []
        written = []
        try:
            for partition, path in enumerate(parts):
                attempt = filesystem_of(path, "write")[1].rsplit("/", 1)[0]
                for found in filesystem.find(attempt):
                    name = found[len(attempt) :].strip("/")
                    filesystem.mv(found, f"{root}/{name}")
                    moved.append(f"{root}/{name}")
                    if name == part_name(partition, self._suffix):
                        written.append(name)
            return written
        except BaseException:
            with contextlib.suppress(Exception):
                for path in moved:
                    filesystem.rm_file(path)
            raise

    def _hold(self, filesystem: Any, lock: str) -> None:
        """Write the commit marker ``lock``, which only one job may hold at a time
        (written only if absent, where the store can say so; and read back); or raise
        ``OutputError`` naming the job that holds it. A marker left by a job that died
        is never taken over (two jobs could take it at once): the error says so."""
        mine = json.dumps({"job": self.job_id, "owner": owner_tag(), "since": time.time()})
        try:
            filesystem.pipe_file(lock, mine.encode(), mode="create")
        except FileExistsError:
            pass
        except Exception:  # a store, or an fsspec, that cannot write create-only
            if not filesystem.exists(lock):
                filesystem.pipe_file(lock, mine.encode())
        held = _read_or_nothing(filesystem, lock)
        if held != mine.encode():
            raise OutputError(_held_by(held, self.target, lock))

    def _remove_temporary(self, filesystem: Any, root: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            filesystem.rm(f"{root}/{TEMPORARY}/{self.job_id}", recursive=True)
        with contextlib.suppress(OSError):
            if not filesystem.ls(f"{root}/{TEMPORARY}"):
                filesystem.rmdir(f"{root}/{TEMPORARY}")

    def abort(self) -> None:
        """Remove what this job wrote: its staging folder, or on a store its attempts."""
        if not is_url(self.staging):
            remove_path(self.staging)
            return
        with contextlib.suppress(Exception):  # best effort: the job has failed already
            filesystem, root = filesystem_of(self.target, "write")
            self._remove_temporary(filesystem, root)


def _move_named_parts(attempt: str, staging: str, part: str) -> None:
    """Move the parts an attempt wrote to named outputs (``attempt/<name>/<part>``) to
    their folders in ``staging``."""
    if not os.path.isdir(attempt):  # an empty Parquet part: nothing was written
        return
    for name in os.listdir(attempt):
        if os.path.isdir(os.path.join(attempt, name)):
            os.makedirs(os.path.join(staging, name), exist_ok=True)
            os.rename(os.path.join(attempt, name, part), os.path.join(staging, name, part))


def _names_under(filesystem: Any, root: str) -> list[str]:
    """The names of every file under ``root`` of a store, relative to it."""
    if not filesystem.exists(root):
        return []
    filesystem.invalidate_cache(root)
    return [path[len(root) :].strip("/") for path in filesystem.find(root)]


def _move_all(filesystem: Any, source: str, destination: str, names: list[str]) -> None:
    """Move each of ``names`` from ``source`` to ``destination``; if one cannot be,
    move back those moved, and raise (what could not be moved back stays where it is,
    in ``destination``)."""
    moved: list[str] = []
    try:
        for name in names:
            filesystem.mv(f"{source}/{name}", f"{destination}/{name}")
            moved.append(name)
    except BaseException:
        for name in reversed(moved):
            with contextlib.suppress(Exception):
                filesystem.mv(f"{destination}/{name}", f"{source}/{name}")
        raise


def _read_or_nothing(filesystem: Any, path: str) -> bytes:
    try:
        return bytes(filesystem.cat_file(path))
    except OSError:
        return b""


def _held_by(held: bytes, target: str, lock: str) -> str:
    """What to say of the commit marker ``held`` another job left at ``lock``."""
    try:
        other = json.loads(held)
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(other["since"])))
        who = f"job {other['job']} (process {other['owner']}, since {since})"
        gone = owner_gone(str(other["owner"]))
    except (ValueError, KeyError, TypeError):
        who, gone = "another job", False
    state = ", which is no longer running," if gone else ""
    return (
        f"{who}{state} is committing to the output {target!r}; this job's results were not "
        f"written: choose another output, or, if no job is committing there, remove {lock!r}"
    )


def write_output(
    partitions: Iterable[Iterable[Any]],
    target: str,
    overwrite: bool,
    line_format: str,
    codec: str | None = None,
    schema: Any = None,
) -> None:
    """Write results the driver holds to ``target`` (in ``codec``, if given): a local
    one as ``write_results`` does; to a URL, a folder through a committer as tasks
    do, or one file under a hidden name moved into place once complete."""
    if not is_url(target) or target.startswith("file://"):
        local = target.removeprefix("file://")
        write_results(partitions, local, overwrite, line_format, codec, schema)
        return
    if output_kind(target) == "folder":
        committer = TaskCommitter.for_target(target, line_format, overwrite, codec, schema)
        try:
            parts = [
                committer.write_part(partition, 1, results)[0]
                for partition, results in enumerate(partitions)
            ]
        except BaseException:
            committer.abort()
            raise
        committer.commit(parts)
        return
    filesystem, inner = filesystem_of(target, "write")
    parent, name = inner.rsplit("/", 1) if "/" in inner else ("", inner)
    temporary = f"{parent}/.{name}.simplemr-new-{uuid.uuid4().hex[:16]}"
    try:
        try:
            with results_text(filesystem.open(temporary, "wb"), line_format, codec) as text:
                for results in partitions:
                    write_lines(text, results, line_format)
            if not overwrite and filesystem.exists(inner):
                raise OutputError(
                    f"the output {target!r} was written by someone else while this job "
                    "ran; this job's results were not written: choose another output"
                )
            filesystem.mv(temporary, inner)
        finally:
            with contextlib.suppress(Exception):
                if filesystem.exists(temporary):
                    filesystem.rm_file(temporary)
    except OSError as error:
        raise OutputError(f"cannot write the output {target!r}: {error}") from error
