"""Every signal that stops a job leaves nothing behind and says one quiet line.

SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 stop the command line as SIGTERM does (exit
128 + N); a second signal during clean-up does not cut it short; Ctrl-C in the first
instants prints no traceback; a script using the API is cleaned up before the signal
takes its course; a driver killed with SIGKILL leaves no worker running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psutil
import pytest
from conftest import StartedProcesses


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("input") / "big.txt"
    chunk = b"the quick brown fox jumps over the lazy dog, again and again\n" * 16_384
    with open(path, "wb") as file:
        for _ in range(60):  # 60 MB: many seconds of work under a small budget
            file.write(chunk)
    return path


def start_wordcount(
    started: StartedProcesses,
    big: Path,
    root: Path,
    target: Path,
    *options: str,
    pause: float = 0.3,
) -> subprocess.Popen[bytes]:
    """Start a word count in a session of its own; return once its work folder is
    there and ``pause`` has passed (the workers are busy by then)."""
    process = started(
        [sys.executable, "-m", "simplemr", "wordcount", str(big), "--workers", "2",
         "--memory", "2MiB", "--tmp-dir", str(root), "--output", str(target), *options],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not any(root.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(pause)
    return process


def started_working(process: subprocess.Popen[bytes], root: Path, pause: float) -> None:
    """Wait for a script's "started" line and its job's work folder, then ``pause``."""
    assert process.stdout is not None
    assert process.stdout.readline() == b"started\n"
    deadline = time.monotonic() + 30
    while not any(root.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(pause)


def folders(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "root"
    root.mkdir()
    return root, tmp_path / "counts"


def assert_nothing_left(tmp_path: Path, root: Path, children: list[psutil.Process]) -> None:
    _, alive = psutil.wait_procs(children, timeout=10)
    assert alive == []
    assert list(root.iterdir()) == []
    assert sorted(path.name for path in tmp_path.iterdir()) == ["root"]  # no output


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("sent", "said"),
    [
        (signal.SIGHUP, "simplemr: stopped by SIGHUP"),
        (signal.SIGQUIT, "simplemr: stopped by SIGQUIT"),
        (signal.SIGUSR1, "simplemr: stopped by SIGUSR1"),
        (signal.SIGUSR2, "simplemr: stopped by SIGUSR2"),
    ],
)
def test_other_terminating_signals_stop_the_job_and_clean_up(
    tmp_path: Path, big: Path, started: StartedProcesses, sent: int, said: str
) -> None:
    root, target = folders(tmp_path)
    process = start_wordcount(started, big, root, target)
    children = psutil.Process(process.pid).children(recursive=True)
    assert len(children) >= 2
    os.killpg(process.pid, sent)  # as a closed terminal or Ctrl-\\ does: the whole group
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + sent
    assert stderr.decode() == said + "\n"
    assert_nothing_left(tmp_path, root, children)


@pytest.mark.timeout(120)
def wait_until_ignored(pid: int, signum: int, seconds: float = 60) -> bool:
    """Whether process ``pid`` came to ignore ``signum`` within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("SigIgn:") and int(line.split()[1], 16) >> (signum - 1) & 1:
                    return True
        time.sleep(0.002)
    return False


def test_a_second_signal_does_not_cut_the_clean_up_short(
    tmp_path: Path, big: Path, started: StartedProcesses
) -> None:
    root, target = folders(tmp_path)
    process = start_wordcount(started, big, root, target)
    children = psutil.Process(process.pid).children(recursive=True)
    process.send_signal(signal.SIGTERM)
    # Once handled, the driver ignores the signals it took (a busy machine may take a
    # while to run the handler; one sent before would be handled first, SIGINT's being
    # a lower number). SIGTERM's own bit tells: SIGINT may be ignored from the start,
    # as in a background job of a shell script.
    assert wait_until_ignored(process.pid, signal.SIGTERM), "the first SIGTERM was not handled"
    for _ in range(5):  # while it cleans up
        process.send_signal(signal.SIGTERM)
        time.sleep(0.001)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143
    assert stderr.decode() == "simplemr: terminated\n"
    assert_nothing_left(tmp_path, root, children)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("delay", [0.0, 0.05, 0.1, 0.2, 0.4])
