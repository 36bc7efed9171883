"""What a driver or worker killed with SIGKILL leaves on disk is removed by the next job.

Work folders, stdin spools, output temporaries and Dask task folders carry their
owner's process ID and host; the next job there removes those of this host and user
whose process is gone, and nothing else.
"""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

import simplemr
from simplemr.io.output import write_results
from simplemr.io.workdir import is_stale, make_workdir, owner_tag


def dead_pid() -> int:
    """The ID of a process that has ended."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return int(done.stdout)


def test_a_dead_drivers_work_folder_goes_and_a_live_ones_stays(tmp_path: Path) -> None:
    host = owner_tag().split("@")[1]
    dead = tmp_path / f"simplemr-{dead_pid()}@{host}-abcd1234"
    dead.mkdir()
    (dead / "1-map-00000-1.seg").write_bytes(b"x" * 100)
    spool = tmp_path / f"simplemr-stdin-{dead_pid()}@{host}-efgh"
    spool.mkdir()
    alive = tmp_path / f"simplemr-{os.getppid()}@{host}-wxyz"  # pytest's parent lives
    alive.mkdir()
    elsewhere = tmp_path / f"simplemr-{dead_pid()}@00000000-other"  # another host's
    elsewhere.mkdir()
    untagged = tmp_path / "simplemr-old-style"
    untagged.mkdir()
    job = simplemr.MapReduce(lambda n: [(n, 1)], lambda k, v: k, executor="inline",
                             tmp_dir=str(tmp_path))  # fmt: skip
    assert sorted(job.run([1, 2]).results) == [1, 2]
    left = sorted(path.name for path in tmp_path.iterdir())
    assert left == sorted([alive.name, elsewhere.name, untagged.name])


def test_a_work_folder_names_its_owner(tmp_path: Path) -> None:
    folder = make_workdir(str(tmp_path))
    assert os.path.basename(folder).startswith(f"simplemr-{owner_tag()}-")
    assert not is_stale(os.path.basename(folder), folder)


def test_a_killed_jobs_output_temporary_goes_when_the_output_is_written(tmp_path: Path) -> None:
    host = owner_tag().split("@")[1]
    stale = tmp_path / f".counts.tsv.simplemr-new-{dead_pid()}@{host}"
    stale.write_text("half of it\n")
    other = tmp_path / f".other.tsv.simplemr-new-{dead_pid()}@{host}"  # another target's
    other.write_text("\n")
    write_results([[("a", 1)]], str(tmp_path / "counts.tsv"))
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(["counts.tsv", other.name])


def test_a_killed_dask_workers_task_folder_goes_with_the_next_task(
    tmp_path: Path, monkeypatch
) -> None:
    host = owner_tag().split("@")[1]
    stale = tmp_path / f"simplemr-task-{dead_pid()}@{host}-q1w2"
    stale.mkdir()
    (stale / "1-map-00003-1.seg").write_bytes(b"x")
    pytest.importorskip("distributed")
    from simplemr.executors.dask import _private_folder

    worker = types.SimpleNamespace(local_directory=str(tmp_path))
    for environment in ({"SIMPLEMR_TMPDIR": str(tmp_path)}, {}):
        monkeypatch.delenv("SIMPLEMR_TMPDIR", raising=False)
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        with _private_folder(worker) as private:
            assert os.path.basename(private).startswith(f"simplemr-task-{owner_tag()}-")
            assert not stale.exists()
        assert list(tmp_path.iterdir()) == []


def test_a_killed_drivers_fork_server_folder_goes(tmp_path: Path) -> None:
    import socket

    from simplemr.executors.local import remove_dead_socket_folders

    dead, live, other = tmp_path / "pymp-dead", tmp_path / "pymp-live", tmp_path / "pymp-files"
    for folder in (dead, live, other):
        folder.mkdir()
    gone = socket.socket(socket.AF_UNIX)
    gone.bind(str(dead / "listener-1"))
    gone.close()  # its server died: the socket file stays, nobody listens
    listening = socket.socket(socket.AF_UNIX)
    listening.bind(str(live / "listener-2"))
    listening.listen()
    (other / "notes.txt").write_text("not a socket")
    try:
        remove_dead_socket_folders(str(tmp_path))
    finally:
        listening.close()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["pymp-files", "pymp-live"]
