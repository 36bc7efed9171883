"""Fault injection: each fault, tried several times, and what came of it.

    python bench/faults.py --runs 5 > table.md

A fault passes when the job either gives exactly the undisturbed result, or fails
with one clear message (checked text), a non-zero exit where a command is run,
and nothing left in its temp root. The table is docs/reliability.md's figure.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil

import simplemr

ITEMS = list(range(400))


def slow_mapper(number: int) -> list[tuple[int, int]]:
    time.sleep(0.003)
    return [(number % 7, number)]


def values_reducer(key: int, values) -> tuple[int, list[int]]:
    return key, sorted(values)


def expected() -> list:
    groups: dict[int, list[int]] = {}
    for number in ITEMS:
        groups.setdefault(number % 7, []).append(number)
    return sorted((key, sorted(values)) for key, values in groups.items())


def exiting_mapper(number: int) -> list[tuple[int, int]]:
    marker = os.environ["FAULT_MARKER"]
    if number == 123 and not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(7)
    return slow_mapper(number)


def killing_reducer(key: int, values) -> tuple[int, list[int]]:
    marker = os.environ["FAULT_MARKER"]
    if key == 3 and not os.path.exists(marker):
        open(marker, "w").close()
        os.kill(os.getpid(), signal.SIGKILL)
    return values_reducer(key, values)


def raising_mapper(number: int) -> list[tuple[int, int]]:
    if number == 77:
        raise ValueError("bad record")
    return slow_mapper(number)


def _workers() -> list[psutil.Process]:
    return [
        child
        for child in psutil.Process().children()
        if "forkserver" not in " ".join(child.cmdline())
        and "resource_tracker" not in " ".join(child.cmdline())
    ]


# Each fault returns (passed, what happened).


def fault_random_kill(root: Path, seed: int) -> tuple[bool, str]:
    chooser = random.Random(seed)
    killed: list[psutil.Process] = []

    def kill() -> None:
        time.sleep(chooser.uniform(0.05, 0.5))
        workers = _workers()
        if workers:
            killed.append(chooser.choice(workers))
            killed[-1].kill()

    killer = threading.Thread(target=kill)
    killer.start()
    job = simplemr.MapReduce(slow_mapper, values_reducer, workers=2, start_method="fork",
                             tmp_dir=str(root))  # fmt: skip
    result = job.run(ITEMS, chunksize=10)
    killer.join()
    same = sorted(result.results) == expected() and len(killed) == 1
    _, alive = psutil.wait_procs(_workers(), timeout=5)
    clean = not any(root.iterdir()) and not alive
    return same and clean, f"retries {result.counters['tasks.retries']}"


def _dies_once(root: Path, seed: int, mapper, reducer) -> tuple[bool, str]:
    """Run a job whose mapper or reducer kills its worker once (a marker file remembers)."""
    os.environ["FAULT_MARKER"] = str(root.parent / f"marker-{seed}")
    job = simplemr.MapReduce(mapper, reducer, workers=2, tmp_dir=str(root))
    result = job.run(ITEMS, chunksize=10)
    same = sorted(result.results) == expected()
    return same and not any(root.iterdir()), f"retries {result.counters['tasks.retries']}"


def fault_mapper_exits(root: Path, seed: int) -> tuple[bool, str]:
    return _dies_once(root, seed, exiting_mapper, values_reducer)


def fault_reducer_killed(root: Path, seed: int) -> tuple[bool, str]:
    return _dies_once(root, seed, slow_mapper, killing_reducer)


def fault_user_exception(root: Path, seed: int) -> tuple[bool, str]:
    job = simplemr.MapReduce(raising_mapper, values_reducer, workers=2, tmp_dir=str(root))
    try:
        job.run(ITEMS, chunksize=10)
    except simplemr.TaskFailedError as error:
        clear = "item 78 (77): the mapper raised ValueError: bad record" in str(error)
        return clear and not any(root.iterdir()), str(error)[:60]
    return False, "no error"


def _cli(root: Path, *args: str, **options) -> subprocess.Popen:
    command = [sys.executable, "-m", "simplemr", "wordcount", "--tmp-dir", str(root), *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True, **options)  # fmt: skip


def _big_text(root: Path) -> Path:
    path = root.parent / "big.txt"
    if not path.exists():
        chunk = "the quick brown fox jumps over the lazy dog, again and again\n" * 16384
        path.write_text(chunk * 100)  # 100 MB: seconds of work
    return path


def _interrupt(root: Path, seed: int, sent: int, status: int) -> tuple[bool, str]:
    process = _cli(root, str(_big_text(root)), "--memory", "2MiB")
    deadline = time.monotonic() + 30
    while not any(root.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.02)  # the job has started: its work folder is there
    time.sleep(random.Random(seed).uniform(0, 0.8))
    children = psutil.Process(process.pid).children(recursive=True)
    started = time.monotonic()
    process.send_signal(sent)
    process.communicate(timeout=60)
    took = time.monotonic() - started
    _, alive = psutil.wait_procs(children, timeout=5)
    passed = process.returncode == status and not alive and not any(root.iterdir())
    return passed and took < 5, f"exit {process.returncode} in {took:.1f} s"


def fault_ctrl_c(root: Path, seed: int) -> tuple[bool, str]:
    return _interrupt(root, seed, signal.SIGINT, 130)


def fault_sigterm(root: Path, seed: int) -> tuple[bool, str]:
    return _interrupt(root, seed, signal.SIGTERM, 143)


def fault_sighup(root: Path, seed: int) -> tuple[bool, str]:
    return _interrupt(root, seed, signal.SIGHUP, 129)


def fault_sigquit(root: Path, seed: int) -> tuple[bool, str]:
    return _interrupt(root, seed, signal.SIGQUIT, 131)


def stuck_mapper(number: int) -> list[tuple[int, int]]:
    if number == 123:
        time.sleep(3600)
    return slow_mapper(number)


def fault_stuck_mapper(root: Path, seed: int) -> tuple[bool, str]:
    job = simplemr.MapReduce(stuck_mapper, values_reducer, workers=2, task_timeout=2,
                             max_attempts=2, tmp_dir=str(root))  # fmt: skip
    started = time.monotonic()
    try:
        job.run(ITEMS, chunksize=10)
    except simplemr.WorkerLostError as error:
        took = time.monotonic() - started
        clear = "made no progress for 2 s and was killed" in str(error)
        return clear and not any(root.iterdir()), f"failed after {took:.0f} s, naming the timeout"
    return False, "no error"


def slower_mapper(number: int) -> list[tuple[int, int]]:
    time.sleep(0.01)  # 4 s of work in all: the stop comes while tasks run
    return [(number % 7, number)]


def fault_stopped_worker(root: Path, seed: int) -> tuple[bool, str]:
    stopped: list[psutil.Process] = []

    def stop() -> None:
        time.sleep(random.Random(seed).uniform(0.3, 0.8))
        workers = _workers()
        if workers:
            stopped.append(workers[0])
            os.kill(workers[0].pid, signal.SIGSTOP)

    stopper = threading.Thread(target=stop)
    stopper.start()
    job = simplemr.MapReduce(slower_mapper, values_reducer, workers=2, start_method="fork",
                             task_timeout=1.5, tmp_dir=str(root))  # fmt: skip
    result = job.run(ITEMS, chunksize=10)
    stopper.join()
    same = sorted(result.results) == expected() and len(stopped) == 1
    return same and not any(root.iterdir()), f"retries {result.counters['tasks.retries']}"


def fault_driver_killed(root: Path, seed: int) -> tuple[bool, str]:
    script = root.parent / "spin.py"
    script.write_text(
        "import sys, simplemr\n"
        "def spin(item):\n    while True:\n        pass\n"
        "simplemr.MapReduce(spin, lambda k, v: k, workers=2, tmp_dir=sys.argv[1]).run([1, 2])\n"
    )
    process = subprocess.Popen([sys.executable, str(script), str(root)])
    deadline = time.monotonic() + 30
    while not any(root.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(1 + random.Random(seed).uniform(0, 0.5))
    tree = psutil.Process(process.pid).children(recursive=True)
    process.kill()
    process.wait()
    _, alive = psutil.wait_procs(tree, timeout=10)
    left = any(root.iterdir())
    simplemr.MapReduce(slow_mapper, values_reducer, executor="inline", tmp_dir=str(root)).run([1])
    cleaned = not any(root.iterdir())
    return not alive and left and cleaned, "no worker left; its work folder went with the next job"


def exiting_user_code(number: int) -> list[tuple[int, int]]:
    if number == 77:
        sys.exit("no 77")
    return slow_mapper(number)


def fault_sys_exit(root: Path, seed: int) -> tuple[bool, str]:
    job = simplemr.MapReduce(exiting_user_code, values_reducer, workers=2, tmp_dir=str(root))
    try:
        job.run(ITEMS, chunksize=10)
    except simplemr.TaskFailedError as error:
        clear = "the mapper raised SystemExit: no 77" in str(error)
        return clear and not any(root.iterdir()), str(error)[-40:]
    return False, "no error"


def fault_nan_keys(root: Path, seed: int) -> tuple[bool, str]:
    job = simplemr.MapReduce(lambda n: [(float("nan") if n % 2 else n % 3, 1)],
                             lambda key, ones: (repr(key), sum(ones)), workers=2,
                             memory="64KB", tmp_dir=str(root))  # fmt: skip
    result = dict(job.run(range(20_000), chunksize=500).results)
    return result == {"nan": 10_000, "0": 3334, "1": 3333, "2": 3333}, f"{len(result)} keys"


def fault_fifo_in_folder(root: Path, seed: int) -> tuple[bool, str]:
    folder = root.parent / f"in-{seed}"
    folder.mkdir()
    (folder / "a.txt").write_text("pear fig pear\n")
    os.mkfifo(folder / "pipe")
    process = _cli(root, str(folder), "--output", "-")
    out, stderr = process.communicate(timeout=60)
    passed = sorted(out.splitlines()) == ["fig\t1", "pear\t2"] and "named pipe" in stderr
    return passed and process.returncode == 0 and not any(root.iterdir()), stderr.strip()[-40:]


def growing_mapper(line: str) -> list[tuple[str, int]]:
    with open(os.environ["FAULT_GROWING"], "a") as file:
        file.write("more\n")
    return [(line, 1)]


def fault_growing_input(root: Path, seed: int) -> tuple[bool, str]:
    path = root.parent / f"log-{seed}.txt"
    path.write_text("line\n" * 20_000)
    os.environ["FAULT_GROWING"] = str(path)
    job = simplemr.MapReduce(growing_mapper, values_reducer, workers=2, tmp_dir=str(root))
    try:
        job.run(simplemr.text_files(path))
    except simplemr.TaskFailedError as error:
        clear = "changed while the job read it" in str(error)
        return clear and not any(root.iterdir()), "changed while the job read it"
    return False, "no error"


def fault_full_disk(root: Path, seed: int) -> tuple[bool, str]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (128 * 1024, 128 * 1024))

    words = root.parent / "words.txt"
    if not words.exists():
        letters = ("".join(chr(97 + int(d)) for d in f"{n:06d}") for n in range(300_000))
        words.write_text("\n".join(letters))  # distinct words: output too big for the limit
    process = _cli(root, str(words), "--memory", "2MiB", preexec_fn=limit)
    _, stderr = process.communicate(timeout=120)
    clear = "cannot write to the work folder" in stderr and stderr.count("\n") == 1
    return clear and process.returncode == 1 and not any(root.iterdir()), stderr.strip()[-50:]


def fault_corrupt_gzip(root: Path, seed: int) -> tuple[bool, str]:
    path = root.parent / "broken.txt.gz"
    path.write_bytes(gzip.compress(b"some words here\n" * 20000)[:-40])
    process = _cli(root, str(path))
    _, stderr = process.communicate(timeout=60)
    clear = "broken.txt.gz" in stderr and stderr.count("\n") == 1
    return clear and process.returncode == 1 and not any(root.iterdir()), stderr.strip()[-50:]


def forgetful_mapper(number: int) -> list[tuple[int, int]]:
    """A mapper that starts a long ``sleep`` and forgets it (its pid noted)."""
    if number % 100 == 0:
        child = subprocess.Popen(["sleep", "600"])
        with open(os.environ["FAULT_CHILDREN"], "a") as file:
            file.write(f"{child.pid}\n")
    return slow_mapper(number)


def fault_forgotten_children(root: Path, seed: int) -> tuple[bool, str]:
    noted = root.parent / f"children-{seed}"
    os.environ["FAULT_CHILDREN"] = str(noted)
    job = simplemr.MapReduce(forgetful_mapper, values_reducer, workers=2, tmp_dir=str(root))
    same = sorted(job.run(ITEMS, chunksize=50).results) == expected()
    pids = [int(line) for line in noted.read_text().split()]
    _, alive = psutil.wait_procs([psutil.Process(p) for p in pids if psutil.pid_exists(p)], 10)
    for process in alive:
        process.kill()
    return same and not alive and not any(root.iterdir()), f"{len(alive)} of {len(pids)} left"


def fault_utf16_bomb(root: Path, seed: int) -> tuple[bool, str]:
    path = root.parent / "bomb.txt.gz"
    if not path.exists():
        with gzip.open(path, "wb", compresslevel=1) as file:
            file.write("short\n".encode("utf-16"))
            for _ in range(100):  # one line of 100 M characters: 200 MB of UTF-16
                file.write(("x" * 1_000_000).encode("utf-16-le"))
    stats = root.parent / f"stats-{seed}.json"
    process = _cli(root, str(path), "--encoding", "utf-16", "--memory", "8MiB", "--workers",
                   "1", "--stats", str(stats))  # fmt: skip
    _, stderr = process.communicate(timeout=120)
    clear = "longer than the memory budget" in stderr and stderr.count("\n") == 1
    peak = max(json.loads(stats.read_text())["peak_memory_bytes"]["workers"].values())
    bounded = peak < 120 * 2**20  # the line alone: 200 MB
    said = f"worker peak {peak >> 20} MiB; " + stderr.strip()[-30:]
    return clear and bounded and process.returncode == 1 and not any(root.iterdir()), said


def flaky_reducer(key: int, values) -> tuple[int, list[int]]:
    marker = os.environ["FAULT_MARKER"]
    if key == 2 and not os.path.exists(marker):
        open(marker, "w").close()
        raise ConnectionError("the service is busy")
    return values_reducer(key, values)


def fault_transient_error(root: Path, seed: int) -> tuple[bool, str]:
    os.environ["FAULT_MARKER"] = str(root.parent / f"flaky-{seed}")
    job = simplemr.MapReduce(slow_mapper, flaky_reducer, workers=2, tmp_dir=str(root),
                             retry_exceptions=(ConnectionError,))  # fmt: skip
    result = job.run(ITEMS)
    retried = result.counters["tasks.retries"]
    same = sorted(result.results) == expected()
    return same and retried == 1 and not any(root.iterdir()), f"retries {retried}"


FAULTS: dict[str, Callable[[Path, int], tuple[bool, str]]] = {
    "a worker SIGKILLed from outside at a random moment": fault_random_kill,
    "a mapper's worker exits (os._exit) mid-task": fault_mapper_exits,
    "a reducer's worker is SIGKILLed mid-task": fault_reducer_killed,
    "an exception in the mapper": fault_user_exception,
    "Ctrl-C (SIGINT) to the command mid-job": fault_ctrl_c,
    "SIGTERM to the command mid-job": fault_sigterm,
    "SIGHUP (the terminal closed) to the command mid-job": fault_sighup,
    "SIGQUIT (Ctrl-\\) to the command mid-job": fault_sigquit,
    "a mapper stuck on one record (task_timeout 2 s)": fault_stuck_mapper,
    "a worker stopped with SIGSTOP (task_timeout 1.5 s)": fault_stopped_worker,
    "the driver SIGKILLed while workers are busy": fault_driver_killed,
    "sys.exit() in a mapper": fault_sys_exit,
    "NaN keys (half of 20,000 records), a 64 KB budget": fault_nan_keys,
    "a FIFO in an input folder": fault_fifo_in_folder,
    "an input file that grows while it is read": fault_growing_input,
    "the work folder's disk fills up (file size limit)": fault_full_disk,
    "a truncated .gz input": fault_corrupt_gzip,
    "a mapper starts processes and forgets them": fault_forgotten_children,
    "a 100 M-character UTF-16 line in a 0.5 MB .gz (--memory 8MiB)": fault_utf16_bomb,
    "a reducer's transient error, with retry_exceptions": fault_transient_error,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="tries per fault")
    args = parser.parse_args()
    print("| fault | tries | passed | outcome (last try) |")
    print("|---|---:|---:|---|")
    for name, fault in FAULTS.items():
        passed, last = 0, ""
        for seed in range(args.runs):
            with tempfile.TemporaryDirectory() as folder:
                root = Path(folder) / "root"
                root.mkdir()
                ok, last = fault(root, seed)
                passed += ok
        print(f"| {name} | {args.runs} | {passed} | {last} |", flush=True)


if __name__ == "__main__":
    main()
