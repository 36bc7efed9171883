"""Every Python and shell example in README.md and docs/*.md runs, as written.

The examples are collected from the Markdown. A ``python`` block whose first line is
``# some/path.py`` is a file that other examples use: it is written into the sandbox
before any block runs. Other ``python`` blocks run as scripts; ``sh`` blocks run line
by line; ``console`` blocks run each ``$`` command and check that its output starts
with the lines shown under it. The sandbox holds small inputs made here (``books/``,
``data.jsonl``, ``logs.gz``) and the repository's example data. Cluster examples run
against a real local Dask scheduler put in place of the address they show. A block
that cannot run here is listed in ``NOT_RUN`` with the reason; a block that is neither
run nor listed fails the suite, so no example can drift from the code unseen.
"""

from __future__ import annotations

import gzip
import inspect
import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

import simplemr

REPO = Path(__file__).resolve().parent.parent
DOCS = ["README.md", *sorted(f"docs/{path.name}" for path in (REPO / "docs").glob("*.md"))]
SHOWN_ADDRESS = "tcp://10.0.0.5:8786"
BIN = os.path.dirname(sys.executable)


@dataclass(frozen=True)
class Block:
    doc: str
    line: int
    language: str
    text: str

    @property
    def first(self) -> str:
        return self.text.strip().splitlines()[0]

    @property
    def file_name(self) -> str | None:
        match = re.fullmatch(r"# ([\w/]+\.py)", self.first)
        return match[1] if match and self.language == "python" else None

    def __str__(self) -> str:
        return f"{self.doc}:{self.line}"


def blocks_of(doc: str) -> list[Block]:
    text = (REPO / doc).read_text()
    found = []
    for match in re.finditer(r"^```(python|sh|console)\n(.*?)^```", text, re.S | re.M):
        line = text.count("\n", 0, match.start()) + 2
        found.append(Block(doc, line, match[1], match[2]))
    return found


