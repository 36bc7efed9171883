"""simplemr across hosts: a Dask scheduler, two workers, an S3 server and the driver,
each in a network namespace of its own (``examples/netcluster.py``), sharing no
folder for job data. Inputs are uploaded to the S3 server and outputs read back
from it; the local executor, run here on the same inputs, is the reference.

Skips unless this machine can make network namespaces (Linux, root, iproute2) and
has dask.distributed, moto and s3fs installed.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, SAMPLE

pytestmark = pytest.mark.timeout(900)

JOBS = Path(__file__).parent / "cluster"


def _netcluster():
    spec = importlib.util.spec_from_file_location("netcluster", REPO / "examples" / "netcluster.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["netcluster"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


netcluster = _netcluster()


@pytest.fixture(scope="module")
def cluster():
    reason = netcluster.why_not()
    if reason:
        pytest.skip(f"no namespace cluster here: {reason}")
    netcluster.remove_leftovers()  # of a run killed before it could clean up
    with netcluster.NetCluster() as started:
        started.s3().mkdir("data")
        yield started


@pytest.fixture
def s3(cluster):
    filesystem = cluster.s3()
    filesystem.invalidate_cache()
    return filesystem


def _text(lines: int, seed: int = 0) -> bytes:
    """Text of ``lines`` lines from the bundled sample, with numbered words mixed in
    so that the vocabulary grows with the text."""
    sample = [line for path in sorted(SAMPLE.iterdir()) for line in path.read_text().split("\n")]
    return "".join(
        f"{sample[(n * 7 + seed) % len(sample)]} token{(n * 31 + seed) % 5000}\n"
        for n in range(lines)
    ).encode()


def _upload(s3, prefix: str, files: dict[str, bytes]) -> str:
    for name, data in files.items():
        s3.pipe(f"data/{prefix}/{name}", data)
    return f"s3://data/{prefix}/"


def _simplemr(cluster, host: str, args: list[str], **options) -> subprocess.CompletedProcess:
    """``simplemr ARGS`` on ``host``, reaching the S3 server by its address."""
    command = [sys.executable, "-m", "simplemr", *args]
    command += ["--storage-option", f"endpoint_url={cluster.endpoint}"]
    return cluster.run(host, command, capture_output=True, timeout=600, **options)


def _on_cluster(cluster, args: list[str]) -> subprocess.CompletedProcess:
    done = _simplemr(
        cluster, "driver", [*args, "--executor", "dask", "--scheduler", cluster.scheduler]
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    return done


def _locally(cluster, args: list[str]) -> subprocess.CompletedProcess:
    """``simplemr ARGS`` on this machine with the local executor (the reference),
    reading and writing the cluster's S3 server."""
    command = [sys.executable, "-m", "simplemr", *args, "--executor", "local", "--workers", "2"]
    command += ["--storage-option", f"endpoint_url={cluster.endpoint}"]
    done = subprocess.run(
        command, env=cluster.environment("driver"), capture_output=True, timeout=600
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    return done


def _parts(s3, url: str) -> dict[str, bytes]:
    s3.invalidate_cache()
    root = url.removeprefix("s3://").rstrip("/")
    return {path[len(root) + 1 :]: s3.cat(path) for path in s3.find(root)}


def _local_parts(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_word_count_from_s3_to_s3_equals_the_local_executor(cluster, s3, tmp_path):
    books = _upload(s3, "books", {f"book-{n}.txt": _text(4000, n) for n in range(5)})
    common = ["--partitions", "4"]
    done = _on_cluster(cluster, ["wordcount", books, "--output", "s3://data/counts/", *common])
    reference = tmp_path / "counts"
    local = _locally(cluster, ["wordcount", books, "--output", str(reference), *common])
    assert _parts(s3, "s3://data/counts/") == _local_parts(reference)
    assert sorted(_parts(s3, "s3://data/counts/")) == [
        "_SUCCESS", "part-00000", "part-00001", "part-00002", "part-00003",
    ]  # fmt: skip
    assert done.stdout == local.stdout  # the top words, merged from each task's
    assert b"TOP 20 WORDS" in done.stdout


def test_a_two_step_job_from_s3_to_s3_equals_the_local_executor(cluster, s3, tmp_path):
    books = _upload(s3, "two-step", {f"book-{n}.txt": _text(3000, n) for n in range(3)})
    job = ["run", "simplemr.examples.top_k:TopK", books, "--k", "15", "--partitions", "3"]
    _on_cluster(cluster, [*job, "-o", "s3://data/top/"])
    reference = tmp_path / "top"
    _locally(cluster, [*job, "-o", str(reference)])
    parts = _parts(s3, "s3://data/top/")
    assert parts == _local_parts(reference)
    lines = b"".join(parts[name] for name in sorted(parts) if name.startswith("part-")).split(b"\n")
    assert len([line for line in lines if line]) == 15


def _worker_address(client, name: str) -> str:
    for address, info in client.scheduler_info()["workers"].items():
        if info["name"] == name:
            return address
    raise LookupError(name)


def _kill_when_running(cluster, driver: subprocess.Popen, phase: str) -> None:
    """Kill worker-1's host as soon as it runs a task of ``phase``."""
    from distributed import Client

    with Client(cluster.scheduler, timeout="20s") as client:
        address = _worker_address(client, "worker-1")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and driver.poll() is None:
            running = client.processing(workers=[address]).get(address, ())
            if any(f"simplemr-{phase}" in str(key) for key in running):
                time.sleep(0.3)  # inside the task's pause
                cluster.kill_host("worker-1")
                return
            time.sleep(0.05)
    pytest.fail(f"worker-1 never ran a {phase} task")


@pytest.mark.parametrize("phase", ["map", "reduce"])
def test_a_worker_host_killed_mid_task_still_gives_the_exact_output(cluster, s3, tmp_path, phase):
    inputs = _upload(s3, f"kill-{phase}", {f"part-{n}.txt": _text(6000, n) for n in range(8)})
    out = f"s3://data/killed-{phase}/"
    job = ["run", str(JOBS / "slow_count.py"), inputs, "--partitions", "4"]
    command = [sys.executable, "-m", "simplemr", *job, "-o", out, "--executor", "dask",
               "--scheduler", cluster.scheduler,
               "--storage-option", f"endpoint_url={cluster.endpoint}"]  # fmt: skip
    driver = subprocess.Popen(
        ["ip", "netns", "exec", cluster.namespace("driver"), *command],
        env=cluster.environment("driver"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _kill_when_running(cluster, driver, phase)
        _, stderr = driver.communicate(timeout=600)
    finally:
        if driver.poll() is None:
            driver.kill()
        cluster.start_worker("worker-1")
        cluster.wait_for_workers(2)
    assert driver.returncode == 0, stderr.decode()[-3000:]
    reference = tmp_path / "reference"
    _locally(cluster, [*job, "-o", str(reference)])
    parts = _parts(s3, out)
    assert sorted(parts) == ["_SUCCESS", "part-00000", "part-00001", "part-00002", "part-00003"]
    assert parts == _local_parts(reference)


def _stats(cluster, args: list[str], name: str) -> dict:
    """Run ``args`` on the cluster with ``--stats``; return what it wrote."""
    path = Path(cluster.folder("driver")) / f"{name}.json"
    _on_cluster(cluster, [*args, "--stats", str(path)])
    return json.loads(path.read_text())


def test_the_drivers_memory_stays_flat_as_the_input_grows_tenfold(cluster, s3):
    small = _upload(s3, "grow-1", {"text.txt": _text(20_000)})
    large = _upload(s3, "grow-10", {f"text-{n}.txt": _text(20_000, n) for n in range(10)})
    peaks = {}
    for name, inputs in (("small", small), ("large", large)):
        stats = _stats(cluster, ["wordcount", inputs, "--output", f"s3://data/{name}/"], name)
        peaks[name] = stats["peak_memory_bytes"]["driver"]
        peaks[name + " input"] = stats["input_bytes"]
    assert peaks["large input"] >= 9 * peaks["small input"], peaks
    assert peaks["large"] < peaks["small"] + 24 * 2**20, peaks


def test_a_reduce_task_over_a_partition_ten_times_its_budget_stays_within_it(cluster, s3):
    inputs = _upload(s3, "wide", {"numbers.txt": "".join(f"{n}\n" for n in range(60)).encode()})
    budget = 4 * 2**20  # --memory 8MiB over two workers
    job = ["run", str(JOBS / "wide_partition.py"), inputs, "-o", "s3://data/wide-out/",
           "--partitions", "1", "--memory", "8MiB", "--output-format", "jsonl"]  # fmt: skip
    stats = _stats(cluster, job, "wide")
    [part] = [
        data for name, data in _parts(s3, "s3://data/wide-out/").items() if name.startswith("part")
    ]
    said = dict(json.loads(line) for line in part.decode().splitlines())
    assert said["keys"] == 60 * 50_000
    partition = stats["counters"]["map.spilled_bytes"]  # the one partition's bytes
    assert partition > 10 * budget, stats
    fetch_window = 4 * 2**20
    assert said["peak growth"] < 2 * budget + fetch_window + 24 * 2**20, (said, partition)
