"""A job runs however Python was started, and its tracebacks name the user's file.

Workers never import the user's main module: a guarded script, an unguarded one,
standard input and ``python -c`` all run the job exactly once, under every start
method, and an exception in user code shows its file, line and source line.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import simplemr

METHODS = ["forkserver", "spawn", "fork"]

BODY = """
import json
import simplemr

print("top-level code ran", flush=True)

def words(line):
    for word in line.split():
        yield word, 1

def total(word, counts):
    return word, sum(counts)

def run():
    job = simplemr.MapReduce(
        words, total, combiner=lambda word, counts: sum(counts), workers=2,
        start_method={method!r},
    )
    items = ["b a b", "c b"] * 20
    print("RESULT", json.dumps(sorted(job.run(items).results)), flush=True)

"""

EXPECTED = [["a", 20], ["b", 60], ["c", 20]]


def script(method: str, *, guarded: bool) -> str:
    ending = 'if __name__ == "__main__":\n    run()\n' if guarded else "run()\n"
    return BODY.format(method=method) + ending


def check_ran_once(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("top-level code ran") == 1, done.stdout
    [result] = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert json.loads(result.removeprefix("RESULT ")) == EXPECTED
    assert "Traceback" not in done.stderr


def python(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], input=stdin, capture_output=True, text=True, timeout=120,
        cwd=cwd, stdin=None if stdin is not None else subprocess.DEVNULL,
    )  # fmt: skip


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("guarded", [True, False], ids=["guarded", "unguarded"])
def test_a_script_runs_its_job_once(tmp_path: Path, method: str, guarded: bool) -> None:
    path = tmp_path / "job.py"
    path.write_text(script(method, guarded=guarded))
    check_ran_once(python(str(path), cwd=tmp_path))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("guarded", [True, False], ids=["guarded", "unguarded"])
def test_a_script_on_standard_input_runs_its_job_once(
    tmp_path: Path, method: str, guarded: bool
) -> None:
    check_ran_once(python("-", cwd=tmp_path, stdin=script(method, guarded=guarded)))


@pytest.mark.parametrize("method", METHODS)
def test_python_dash_c_runs_its_job_once(tmp_path: Path, method: str) -> None:
    check_ran_once(python("-c", script(method, guarded=False), cwd=tmp_path))


def test_the_interactive_interpreter_runs_a_job(tmp_path: Path) -> None:
    check_ran_once(python("-i", cwd=tmp_path, stdin=script("forkserver", guarded=False)))


def test_a_module_run_with_dash_m_runs_its_job_once(tmp_path: Path) -> None:
    (tmp_path / "wordjob.py").write_text(script("forkserver", guarded=False))
    check_ran_once(python("-m", "wordjob", cwd=tmp_path))


# --- tracebacks ------------------------------------------------------------------------

FAILING = """\
import simplemr


def mapper(line):
    if line == "bad":
        raise ValueError("no bad lines")  # the failing line
    yield line, 1


def first(key, values):
    return key


class Failing(simplemr.Job):
    def mapper(self, _, line):
        if line == "bad":
            raise ValueError("no bad lines in a job class")  # the class's failing line
        yield line, 1


if __name__ == "__main__":
    import sys
    if sys.argv[1:2] == ["api"]:
        executor = sys.argv[2]
        try:
            workers = None if executor == "inline" else 2
            simplemr.MapReduce(mapper, first, executor=executor, workers=workers).run(["ok", "bad"])
        except simplemr.TaskFailedError as error:
            print("CAUSE", error.__cause__)
    else:
        Failing.main()