NOT_RUN = {
    ".venv/bin/pip install mrjob==0.7.4 && cd bench && ../.venv/bin/python mrjob_compat.py --sizes 100 --repeat 2": (  # noqa: E501
        "a benchmark: forty minutes of machine time and the shared corpus"
    ),
    "python3 -m venv .venv && .venv/bin/pip install -e '.[test,dask]' && .venv/bin/ruff check && .venv/bin/ruff format --check && .venv/bin/mypy && .venv/bin/pytest": (  # noqa: E501
        "the test command itself: .ci/run runs exactly this"
    ),
    "pip install 'simplemr[dask]'": "installs into the environment the tests run in",
    "dask scheduler                                   # listens on tcp://<this host>:8786": (
        "starts a scheduler and workers that run until stopped; the cluster examples run "
        "on a LocalCluster the tests start instead"
    ),
    "from simplemr.executors.dask import DaskExecutor": (
        "needs TLS certificates and a scheduler that asks for them"
    ),
    "python3 -m venv /tmp/peers && /tmp/peers/bin/pip install '.[dask]' psutil -r bench/peers/requirements.txt": (  # noqa: E501
        "a benchmark: hours of machine time, a JRE and the shared corpus"
    ),
    ".venv/bin/pip install -e '.[test]'        # psutil": "a benchmark: minutes to hours",
    ".venv/bin/pip install py-spy && .venv/bin/python bench/where_time_goes.py --sizes 20 --json-lines 300000": (  # noqa: E501
        "a profile: installs py-spy, minutes of machine time and the shared corpus"
    ),
    ".venv/bin/python bench/floor.py --sizes 50 --json-lines 1000000": (
        "a benchmark: four minutes of machine time and the shared corpus"
    ),
    ".venv/bin/python bench/floor.py --sizes 200 --json-lines 3000000": (
        "a benchmark: twenty minutes of machine time and the shared corpus"
    ),
    ".venv/bin/python bench/wordcount.py --sizes 1000 --shapes files single --contenders single simplemr-2 --repeat 3": (  # noqa: E501
        "a benchmark: ten minutes of machine time and the shared corpus"
    ),
    ".venv/bin/python bench/instructions.py --sizes 3 --json-lines 25000": (
        "a benchmark: five minutes of valgrind and the shared corpus"
    ),
    ".venv/bin/python bench/user_jobs.py --sizes 100 --json-lines 1500000 --contenders serial simplemr-1 simplemr-2 --repeat 3": (  # noqa: E501
        "a benchmark: twenty minutes of machine time and the shared corpus"
    ),
    ".venv/bin/python bench/user_jobs.py --sizes 100 --json-lines 1500000 --contenders serial simplemr-2 --repeat 3": (  # noqa: E501
        "a benchmark: fifteen minutes of machine time and the shared corpus"
    ),
    ".venv/bin/python bench/codec.py": "a benchmark under valgrind: minutes of machine time",
    ".venv/bin/python bench/sort_lines.py --sizes 1000 --repeat 3": (
        "a benchmark: ten minutes of machine time"
    ),
    ".venv/bin/python bench/user_jobs.py --sizes 50 --json-lines 1000000 --timeout 300": (
        "a benchmark: fifteen minutes of machine time and the shared corpus"
    ),
    ".venv/bin/python bench/user_jobs.py --sizes 200 --json-lines 3000000 --contenders serial simplemr-1 simplemr-2": (  # noqa: E501
        "a benchmark: half an hour of machine time and the shared corpus"
    ),
    ".venv/bin/python bench/user_jobs.py --sizes 50 --jobs bigrams distinct-keys --json-lines 1000000 --contenders serial simplemr-1 simplemr-2 --memory 3GB": (  # noqa: E501
        "a benchmark: minutes of machine time and the shared corpus"
    ),
    "/tmp/peers/bin/python bench/peers/run.py --sizes 1000 --jobs wordcount --contenders single simplemr-local dask-bag-processes pyspark --fresh": (  # noqa: E501
        "a benchmark: half an hour of machine time, a JRE and the shared corpus"
    ),
    ".venv/bin/python bench/wordcount.py --sizes 1000 --shapes files single --contenders single simplemr-2": (  # noqa: E501
        "a benchmark: minutes of machine time and the shared corpus"
    ),
    ".venv/bin/python bench/wordcount.py --sizes 100 --shapes docs --contenders single simplemr-1 simplemr-2": (  # noqa: E501
        "a benchmark: minutes of machine time and the machine's documentation"
    ),
    ".venv/bin/python bench/inverted_index.py --sizes 200 --shapes single --contenders single simplemr-2": (  # noqa: E501
        "a benchmark: minutes of machine time and the shared corpus"
    ),
    ".venv/bin/python bench/wordcount.py --sizes 100 --repeat 3     # medians of 3": (
        "a benchmark: minutes to hours"
    ),
    ".venv/bin/python bench/on_dask.py --sizes 1000 --jobs wordcount": (
        "a benchmark: minutes to hours"
    ),
    "sudo .venv/bin/python bench/on_netcluster.py --size 1000 --jobs wordcount --rounds 3": (
        "a benchmark: half an hour of machine time, root, network namespaces and the corpus"
    ),
    "pip install 'simplemr[dask]' 'moto[server]' s3fs      # and iproute2: apt-get install iproute2": (  # noqa: E501
        "a five-host cluster in network namespaces that runs until stopped (root); "
        "tests/test_cluster.py runs the same cluster and jobs"
    ),
}

#: What fragments of code take for granted, defined before they run.
PRELUDES = {
    "from simplemr import SimpleMapReduce   # was: the recipe's class": """
        import glob, string
        def file_to_words(filename):
            output = []
            with open(filename) as f:
                for line in f:
                    for word in line.translate(str.maketrans("", "", string.punctuation)).split():
                        output.append((word.lower(), 1))
            return output
        def count_words(item):
            word, occurrences = item
            return (word, sum(occurrences))
        input_files = glob.glob("books/*.txt")
    """,
    'job = simplemr.MapReduce(mapper, reducer, executor="tcp://10.0.0.5:8786")': """
        import distributed, simplemr
        def mapper(line):
            return [(word, 1) for word in line.split()]
        def reducer(word, counts):
            return word, sum(counts)
        class MyJob(simplemr.Job):
            def mapper(self, _, line):
                yield from mapper(line)
        client = distributed.Client(ADDRESS)
        inputs = ["pear fig", "fig"]
    """,
}

