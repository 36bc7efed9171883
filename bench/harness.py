"""What every benchmark here shares: building a corpus of real text, running one
contender in its own process tree while sampling its memory, and a Markdown table.

Each contender runs as ``python <bench script> --contender NAME ...`` in a fresh
process, so one contender's memory or warm caches never help another.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = HERE.parent.parent / "shared" / "corpus" / "gutenberg"
DATA = HERE / "data"
MiB = 1024 * 1024


#: Technical documentation found on this kind of machine (reStructuredText with many
#: ``..`` directives, vim help, Python sources): the word count's "docs" corpus.
DOCS_SOURCES = [
    Path("/usr/share/cmake-3.25/Help"),
    Path("/usr/share/vim/vim90/doc"),
    Path("/usr/lib/google-cloud-sdk/lib/googlecloudsdk"),
]


def build_docs_source(sources: list[Path] = DOCS_SOURCES) -> Path:
    """Copy the documentation files of ``sources`` into one folder of ``.txt`` files."""
    target = DATA / "docs-source"
    if (target / "_COMPLETE").exists():
        return target
    found = [
        path
        for source in sources
        if source.is_dir()
        for path in sorted(source.rglob("*"))
        if path.suffix in (".rst", ".txt", ".py") and path.is_file()
    ]
    if not found:
        sys.exit(f"no documentation found under {', '.join(map(str, sources))}")
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for number, path in enumerate(found):
        (target / f"{number:05d}-{path.stem}.txt").write_bytes(path.read_bytes())
    (target / "_COMPLETE").write_text(str(len(found)))
    return target


def build_corpus(size_mb: int, source: Path = DEFAULT_SOURCE, single_file: bool = False) -> Path:
    """Copy the source's text files round-robin until ``size_mb`` MiB; reuse if built.

    With ``single_file`` the copies are concatenated into one file instead.
    """
    name = f"{source.name}-{size_mb}MB" + ("-single" if single_file else "")
    target = DATA / name
    done = target / "_COMPLETE"
    if done.exists():
        return target
    if not source.is_dir():
        sys.exit(f"no source text at {source}: pass --source FOLDER with .txt files")
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    sources = sorted(p for p in source.rglob("*.txt") if p.is_file())
    written, copy = 0, 0
    single = open(target / "corpus.txt", "wb") if single_file else None  # noqa: SIM115
    try:
        while written < size_mb * MiB:
            for path in sources:
                data = path.read_bytes()
                if single is not None:
                    single.write(data)
                else:
                    (target / f"{copy:03d}-{path.parent.name}-{path.name}").write_bytes(data)
                written += len(data)
                if written >= size_mb * MiB:
                    break
            copy += 1
    finally:
        if single is not None:
            single.close()
    done.write_text(str(written))
    return target


def corpus_files(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.iterdir() if not p.name.startswith("_"))


def corpus_bytes(folder: Path) -> int:
    return sum(os.path.getsize(p) for p in corpus_files(folder))


@dataclass
class Measurement:
    contender: str
    ok: bool
    seconds: float
    peak_tree_mib: float  # sampled sum of RSS over the process tree
    sum_hwm_mib: float  # sum of each process's own peak (VmHWM)
    cpu_seconds: float
    digest: str = ""
    note: str = ""
    driver_hwm_mib: float = 0.0  # the contender's own process
    largest_other_hwm_mib: float = 0.0  # the largest of its children (a worker)
    reported: dict = field(default_factory=dict)  # the contender's JSON line


def _hwm_kib(process: psutil.Process) -> int:
    try:
        with open(f"/proc/{process.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


CPUACCT = Path("/sys/fs/cgroup/cpuacct")
#: Seconds between two samples of a contender's memory.
SAMPLE_EVERY = 0.1


class CpuGroup:
    """A cpuacct cgroup (v1) of its own for one contender's process tree: the CPU time
    of every process that ever ran in it, those that ended before any sample too.
    Unavailable (``path`` None) without cgroup v1's cpuacct or without root."""

    def __init__(self, name: str) -> None:
        self.path: Path | None = CPUACCT / f"simplemr-bench-{os.getpid()}-{name}"
        try:
            self.path.mkdir()
        except OSError:
            self.path = None

    def join(self) -> None:
        """Move the calling process into the group (run in the child, before exec)."""
        if self.path is not None:
            (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def seconds(self) -> float | None:
        if self.path is None:
            return None
        return int((self.path / "cpuacct.usage").read_text()) / 1e9

    def remove(self) -> None:
        if self.path is not None:
            with contextlib.suppress(OSError):
                self.path.rmdir()


def own_cpu_seconds() -> float:
    """The CPU time of the calling process alone (for a contender: its driver)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(
    contender: str, command: list[str], timeout: float, memory_limit: int | None = None
) -> Measurement:
    """Run ``command``, sampling its process tree's memory every 100 ms; its CPU time
    comes from a cpuacct cgroup where there is one (else from the samples).

    The command prints a JSON line ``{"digest": ...}`` last. With ``memory_limit``
    (bytes) it runs under ``prlimit --as``, so a contender whose memory grows with
    its input fails instead of exhausting the machine.
    """
    if memory_limit:
        command = ["prlimit", f"--as={memory_limit}", *command]
    group = CpuGroup(contender)
    try:
        return _measure(contender, command, timeout, group)
    finally:
        group.remove()


def _measure(contender: str, command: list[str], timeout: float, group: CpuGroup) -> Measurement:
    start = time.perf_counter()
    process = psutil.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=group.join
    )
    peak, hwm = 0, {}
    cpu: dict[int, float] = {}
    while process.poll() is None:
        if time.perf_counter() - start > timeout:
            for child in process.children(recursive=True):
                child.kill()
            process.kill()
            process.wait()
            return Measurement(
                contender,
                False,
                timeout,
                peak / MiB,
                0,
                0,
                note=f"did not finish in {timeout:.0f} s",
            )
        try:
            tree = [process, *process.children(recursive=True)]
            total = 0
            for member in tree:
                try:
                    total += member.memory_info().rss
                    hwm[member.pid] = max(hwm.get(member.pid, 0), _hwm_kib(member))
                    if group.path is None:  # else the cgroup counts it, at no cost here
                        times = member.cpu_times()
                        cpu[member.pid] = times.user + times.system
                except psutil.Error:
                    pass
            peak = max(peak, total)
        except psutil.Error:
            pass
        # Sampling takes CPU the contender could use: not too often. Its exit, though,
        # is seen at once.
        with contextlib.suppress(psutil.TimeoutExpired, subprocess.TimeoutExpired):
            process.wait(SAMPLE_EVERY)
    seconds = time.perf_counter() - start
    stdout, stderr = process.communicate()
    if process.returncode != 0:
        tail = (stderr.strip().splitlines() or ["?"])[-1]
        note = f"failed (exit {process.returncode}): {tail[:120]}"
        total_hwm = sum(hwm.values()) / 1024
        return Measurement(contender, False, seconds, peak / MiB, total_hwm, 0, note=note)
    result = json.loads(stdout.strip().splitlines()[-1])
    driver = hwm.pop(process.pid, 0)
    tree_cpu = group.seconds()
    return Measurement(
        contender, True, seconds, peak / MiB, (sum(hwm.values()) + driver) / 1024,
        sum(cpu.values()) if tree_cpu is None else tree_cpu, result["digest"],
        driver_hwm_mib=driver / 1024,
        largest_other_hwm_mib=max(hwm.values(), default=0) / 1024, reported=result,
    )  # fmt: skip


def parse_arguments(
    doc: str,
    contenders: list[str],
    sizes: list[int],
    recipe_gib: int,
    extra: Callable | None = None,
    hidden_contenders: Iterable[str] = (),
) -> argparse.Namespace:
    """The options every benchmark takes (``extra`` adds its own), parsed.
    ``hidden_contenders`` may be named but are not run by default."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=sizes, help="MiB")
    choices = [*contenders, *hidden_contenders]
    parser.add_argument("--contenders", nargs="+", default=contenders, choices=choices)
    parser.add_argument("--repeat", type=int, default=1, help="runs per contender (median)")
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per run")
    parser.add_argument("--recipe-memory", type=int, default=recipe_gib, help="GiB for the recipe")
    parser.add_argument("--contender", help=argparse.SUPPRESS)  # one run, in its own process
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    if extra is not None:
        extra(parser)
    return parser.parse_args()


def run_contenders(
    script: str,
    names: list[str],
    data: Path,
    timeout: float,
    recipe_memory: int,
    repeat: int,
    extra: Iterable[str] = (),
) -> list[Measurement]:
    """Measure each contender of ``script`` on ``data`` in ``repeat`` rounds of all of
    them in turn, keeping each one's median run; the recipe runs under
    ``recipe_memory`` bytes of address space. ``extra`` arguments go to every
    contender's command line."""
    runs: dict[str, list[Measurement]] = {name: [] for name in names}
    for _ in range(repeat):  # round by round, so drift in the machine hits every contender
        for name in names:
            command = [sys.executable, script, "--contender", name, "--data", str(data), *extra]
            limit = (recipe_memory or None) if name == "recipe" else None
            runs[name].append(measure(name, command, timeout, limit))
            print(f"  {data.name} {name}: {runs[name][-1].seconds:.1f} s", file=sys.stderr)
    rows = []
    for name in names:
        ok = [run for run in runs[name] if run.ok]
        row = sorted(ok, key=lambda run: run.seconds)[len(ok) // 2] if ok else runs[name][0]
        if len(ok) > 1:
            row.note = f"median of {len(ok)}: {', '.join(f'{r.seconds:.1f}' for r in ok)} s"
        rows.append(row)
    return rows


def digest_of(rows: Iterable) -> str:
    """A short hash of result rows, independent of their order, computed as they
    stream by (so checking a result never holds all of it)."""
    total = count = 0
    for row in rows:
        total += int.from_bytes(hashlib.sha256(repr(row).encode()).digest()[:8], "little")
        count += 1
    return f"{total % 2**64:016x}-{count}"


def machine() -> str:
    cores = os.cpu_count()
    memory = psutil.virtual_memory().total / 1024**3
    cpu = platform.processor() or platform.machine()
    return f"{cpu}, {cores} cores, {memory:.0f} GiB RAM, Python {platform.python_version()}"


def table(rows: list[Measurement], input_bytes: int, reference: str | None) -> str:
    lines = [
        "| contender | seconds | MB/s | peak RSS of tree (MiB) | sum of VmHWM (MiB) "
        "| driver / largest worker VmHWM (MiB) | CPU s | output |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        if not row.ok:
            lines.append(
                f"| {row.contender} | - | - | {row.peak_tree_mib:.0f} | - | - | - | {row.note} |"
            )
            continue
        same = "same as reference" if reference is None or row.digest == reference else "DIFFERENT"
        lines.append(
            f"| {row.contender} | {row.seconds:.1f} | {input_bytes / 1e6 / row.seconds:.1f} | "
            f"{row.peak_tree_mib:.0f} | {row.sum_hwm_mib:.0f} | "
            f"{row.driver_hwm_mib:.0f} / {row.largest_other_hwm_mib:.0f} | "
            f"{row.cpu_seconds:.1f} | {same} |"
        )
    return "\n".join(lines)


def save(results_file: Path, record: dict) -> None:
    results_file.parent.mkdir(parents=True, exist_ok=True)
    with open(results_file, "a") as file:
        file.write(json.dumps(record) + "\n")


__all__ = ["Measurement", "asdict", "build_corpus", "corpus_bytes", "corpus_files", "digest_of",
           "machine", "measure", "parse_arguments", "run_contenders", "save", "table"]  # fmt: skip