"""


@pytest.fixture
def failing_job(tmp_path: Path) -> Path:
    path = tmp_path / "failing.py"
    path.write_text(FAILING)
    (tmp_path / "in.txt").write_text("ok\nbad\n")
    return path


def assert_names_the_line(text: str, path: Path, marker: str) -> None:
    number = next(n for n, line in enumerate(FAILING.splitlines(), 1) if marker in line)
    assert f'File "{path}", line {number}, in mapper' in text, text
    source = FAILING.splitlines()[number - 1].strip()
    assert source in text, text
    assert "<dynamic-code>" not in text


@pytest.mark.parametrize("executor", ["local", "inline"])
def test_simplemr_run_debug_shows_the_job_file_and_line(failing_job: Path, executor: str) -> None:
    done = python(
        "-m", "simplemr", "run", str(failing_job), "in.txt", "--debug", "--executor", executor,
        cwd=failing_job.parent,
    )  # fmt: skip
    assert done.returncode == 1
    assert_names_the_line(done.stderr, failing_job, "the class's failing line")


def test_python_job_py_debug_shows_the_job_file_and_line(failing_job: Path) -> None:
    done = python(str(failing_job), "in.txt", "--debug", cwd=failing_job.parent)
    assert done.returncode == 1
    assert_names_the_line(done.stderr, failing_job, "the class's failing line")


@pytest.mark.parametrize("executor", ["local", "inline"])
def test_a_main_module_function_is_named_in_the_cause(failing_job: Path, executor: str) -> None:
    done = python(str(failing_job), "api", executor, cwd=failing_job.parent)
    assert done.returncode == 0, done.stderr
    assert_names_the_line(done.stdout, failing_job, "the failing line")


def test_a_cause_on_dask_names_the_file_and_line(tmp_path: Path, dask_client) -> None:
    path = tmp_path / "fails_on_dask.py"
    path.write_text(
        textwrap.dedent("""\
        def mapper(item):
            raise KeyError(item)  # a dask worker's line
        """)
    )
    namespace: dict[str, object] = {"__name__": "__main__"}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    job = simplemr.MapReduce(namespace["mapper"], lambda key, values: key, executor=dask_client)
    with pytest.raises(simplemr.TaskFailedError, match="KeyError") as caught:
        job.run(["x"])
    cause = str(caught.value.__cause__)
    assert f'File "{path}", line 2, in mapper' in cause
    assert "raise KeyError(item)  # a dask worker's line" in cause


def test_code_without_a_file_brings_its_source_lines(tmp_path: Path) -> None:
    """Code compiled from text that only the driver's ``linecache`` holds (a notebook
    cell, an interactive session) is quoted in a worker's traceback all the same."""
    import linecache

    name = "<cell-of-a-test>"
    source = "def mapper(item):\n    raise RuntimeError('from a cell')  # the cell's line\n"
    linecache.cache[name] = (len(source), None, source.splitlines(True), name)
    namespace: dict[str, object] = {"__name__": "__main__"}
    exec(compile(source, name, "exec"), namespace)
    job = simplemr.MapReduce(namespace["mapper"], lambda key, values: key, workers=1)
    try:
        with pytest.raises(simplemr.TaskFailedError, match="from a cell") as caught:
            job.run(["x"])
    finally:
        del linecache.cache[name]
    cause = str(caught.value.__cause__)
    assert f'File "{name}", line 2, in mapper' in cause
    assert "raise RuntimeError('from a cell')  # the cell's line" in cause


NOTEBOOK_CELLS = [
    "import simplemr\n\ndef words(line):\n    for word in line.split():\n        yield word, 1\n",
    "class Count(simplemr.Job):\n    def mapper(self, _, line):\n"
    "        for word in line.split():\n            yield word, 1\n\n"
    "    def reducer(self, word, counts):\n"
    "        yield word, sum(counts)\n",
    "job = simplemr.MapReduce(\n    words, lambda word, counts: (word, sum(counts)),\n"
    "    combiner=lambda word, counts: sum(counts), workers=2,\n)\n"
    "print(sorted(job.run(['b a b', 'c b'] * 20).results))",
    "print(sorted(Count().run(['b a b', 'c b'] * 20, workers=2).results))",
    "def bad(line):\n    raise ValueError('bad ' + line)  # a notebook's line\n\n"
    "try:\n    simplemr.MapReduce(bad, lambda key, values: key, workers=2).run(['x'])\n"
    "except simplemr.TaskFailedError as error:\n    print(error.__cause__)",
]


