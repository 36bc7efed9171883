"""Faults from outside the job: workers killed at random, a full disk."""

from __future__ import annotations

import os
import pwd
import random
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from reference import as_multiset, reference_mapreduce
from sample_jobs import (
    dying_reducer,
    failing_mapper,
    first_reducer,
    identity_mapper,
    slow_mapper,
    sorted_values_reducer,
)

import simplemr


def workers_of_this_process(earlier: frozenset[int] = frozenset()) -> list[psutil.Process]:
    """Worker processes forked from this one (not multiprocessing's helpers, nor
    the ``earlier`` children: another test's Dask cluster, say)."""
    helpers = ("forkserver", "resource_tracker")
    found = []
    for child in psutil.Process().children():
        if child.pid in earlier:
            continue
        try:
            command = " ".join(child.cmdline())
        except psutil.Error:
            continue
        if not any(helper in command for helper in helpers):
            found.append(child)
    return found


@pytest.mark.timeout(120)
@pytest.mark.parametrize("seed", range(3))
def test_a_worker_killed_from_outside_at_a_random_moment(seed: int) -> None:
    chooser = random.Random(seed)
    earlier = frozenset(child.pid for child in psutil.Process().children())
    items = list(range(300))
    expected = reference_mapreduce(slow_mapper, sorted_values_reducer, items)
    job = simplemr.MapReduce(slow_mapper, sorted_values_reducer, workers=2, start_method="fork")
    killed: list[int] = []

    def kill_one() -> None:
        time.sleep(chooser.uniform(0.1, 0.6))
        workers = workers_of_this_process(earlier)
        if workers:
            victim = chooser.choice(workers)
            victim.kill()
            killed.append(victim.pid)

    killer = threading.Thread(target=kill_one)
    killer.start()
    result = job.run(items, chunksize=10)
    killer.join()
    assert killed, "the job ended before a worker could be killed"
    assert as_multiset(result.results) == as_multiset(expected)
    assert result.counters["map.records_in"] == len(items)
    assert result.counters["tasks.retries"] <= 1


def test_a_reducer_that_kills_its_worker_is_rerun(tmp_path: Path, monkeypatch) -> None:
    items = list(range(100))
    simplemr.MapReduce(slow_mapper, first_reducer, workers=2).run(items)  # a fork server runs
    marker = tmp_path / "died"
    monkeypatch.setenv("SIMPLEMR_TEST_MARKER", str(marker))  # set after it started
    job = simplemr.MapReduce(slow_mapper, dying_reducer, workers=2, partitions=3)
    result = job.run(items)
    expected = reference_mapreduce(slow_mapper, sorted_values_reducer, items)
    assert marker.exists()
    assert as_multiset(result.results) == as_multiset(expected)
    assert result.counters["tasks.retries"] == 1


def test_a_failing_job_leaves_no_worker_behind() -> None:
    earlier = frozenset(child.pid for child in psutil.Process().children())
    job = simplemr.MapReduce(failing_mapper, first_reducer, workers=2, start_method="fork")
    with pytest.raises(simplemr.TaskFailedError):
        job.run(range(100), chunksize=1)
    _, alive = psutil.wait_procs(workers_of_this_process(earlier), timeout=5)
    assert alive == []


