"""The source distribution holds what its tests need, and they pass from it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.timeout(600)
def test_the_sdist_carries_its_tests_docs_and_examples_and_they_pass(tmp_path: Path) -> None:
    pytest.importorskip("build", reason="the test extra's 'build' is not installed")
    if not (REPO / "pyproject.toml").is_file():
        pytest.skip("not run from a source tree")
    built = subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--outdir", str(tmp_path), str(REPO)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    assert "deprecat" not in (built.stdout + built.stderr).lower()
    [archive] = tmp_path.glob("simplemr-*.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path, filter="data")
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    sample = "src/simplemr/examples/sample/mapreduce-with-simplemr.rst"
    for needed in ("tests/conftest.py", "tests/reference.py", "tests/sample_jobs.py",
                   "docs/guide.md", "examples/make_data.py", "CHANGELOG.md", "LICENSE",
                   "src/simplemr/py.typed", "src/simplemr/core/_speedups.c", "setup.py",
                   sample):  # fmt: skip
        assert needed in names, needed
    assert not any("__pycache__" in name for name in names)
    unpacked = archive.parent / archive.name.removesuffix(".tar.gz")
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/test_partition.py", "tests/test_compat.py", "tests/test_cli_messages.py"],
        cwd=unpacked, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(unpacked / "src")},
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    assert " passed" in ran.stdout.splitlines()[-1]
    where = subprocess.run(
        [sys.executable, "-c", "import simplemr; print(simplemr.__file__)"],
        cwd=unpacked, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(unpacked / "src")},
    )  # fmt: skip
    assert where.stdout.strip().startswith(str(unpacked)), where


def _wheel(tmp_path: Path, **environment: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    pytest.importorskip("build", reason="the test extra's 'build' is not installed")
    if not (REPO / "pyproject.toml").is_file():
        pytest.skip("not run from a source tree")
    source = tmp_path / "source"  # a tree of its own: no build left over from another
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        ".*", "build", "dist", "bench", "*.so", "*.egg-info", "__pycache__",
    ))  # fmt: skip
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path), str(source)],
        capture_output=True, text=True, timeout=300, env={**os.environ, **environment},
    )  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    [wheel] = tmp_path.glob("simplemr-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return built, set(archive.namelist())


@pytest.mark.timeout(600)
def test_a_wheel_carries_the_compiled_core(tmp_path: Path) -> None:
    _, names = _wheel(tmp_path)
    assert any(
        name.startswith("simplemr/core/_speedups.") and name.endswith(".so") for name in names
    )
    assert "simplemr/core/pure.py" in names  # the pure core, the fallback


@pytest.mark.timeout(600)
def test_without_a_compiler_the_install_has_the_pure_core_and_says_so(tmp_path: Path) -> None:
    built, names = _wheel(tmp_path, CC="/bin/false")
    said = built.stdout + built.stderr
    assert "the compiled core was not built" in said
    assert "the pure-Python core runs" in said
    assert not any(name.endswith(".so") for name in names)
    assert "simplemr/core/__init__.py" in names
