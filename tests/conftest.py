"""Shared fixtures: a hypothesis profile, paths to sample texts, a clean temp root,
and the processes a test starts, all ended with it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "src" / "simplemr" / "examples" / "sample"
SHARED_CORPUS = REPO.parent / "shared" / "corpus"


@pytest.fixture(params=["compiled", "pure"])
def engine_core(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test in this process on each core: the compiled one (where built) and
    the pure one (worker processes started afresh pick theirs by SIMPLEMR_PURE)."""
    from simplemr import core
    from simplemr.core import codec, partition, pure
    from simplemr.io import batches

    if request.param == "compiled" and core.compiled is None:
        pytest.skip("the compiled core is not built")
    if request.param == "pure":
        for name in ("map_records", "merge_items", "spread", "crowded", "reduce_groups"):
            monkeypatch.setattr(core, name, getattr(pure, name))
        for name in ("encode_batch", "encode_run", "decode_batch"):
            monkeypatch.setattr(core, name, getattr(codec, name))
        monkeypatch.setattr(core, "partition_of", partition.partition_of)
        # As the pure core writes: pickle (reading compact batches all the same).
        monkeypatch.setattr(batches, "_encode_compactly", None)
        monkeypatch.setattr(batches, "_encode_run", None)
    return str(request.param)


class StartedProcesses:
    """Starts processes for a test (``started(args, **popen_options)``) and ends every
    one of them, with all it started, when the test ends, passed or failed: a failed
    assertion must leave nothing running on the user's machine."""

    def __init__(self) -> None:
        self.processes: list[tuple[subprocess.Popen[bytes], bool]] = []
        self.others: list[psutil.Process] = []

    def __call__(self, args: list[str], **options: Any) -> subprocess.Popen[bytes]:
        process: subprocess.Popen[bytes] = subprocess.Popen(args, **options)
        self.processes.append((process, bool(options.get("start_new_session"))))
        return process

    def watch(self, others: list[psutil.Process]) -> None:
        """Kill ``others`` too at the end: processes that may outlive the one that
        started them (workers, once the test has killed their driver)."""
        self.others += others

    def end_all(self) -> None:
        for process, own_group in self.processes:
            tree: list[psutil.Process] = []
            with contextlib.suppress(psutil.Error):
                tree = psutil.Process(process.pid).children(recursive=True)
            process.kill()  # (nothing, if it has ended and been waited for)
            for child in tree:
                with contextlib.suppress(psutil.Error):
                    child.kill()
            if own_group:  # its workers, even those it left behind when it died
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.communicate(timeout=10)
        for other in self.others:
            with contextlib.suppress(psutil.Error):
                other.kill()


@pytest.fixture
def started() -> Iterator[StartedProcesses]:
    """``started(args, **popen_options)`` starts a process the test's end will kill,
    with everything it started (``StartedProcesses``)."""
    processes = StartedProcesses()
    try:
        yield processes
    finally:
        processes.end_all()


@pytest.fixture
def work_root(tmp_path: Path) -> Path:
    """A temp root of the test's own, to check that jobs leave nothing in it."""
    root = tmp_path / "work-root"
    root.mkdir()
    return root


@pytest.fixture
def pymotw_rst() -> list[Path]:
    """The four .rst files the classic recipe counted (skips when absent)."""
    folder = SHARED_CORPUS / "pymotw-multiprocessing"
    files = sorted(folder.glob("*.rst"))
    if len(files) != 4:
        pytest.skip(f"the recipe's .rst files are not at {folder}")
    return files


@pytest.fixture(scope="session")
def dask_client():
    """A client of a real Dask cluster: two worker processes over TCP, started once
    (skips when dask.distributed is not installed)."""
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="session")
def dask_pure_client():
    """A client of a second Dask cluster whose workers run the pure-Python core."""
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
            env={"SIMPLEMR_PURE": "1"},
        ) as cluster,
        distributed.Client(cluster) as client,
    ):  # fmt: skip
        names = client.run(lambda: __import__("simplemr.core").core.NAME)
        assert set(names.values()) == {"pure-Python core"}, names
        yield client


@pytest.fixture(scope="session")
def s3_server():
    """The endpoint of a real S3-compatible server (moto's, over HTTP on this machine),
    with credentials in the environment (skips without moto and s3fs)."""
    pytest.importorskip("s3fs", reason="s3fs is not installed")
    server_module = pytest.importorskip("moto.server", reason="moto[server] is not installed")
    credentials = {
        "AWS_ACCESS_KEY_ID": "simplemr",
        "AWS_SECRET_ACCESS_KEY": "simplemr-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    saved = {name: os.environ.get(name) for name in credentials}
    os.environ.update(credentials)
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture
def bucket(s3_server):
    """A fresh bucket on the S3 server: (its s3fs filesystem, its name, the options)."""
    import uuid

    import s3fs

    filesystem = s3fs.S3FileSystem(endpoint_url=s3_server)
    name = f"test-{uuid.uuid4().hex[:12]}"
    filesystem.mkdir(name)
    return filesystem, name, {"endpoint_url": s3_server}