@pytest.mark.timeout(120)
def test_a_full_disk_is_one_clear_error(tmp_path: Path) -> None:
    source = tmp_path / "words.txt"
    letters = ("".join(chr(ord("a") + int(d)) for d in f"{n:06d}") for n in range(300_000))
    source.write_text("\n".join(letters))
    root = tmp_path / "root"
    root.mkdir()

    def small_files() -> None:  # a file size limit stands in for a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, 256 * 1024))

    done = subprocess.run(
        [sys.executable, "-m", "simplemr", "wordcount", str(source), "--tmp-dir", str(root),
         "--memory", "2MiB", "--workers", "2"],
        preexec_fn=small_files, capture_output=True, text=True, timeout=120,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.startswith("simplemr: error: map task")
    assert "cannot write to the work folder" in done.stderr
    assert "file size limit" in done.stderr and "bytes to write there" in done.stderr
    assert done.stderr.count("\n") == 1
    assert list(root.iterdir()) == []


def run_without_file_permission_override(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the command line as root without the capabilities that let root read and
    write any file (tests run as root here, so permission checks need this)."""
    return subprocess.run(
        ["setpriv", "--bounding-set=-dac_override,-dac_read_search", sys.executable,
         "-m", "simplemr", "wordcount", *args],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip


NOBODY = pwd.getpwnam("nobody")
needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root and setpriv (util-linux) to test permissions",
)


@needs_root
def test_an_unreadable_file_is_refused_before_the_job(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    secret = tmp_path / "secret.txt"
    secret.write_text("hidden words\n")
    secret.chmod(0o600)
    os.chown(secret, NOBODY.pw_uid, NOBODY.pw_gid)
    done = run_without_file_permission_override(str(secret))
    assert done.returncode == 2
    assert done.stderr == f"simplemr: error: cannot read {str(secret)!r}: permission denied\n"


@needs_root
def test_an_unwritable_temp_root_is_named(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    source = tmp_path / "words.txt"
    source.write_text("some words\n")
    source.chmod(0o644)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o755)
    os.chown(locked, NOBODY.pw_uid, NOBODY.pw_gid)
    done = run_without_file_permission_override(str(source), "--tmp-dir", str(locked))
    assert done.returncode == 2
    assert f"cannot create a work folder in {str(locked)!r} (--tmp-dir)" in done.stderr
    assert done.stderr.count("\n") == 1


def test_the_work_folder_is_private(tmp_path: Path) -> None:
    seen: list[int] = []
    job = simplemr.MapReduce(identity_mapper, first_reducer, executor="inline",
                             tmp_dir=str(tmp_path))  # fmt: skip
    with job.stream(range(3)) as results:
        [folder] = tmp_path.iterdir()
        seen.append(folder.stat().st_mode & 0o777)
        list(results)
    assert seen == [0o700]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("stage", ["starting", "replying"])
def test_a_worker_whose_driver_has_gone_ends_quietly(stage: str) -> None:
    # An interrupted driver closes its pipes while workers may still be starting or
    # finishing a task: they must end without a traceback on the user's terminal.
    script = f"""
import multiprocessing, os, pickle, threading, cloudpickle
from simplemr.executors.local import _worker_main
driver, worker = multiprocessing.Pipe()
class SlowBadTask:
    def __reduce__(self):  # unpickled slowly, then fails: a failure to reply with
        return eval, ("__import__('time').sleep(0.5) or 1 / 0",)
def drive():
    driver.recv_bytes()  # the worker is ready
    driver.send_bytes(pickle.dumps(SlowBadTask()))
    driver.close()  # and gone before the reply
if {stage!r} == "replying":
    threading.Thread(target=drive).start()
else:
    driver.close()
_worker_main(worker, cloudpickle.dumps(None), dict(os.environ), multiprocessing.RawValue("d", 0.0),
             multiprocessing.RawValue("q", 0))
print("ended")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stderr == ""
    # It returns, or its watch on the driver's pipe ends the process: first, or after
    # the return while the interpreter shuts down, even halfway through its last print.
    # A worker that leads its process group ends the group with it (SIGKILL: what its
    # tasks started goes too); one that could not make a group exits with status 1.
    if done.returncode == 0:
        assert done.stdout == "ended\n"
    else:
        assert done.returncode in (1, -signal.SIGKILL)
        assert "ended\n".startswith(done.stdout)


DYING_ONCE = """
import os, signal, sys, simplemr

def mapper(n):
    if n == 7 and not os.path.exists(sys.argv[1]):
        open(sys.argv[1], "w").close()
        os._exit(3)  # the worker dies once, mid-task
    return [(n % 3, 1)]

if __name__ == "__main__":
    job = simplemr.MapReduce(mapper, lambda k, v: (k, sum(v)), workers=2, start_method=sys.argv[2])
    result = job.run(range(40), chunksize=5)
    print(sorted(result.results), result.counters["tasks.retries"])
    print(signal.getsignal(signal.SIGCHLD) == signal.SIG_IGN)  # as it was before the job
"""


@pytest.mark.timeout(300)
@pytest.mark.parametrize("method", ["spawn", "fork", "forkserver"])
def test_a_worker_dies_under_an_inherited_ignored_sigchld(tmp_path: Path, method: str) -> None:
    # With SIGCHLD ignored the kernel reaps children at once: a dead worker used to
    # look alive forever, and the driver spun at full CPU.
    script = tmp_path / "job.py"
    script.write_text(DYING_ONCE)
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "died"), method],
        capture_output=True, text=True, timeout=120,
        preexec_fn=lambda: signal.signal(signal.SIGCHLD, signal.SIG_IGN),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[(0, 14), (1, 13), (2, 13)] 1", "True"]