BOOKS = {
    "books/pears.txt": "Pear, apple; pear!\nThe pear tree and the fig tree.\n",
    "books/figs.txt": "Fig fig FIG the a\n.. a comment line\nand the end\n",
}


@pytest.fixture(scope="module")
def cluster_address():
    """A real Dask scheduler with two worker processes, for the cluster examples."""
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        yield cluster.scheduler_address


def make_sandbox(root: Path) -> Path:
    for name, text in BOOKS.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "data.jsonl").write_text('"pear fig"\n"fig"\n')
    (root / "logs.gz").write_bytes(gzip.compress(b"GET / 200\nGET /fig 404\n"))
    shutil.copytree(REPO / "examples", root / "examples")
    sample = Path("src/simplemr/examples/sample")
    shutil.copytree(REPO / sample, root / sample)
    for doc in DOCS:
        for block in blocks_of(doc):
            if block.file_name:
                path = root / block.file_name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(block.text)
    package = root / "mypackage"
    package.mkdir()
    (package / "__init__.py").write_text("")
    shutil.copy(root / "jobs" / "pipeline.py", package / "jobs.py")
    return root


def shell(command: str, cwd: Path, address: str | None) -> subprocess.CompletedProcess[str]:
    if address:
        command = command.replace(SHOWN_ADDRESS, address)
    return subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command}"], cwd=cwd, capture_output=True, text=True,
        timeout=300, stdin=subprocess.DEVNULL,
        env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"},
    )  # fmt: skip


