"""The dask executor on a real cluster: jobs, job classes, lost workers, errors, the CLI."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil
import pytest
from conftest import SAMPLE
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import as_multiset, reference_pipeline
from sample_jobs import (
    PIPELINE,
    HookOrder,
    StorageOptionsSeen,
    ThreeSteps,
    always_dying_mapper,
    failing_mapper,
    identity_mapper,
    killing_its_dask_worker_once,
    sorted_values_reducer,
    sum_reducer,
    words_mapper,
)

import simplemr
from simplemr.cli import main
from simplemr.examples import wordcount
from simplemr.executors import make_executor
from simplemr.io.filesystems import storage_options

distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")
from simplemr.executors.dask import DaskExecutor  # noqa: E402


def test_word_count_of_text_files_equals_the_local_executor(dask_client: Any) -> None:
    files = simplemr.text_files(SAMPLE, split_size=1024)  # several byte ranges
    on_dask = wordcount.job(executor=dask_client, partitions=3).run(files)
    local = wordcount.job(executor="inline").run(files)
    assert sorted(on_dask) == sorted(local)
    assert on_dask.counters["tasks.map"] > 1
    assert on_dask.counters["input.bytes"] == local.counters["input.bytes"]


def test_hooks_run_once_per_task_on_dask(dask_client: Any) -> None:
    result = HookOrder().run(range(500), executor=dask_client, partitions=3, chunksize=50)
    counters = result.counters
    assert counters["hooks.mapper_init"] == counters["hooks.mapper_final"] == 10
    assert counters["hooks.reducer_init"] == counters["hooks.reducer_final"] == 3


def test_a_three_step_pipeline_and_sort_on_dask(dask_client: Any) -> None:
    lines = ["a b a c", "b a", "d d d e", "c", "e f g a"] * 11
    result = ThreeSteps().run(lines, executor=dask_client, partitions=4, sort=True)
    expected = reference_pipeline(PIPELINE, lines)
    assert result.results == sorted(expected)


def test_an_error_in_user_code_names_the_task_and_keeps_the_traceback(dask_client: Any) -> None:
    job = simplemr.MapReduce(failing_mapper, sorted_values_reducer, executor=dask_client)
    with pytest.raises(simplemr.TaskFailedError, match=r"item 4 \(3\).*ZeroDivisionError") as info:
        job.run(range(10), chunksize=2)
    assert "ZeroDivisionError" in str(info.value.__cause__)


def test_executor_dask_starts_a_local_cluster_for_the_job() -> None:
    job = simplemr.MapReduce(
        lambda n: [(n % 3, n)], lambda k, v: (k, sum(v)), executor="dask", workers=2
    )
    assert isinstance(job.executor, DaskExecutor)
    assert sorted(job.run(range(30))) == [(k, sum(range(k, 30, 3))) for k in range(3)]
    assert job.executor._cluster is None  # closed after the job


def test_an_unreachable_scheduler_fails_at_once() -> None:
    with pytest.raises(simplemr.JobDefinitionError, match="cannot reach the Dask scheduler"):
        DaskExecutor(address="tcp://127.0.0.1:9", connect_timeout="1s")


def test_without_distributed_the_dask_executor_says_what_to_install(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(simplemr.JobDefinitionError, match=r"pip install 'simplemr\[dask\]'"):
        make_executor("dask", 2)


def test_the_command_line_on_a_scheduler(dask_client: Any, tmp_path: Path, capsys) -> None:
    address = dask_client.scheduler.address
    on_dask, local = tmp_path / "dask.tsv", tmp_path / "local.tsv"
    arguments = ["wordcount", str(SAMPLE), "--output"]
    assert main([*arguments, str(on_dask), "--executor", "dask", "--scheduler", address]) == 0
    table = capsys.readouterr().out
    assert main([*arguments, str(local), "--executor", "local"]) == 0
    assert capsys.readouterr().out == table
    assert sorted(on_dask.read_bytes().splitlines()) == sorted(local.read_bytes().splitlines())
    assert main(["wordcount", str(SAMPLE), "--scheduler", address]) == 2
    assert "--scheduler goes with --executor dask" in capsys.readouterr().err


def test_word_count_of_the_recipes_own_files_on_dask(dask_client: Any, pymotw_rst: list) -> None:
    files = simplemr.text_files(pymotw_rst, split_size=8192)
    on_dask = wordcount.job(executor=dask_client).run(files)
    local = wordcount.job(workers=2).run(files)
    assert sorted(on_dask) == sorted(local)


@pytest.fixture(scope="module")
def fragile_cluster():
    """A cluster of its own for tests that kill workers; a task whose worker dies
    twice is given up on (KilledWorker)."""
    import dask

    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 1}),
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.mark.timeout(120)
def test_a_worker_killed_mid_job_loses_nothing_and_counts_once(
    fragile_cluster: Any, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("SIMPLEMR_TEST_MARKER", str(tmp_path / "killed"))
    fragile_cluster.run(lambda: __import__("os").environ.update(
        SIMPLEMR_TEST_MARKER=str(tmp_path / "killed")))  # fmt: skip
    job = simplemr.MapReduce(
        killing_its_dask_worker_once, sorted_values_reducer, executor=fragile_cluster
    )
    result = job.run(range(40), chunksize=4)
    assert (tmp_path / "killed").exists()
    assert as_multiset(result) == as_multiset([(k, list(range(k, 40, 5))) for k in range(5)])
    assert result.counters["test.mapped"] == 40
    assert result.counters["map.records_in"] == 40
    # Dask runs the killed task again itself: simplemr sees one attempt of each task.
    counters = result.counters
    assert counters["tasks.attempts"] == (
        counters["tasks.map"] + counters["tasks.reduce"] + counters["tasks.retries"]
    )


@pytest.mark.timeout(120)
def test_a_task_that_kills_every_worker_fails_naming_it(fragile_cluster: Any) -> None:
    job = simplemr.MapReduce(
        always_dying_mapper, sorted_values_reducer, executor=fragile_cluster, max_attempts=2
    )
    lost = r"map task 1 of 1 \(item 1 \(1\)\) failed after 2 attempts: (the Dask|Dask lost)"
    with pytest.raises(simplemr.WorkerLostError, match=lost):
        job.run([1])


@pytest.mark.parametrize("executor", ["local", "dask"])
def test_the_driver_holds_no_intermediate_data(executor: str, dask_client: Any) -> None:
    """The same 64 input records make 1.6 MB, then 16 MB of intermediate pairs: the
    driver's own allocations stay the same."""
    import tracemalloc

    from sample_jobs import padded_pairs, value_count

    peaks = []
    for copies in (250, 2500):
        job = simplemr.MapReduce(
            padded_pairs,
            value_count,
            executor=dask_client if executor == "dask" else "local",
            workers=2,
            partitions=4,
        )
        tracemalloc.start()
        try:
            with job.stream([(n, copies) for n in range(64)], chunksize=8) as results:
                counted = sum(count for _, count in results)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        assert counted == 64 * copies
    assert peaks[1] < 6 * 1024 * 1024  # far below the 16 MB of pairs
    assert peaks[1] - peaks[0] < 3 * 1024 * 1024  # not the 14 MB more there were