def test_ctrl_c_while_the_workers_start_prints_no_traceback(
    tmp_path: Path, big: Path, started: StartedProcesses, delay: float
) -> None:
    root, target = folders(tmp_path)
    process = started(
        [sys.executable, "-m", "simplemr", "wordcount", str(big), "--workers", "2",
         "--tmp-dir", str(root), "--output", str(target)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(
        "forkserver" in " ".join(child.cmdline())
        for child in psutil.Process(process.pid).children()
    ):
        time.sleep(0.005)
    time.sleep(delay)
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does: every process of the group
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr.decode() == "simplemr: interrupted\n"
    time.sleep(0.5)
    assert list(root.iterdir()) == []


API_SCRIPT = """
import sys, time, simplemr

def slow(item):
    time.sleep(60)
    return [(item, 1)]

print("started", flush=True)
simplemr.MapReduce(slow, lambda key, ones: key, workers=2, tmp_dir=sys.argv[1]).run([1, 2])
"""


def start_api_script(
    started: StartedProcesses, tmp_path: Path, signum: int, disposition: signal.Handlers
) -> tuple[subprocess.Popen[bytes], Path]:
    """Start ``API_SCRIPT`` with ``signum`` at ``disposition`` (whatever ran the tests);
    return it, and its work folders' root, once its job is at work."""
    root = tmp_path / "root"
    root.mkdir()
    script = tmp_path / "job.py"
    script.write_text(textwrap.dedent(API_SCRIPT))
    process = started(
        [sys.executable, str(script), str(root)], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
        preexec_fn=lambda: signal.signal(signum, disposition),
    )  # fmt: skip
    started_working(process, root, 0.5)
    return process, root


@pytest.mark.timeout(120)
@pytest.mark.parametrize("sent", [signal.SIGTERM, signal.SIGHUP])
def test_a_script_using_the_api_cleans_up_then_ends_by_the_signal(
    tmp_path: Path, started: StartedProcesses, sent: int
) -> None:
    process, root = start_api_script(started, tmp_path, sent, signal.SIG_DFL)
    children = psutil.Process(process.pid).children(recursive=True)
    process.send_signal(sent)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == -sent, stderr
    assert stderr == b""
    _, alive = psutil.wait_procs(children, timeout=10)
    assert alive == []
    assert list(root.iterdir()) == []


@pytest.mark.timeout(120)
def test_a_script_run_under_nohup_keeps_ignoring_sighup(
    tmp_path: Path, started: StartedProcesses
) -> None:
    process, root = start_api_script(started, tmp_path, signal.SIGHUP, signal.SIG_IGN)  # nohup
    process.send_signal(signal.SIGHUP)
    time.sleep(1)
    assert process.poll() is None  # the job goes on: only signals at their default are taken
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGTERM, stderr
    assert list(root.iterdir()) == []


@pytest.mark.timeout(120)
@pytest.mark.parametrize("method", ["forkserver", "spawn", "fork"])
def test_workers_end_when_their_driver_is_killed(
    tmp_path: Path, started: StartedProcesses, method: str
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    spinning = tmp_path / "spinning"  # each worker says here that it runs user code
    spinning.mkdir()
    script = tmp_path / "spin.py"
    script.write_text(
        "import os, sys, simplemr\n"
        "folder = sys.argv[3]\n"
        "def spin(item):\n"
        "    open(os.path.join(folder, str(os.getpid())), 'w').close()\n"
        "    while True:\n        pass\n"
        "print('started', flush=True)\n"
        "simplemr.MapReduce(spin, lambda k, v: k, workers=2, tmp_dir=sys.argv[1],\n"
        "                   start_method=sys.argv[2]).run([1, 2])\n"
    )
    temp = Path(tempfile.gettempdir())
    before = set(temp.glob("pymp-*"))
    process = started(
        [sys.executable, str(script), str(root), method, str(spinning)],
        stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    started_working(process, root, 0)
    deadline = time.monotonic() + 60
    while len(list(spinning.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    tree = psutil.Process(process.pid).children(recursive=True)
    started.watch(tree)  # the workers, which outlive their driver if this test fails
    spinners = {int(path.name) for path in spinning.iterdir()}
    assert len(spinners) == 2 and spinners <= {child.pid for child in tree}
    process.kill()
    process.wait(timeout=10)
    _, alive = psutil.wait_procs(tree, timeout=10)
    assert alive == []
    left = set(temp.glob("pymp-*")) - before  # the fork server's socket folder
    assert len(left) == (1 if method == "forkserver" else 0)
    again = subprocess.run(
        [sys.executable, "-c", "import simplemr; simplemr.MapReduce(lambda n: [(n, 1)], "
         "lambda k, v: k, workers=1).run([1])"],
        timeout=60, stdin=subprocess.DEVNULL, capture_output=True,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr.decode()[-3000:]
    assert not any(folder.exists() for folder in left)  # the next job removed it
    assert list(root.iterdir()) != []  # its work folder: the next job there removes it


@pytest.mark.timeout(180)
def test_ctrl_c_on_the_dask_executor_is_one_line(
    tmp_path: Path, big: Path, started: StartedProcesses
) -> None:
    pytest.importorskip("distributed", reason="dask.distributed is not installed")
    root, target = folders(tmp_path)
    bigger = tmp_path / "bigger.txt"
    with open(bigger, "wb") as file:
        for _ in range(8):
            file.write(big.read_bytes())
    # The cluster is up (about 2 s here) and running map tasks after 3.5 s; three times
    # the input took 3.7 s in all on this machine's faster days, too short to interrupt.
    process = start_wordcount(started, bigger, root, target, "--executor", "dask", pause=3.5)
    children = psutil.Process(process.pid).children(recursive=True)
    assert process.poll() is None, "the job ended before it could be interrupted"
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=90)
    assert process.returncode == 130
    assert stderr.decode() == "simplemr: interrupted\n"
    _, alive = psutil.wait_procs(children, timeout=20)
    assert alive == []
    assert list(root.iterdir()) == []
    bigger.unlink()