def run_python(block: Block, cwd: Path, address: str | None) -> None:
    prelude = textwrap.dedent(PRELUDES.get(block.first, ""))
    if address:
        prelude = prelude.replace("ADDRESS", repr(address))
    source = prelude + block.text.replace(SHOWN_ADDRESS, address or SHOWN_ADDRESS)
    script = cwd / "example.py"
    script.write_text(source)
    done = subprocess.run(
        [sys.executable, str(script)], cwd=cwd, capture_output=True, text=True, timeout=300,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, f"{block} failed:\n{done.stderr}"


def run_console(block: Block, cwd: Path, address: str | None) -> None:
    commands: list[tuple[str, list[str]]] = []
    for line in block.text.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        else:
            commands[-1][1].append(line)
    for command, shown in commands:
        if command.startswith("cd "):
            cwd = cwd / command[3:]
            continue
        done = shell(command, cwd, address)
        assert done.returncode == 0, f"{block}: {command}\n{done.stderr}"
        assert done.stdout.splitlines()[: len(shown)] == shown, f"{block}: {command}"


def run_sh(block: Block, cwd: Path, address: str | None) -> None:
    for line in block.text.splitlines():
        if line.strip():
            done = shell(line, cwd, address)
            assert done.returncode == 0, f"{block}: {line}\n{done.stderr}"


def needs_cluster(doc: str) -> bool:
    return any(
        SHOWN_ADDRESS in block.text for block in blocks_of(doc) if block.first not in NOT_RUN
    )


@pytest.mark.timeout(900)
@pytest.mark.parametrize("doc", DOCS)
def test_the_examples_of(doc: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    address = request.getfixturevalue("cluster_address") if needs_cluster(doc) else None
    sandbox = make_sandbox(tmp_path)
    ran = 0
    for block in blocks_of(doc):
        if block.first in NOT_RUN or block.file_name or block.first in SYNOPSES:
            continue
        if block.first == README_FIRST_COMMAND:
            continue  # test_the_readme_first_command_installs_and_counts
        {"python": run_python, "sh": run_sh, "console": run_console}[block.language](
            block, sandbox, address
        )
        ran += 1
    assert ran or all(
        block.first in NOT_RUN or block.file_name or block.first in SYNOPSES
        for block in blocks_of(doc)
    )


def test_every_example_is_run_or_says_why_not() -> None:
    seen = set()
    for doc in DOCS:
        for block in blocks_of(doc):
            seen.add(block.first)
    assert set(NOT_RUN) <= seen, set(NOT_RUN) - seen  # no stale entry
    assert set(PRELUDES) <= seen, set(PRELUDES) - seen
    assert set(SYNOPSES) <= seen, set(SYNOPSES) - seen
    file_blocks = [block.file_name for doc in DOCS for block in blocks_of(doc) if block.file_name]
    assert sorted(file_blocks) == [
        "jobs/mr_word_count.py",
        "jobs/pipeline.py",
        "jobs/word_frequency.py",
        "word_frequency.py",
    ]
    used = " ".join(block.text for doc in DOCS for block in blocks_of(doc) if not block.file_name)
    for name in file_blocks:
        assert name in used, f"{name} is written by the docs but no example runs it"


# --- synopses: checked against the code -------------------------------------------------


def check_mapreduce_signature(block: Block) -> None:
    shown = block.text.split("(", 1)[1].rsplit(")", 1)[0]
    real = inspect.signature(simplemr.MapReduce)
    shown_parameters = [part.strip() for part in shown.replace("\n", " ").split(",")]
    expected = []
    for name, parameter in real.parameters.items():
        if parameter.kind is parameter.KEYWORD_ONLY and "*" not in expected:
            expected.append("*")
        default = parameter.default
        expected.append(name if default is parameter.empty else f"{name}={default!r}")
    assert shown_parameters == expected, block


def check_wordcount_synopsis(block: Block) -> None:
    shown = set(re.findall(r"--[a-z-]+", block.text))
    listed = subprocess.run(
        [sys.executable, "-m", "simplemr", "wordcount", "--help"], capture_output=True,
        text=True, timeout=60,
    ).stdout  # fmt: skip
    real = set(re.findall(r"--[a-z-]+", listed)) - {"--help"}
    assert shown <= real, shown - real
    undocumented = real - shown - {"--summary", "--no-summary", "--stats", "--report"}
    assert not undocumented, f"{block} leaves out {sorted(undocumented)}"


SYNOPSES = {
    "simplemr.MapReduce(mapper, reducer, combiner=None, *, workers=None, partitions=None,": (
        check_mapreduce_signature
    ),
    "simplemr wordcount [PATH ...] [--top N] [--output PATH [--overwrite] [--compression C]]": (
        check_wordcount_synopsis
    ),
}


@pytest.mark.parametrize("first", sorted(SYNOPSES))
def test_a_synopsis_matches_the_code(first: str) -> None:
    [block] = [block for doc in DOCS for block in blocks_of(doc) if block.first == first]
    SYNOPSES[first](block)


# --- the README's first command, on a copy of the source tree ---------------------------

README_FIRST_COMMAND = (
    "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/simplemr wordcount"
)


@pytest.mark.timeout(600)
def test_the_readme_first_command_installs_and_counts(tmp_path: Path) -> None:
    [block] = [block for block in blocks_of("README.md") if block.first == README_FIRST_COMMAND]
    tree = tmp_path / "simplemr"
    shutil.copytree(
        REPO, tree,
        ignore=shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info", "__pycache__",
                                      ".*_cache", ".hypothesis"),
    )  # fmt: skip
    done = subprocess.run(
        ["bash", "-c", block.text], cwd=tree, capture_output=True, text=True, timeout=500,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()[-23:]  # after what pip says
    assert lines[:3] == ["", "TOP 20 WORDS BY FREQUENCY", ""]
    assert all(re.fullmatch(r"\S+ *: +\d+", line) for line in lines[3:]), lines