def test_a_jupyter_notebook_runs_functions_lambdas_and_job_classes() -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in NOTEBOOK_CELLS]
    )
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    printed = [
        "".join(output.get("text", "") for output in cell.outputs) for cell in notebook.cells
    ]
    counts = "[('a', 20), ('b', 60), ('c', 20)]\n"
    assert printed[2:4] == [counts, counts]
    assert "raise ValueError('bad ' + line)  # a notebook's line" in printed[4]
    assert ", line 2, in bad" in printed[4]


# --- a worker that cannot start says why -----------------------------------------------

LOADS_ONLY_HERE = """
import os, sys
import simplemr

DRIVER = os.getpid()

def refuse_elsewhere(driver):
    if os.getpid() != driver:
        raise RuntimeError("this object cannot be loaded in another process")
    return driver

class Anchored:
    def __reduce__(self):
        return refuse_elsewhere, (DRIVER,)

anchor = Anchored()

def mapper(line):
    return [(anchor, 1)]

def killed_on_start(driver):
    if os.getpid() != driver:
        os.kill(os.getpid(), 9)
    return driver

class Doomed:
    def __reduce__(self):
        return killed_on_start, (DRIVER,)

doom = Doomed()

def dooming_mapper(line):
    return [(doom, 1)]

which = {"raise": mapper, "kill": dooming_mapper}[sys.argv[1]]
simplemr.MapReduce(which, lambda key, values: key, workers=2).run(["x"])
"""


@pytest.mark.parametrize(
    ("how", "said"),
    [
        ("raise", r"a worker process failed to start: it could not load the job:\n"
                  r"Traceback(.|\n)*RuntimeError: this object cannot be loaded in another process"),
        ("kill", r"a worker process failed to start: it was killed by SIGKILL \(killed from "
                 r"outside, often by the kernel's out-of-memory killer\) before it was ready "
                 r"\(started 3 times\)"),
    ],
)  # fmt: skip
def test_a_worker_that_cannot_start_names_the_cause(tmp_path: Path, how: str, said: str) -> None:
    path = tmp_path / "anchored.py"
    path.write_text(LOADS_ONLY_HERE)
    done = python(str(path), how, cwd=tmp_path)
    assert done.returncode == 1
    assert re.search(said, done.stderr), done.stderr
    assert "__main__" not in done.stderr.splitlines()[-1]


def test_ipython_runs_a_job(tmp_path: Path) -> None:
    pytest.importorskip("IPython")
    done = python(
        "-m", "IPython", "--quick", "--no-banner", "--colors=NoColor", "-c",
        script("forkserver", guarded=False), cwd=tmp_path,
    )  # fmt: skip
    check_ran_once(done)


def test_a_job_files_lines_travel_to_workers_that_cannot_read_it(tmp_path: Path) -> None:
    """As on another host: the file is gone where the worker runs, its lines are not."""
    import linecache

    path = tmp_path / "elsewhere.py"
    path.write_text("def mapper(item):\n    raise LookupError(item)  # a line from afar\n")
    namespace: dict[str, object] = {"__name__": "__main__"}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    assert linecache.getlines(str(path))  # the driver read it, as tracebacks would
    job = simplemr.MapReduce(namespace["mapper"], lambda key, values: key, workers=1)
    path.unlink()
    try:
        with pytest.raises(simplemr.TaskFailedError, match="LookupError") as caught:
            job.run(["x"])
    finally:
        linecache.checkcache(str(path))
    cause = str(caught.value.__cause__)
    assert f'File "{path}", line 2, in mapper' in cause
    assert "raise LookupError(item)  # a line from afar" in cause