def test_two_runs_of_one_job_at_once_on_one_cluster(dask_client: Any) -> None:
    """Same functions, other inputs, same moment: keys of one run never meet the other's."""
    from concurrent.futures import ThreadPoolExecutor

    def run(offset: int) -> list:
        job = simplemr.MapReduce(identity_mapper, sorted_values_reducer, executor=dask_client)
        return sorted(job.run(range(offset, offset + 50), chunksize=10))

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(run, [0, 1000])
    assert first == [(n, [n]) for n in range(50)]
    assert second == [(n, [n]) for n in range(1000, 1050)]


def test_a_client_with_workers_given(dask_client: Any) -> None:
    assert make_executor(dask_client, 5).workers == 5
    assert make_executor(dask_client, None).workers == sum(dask_client.nthreads().values())


def test_relative_paths_name_the_drivers_files_on_the_workers(
    dask_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers run in folders of their own: a relative path is the driver's."""
    (tmp_path / "books").mkdir()
    (tmp_path / "books" / "a.txt").write_text("pear fig pear\n")
    monkeypatch.chdir(tmp_path)
    job = simplemr.MapReduce(words_mapper, sum_reducer, executor=dask_client)
    result = job.run(simplemr.text_files("books"))
    assert sorted(result.results) == [("fig", 1), ("pear", 2)]
    failing = simplemr.MapReduce(lambda line: [(line, 1 / 0)], sum_reducer, executor=dask_client)
    with pytest.raises(simplemr.TaskFailedError, match=r"failed on books/a\.txt, line 1"):
        failing.run(simplemr.text_files("books"))


def test_the_local_cluster_it_starts_listens_on_this_machine_only() -> None:
    from simplemr.executors.dask import _local_cluster

    with _local_cluster(1, None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        dashboard = cluster.scheduler.http_server.port
        assert cluster.dashboard_link.startswith(f"http://127.0.0.1:{dashboard}/")
        listening = {
            connection.laddr.ip
            for connection in psutil.Process().net_connections("tcp")
            if connection.status == "LISTEN" and connection.laddr.port == dashboard
        }
        assert listening == {"127.0.0.1"}


@pytest.mark.timeout(180)
def test_two_jobs_on_one_worker_each_open_urls_with_their_own_storage_options(
    bucket: Any, tmp_path: Path
) -> None:
    # One worker, two threads: both jobs' map tasks run at once in one process.
    import threading

    filesystem, name, options = bucket
    for tag in ("a", "b"):
        filesystem.pipe(f"{name}/{tag}.txt", f"line of {tag}\n".encode())
    sizes = {"a": 5 * 2**20, "b": 6 * 2**20}  # an s3fs option that changes nothing read
    results: dict[str, Any] = {}
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=True, dashboard_address=":0"
        ) as cluster,
    ):

        def run(me: str, other: str) -> None:
            mapper = StorageOptionsSeen(str(tmp_path), me, other, "default_block_size")
            mine = {**options, "default_block_size": sizes[me]}
            with distributed.Client(cluster) as client, storage_options(mine):
                job = simplemr.MapReduce(mapper, sorted_values_reducer, executor=client)
                files = simplemr.text_files(f"s3://{name}/{me}.txt")
                results[me] = job.run(files, storage_options=mine).results

        threads = [threading.Thread(target=run, args=pair) for pair in (("a", "b"), ("b", "a"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(150)
    assert results == {
        "a": [("line of a", [sizes["a"]])],
        "b": [("line of b", [sizes["b"]])],
    }


def test_the_private_calls_of_distributed_still_do_what_the_executor_needs(
    dask_client: Any,
) -> None:
    # dask_internals' two calls, against the installed distributed (see its docstring).
    from simplemr.executors.dask_internals import desire_keys, scheduler_state_of

    held = dask_client.submit(sum, [1, 2, 3], key=f"simplemr-internals-{id(object())}")
    assert held.result(timeout=30) == 6
    assert scheduler_state_of(dask_client, held.key) == "memory"
    assert scheduler_state_of(dask_client, "simplemr-no-such-key") is None

    def from_key_alone(key: str) -> Any:  # what a reduce task does with a piece's key
        client = distributed.get_client()
        future = distributed.Future(key, client)
        desire_keys(client, [key])
        return future.result(timeout=10)

    assert dask_client.submit(from_key_alone, held.key, pure=False).result(timeout=60) == 6


def hot_and_many(number: int) -> list[tuple[Any, str]]:
    """Pairs of one hot key, a few warm ones and many cold ones, each value a
    little text: at a budget of a few dozen KiB, partitions split and overflow."""
    key = "hot" if number % 3 == 0 else number % 40 if number % 3 == 1 else number
    return [(key, f"value of {number:06d}" * 2)]


def first_values(key: Any, values: Any) -> tuple[Any, int, list[str]]:
    seen = list(values)
    return key, len(seen), seen[:2] + seen[-2:]  # the order of values shows too


@settings(max_examples=6, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    count=st.integers(1500, 4000),
    kib=st.sampled_from([16, 32, 64]),
    partitions=st.integers(1, 3),
)
def test_every_executor_gives_the_same_output_at_any_budget(
    seed: int, count: int, kib: int, partitions: int, dask_client: Any, dask_pure_client: Any
) -> None:
    """The same job gives the same results in the same order inline, on local
    workers and on Dask (both cores), however small the budget: spills, a hot key
    overflowing, partitions split again on disk."""
    chance = random.Random(seed)
    numbers = [chance.randrange(10**6) for _ in range(count)]

    def run(executor: Any, workers: int | None = 2) -> list[Any]:
        job = simplemr.MapReduce(
            hot_and_many, first_values, workers=workers, partitions=partitions,
            memory=kib * 1024 * (workers or 1), executor=executor,
        )  # fmt: skip
        result = job.run(numbers, chunksize=500)
        assert result.counters["map.spills"] > count // 500  # a task's table spilled
        return result.results

    inline = run("inline", None)
    assert run("local") == inline
    assert run(DaskExecutor(2, client=dask_client)) == inline
    assert run(DaskExecutor(2, client=dask_pure_client)) == inline


def test_a_task_timeout_is_said_to_have_no_effect_on_dask(dask_client: Any) -> None:
    with pytest.warns(UserWarning, match=r"task_timeout=30 has no effect with Dask, which takes"):
        job = simplemr.MapReduce(
            lambda line: [(line, 1)], lambda key, ones: (key, sum(ones)),
            executor=dask_client, task_timeout=30,
        )  # fmt: skip
    assert sorted(job.run(["a", "b", "a"]).results) == [("a", 2), ("b", 1)]


def _slow_words(line: str) -> list[tuple[str, int]]:
    import time

    time.sleep(0.5)
    return [(word, 1) for word in line.split()]


def test_a_killed_scheduler_fails_the_job_in_one_line(tmp_path: Path, started) -> None:
    """The client gives up on a scheduler it cannot reach again; the job then fails
    naming it, where it would wait forever."""
    import json
    import time

    address_file = tmp_path / "scheduler.json"
    scheduler = started([sys.executable, "-m", "distributed.cli.dask_scheduler", "--no-dashboard",
                         "--host", "127.0.0.1", "--port", "0", "--scheduler-file",
                         str(address_file)], stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 60
    while not address_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    address = json.loads(address_file.read_text())["address"]
    here = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}  # this module's mapper
    started([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
             "--no-dashboard"], stderr=subprocess.DEVNULL, env=here)  # fmt: skip
    executor = DaskExecutor(address=address, connect_timeout="3s")
    job = simplemr.MapReduce(_slow_words, sum_reducer, executor=executor)

    def kill_soon() -> None:
        time.sleep(2)
        scheduler.kill()

    import threading

    threading.Thread(target=kill_soon, daemon=True).start()
    began = time.monotonic()
    with pytest.raises(simplemr.SimplemrError, match=f"lost the Dask scheduler at {address}"):
        job.run([f"w{n} w{n % 3}" for n in range(200)], chunksize=1)
    assert time.monotonic() - began < 120
