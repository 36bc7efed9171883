"""Shared fixtures: a hypothesis profile, paths to sample texts, a clean temp root."""

from __future__ import annotations

import os
from pathlib import Path

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
