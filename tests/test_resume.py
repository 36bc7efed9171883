"""Steps kept and resumed (resume.py): every step's results but the last kept in a
folder; a rerun with ``resume`` skips the steps this same job made, and only those."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import simplemr

THREE_STEPS = textwrap.dedent(
    '''
    import os, signal, sys
    import simplemr

    HERE = os.path.dirname(os.path.abspath(__file__))

    def note(what):
        with open(os.path.join(HERE, "calls.log"), "a") as log:
            log.write(what + "\\n")

    class Pipeline(simplemr.Job):
        """Word counts, then counts of counts, then the largest bucket first."""

        def steps(self):
            return [
                simplemr.Step(mapper=self.words, combiner=self.add, reducer=self.add),
                simplemr.Step(mapper=self.by_count, reducer=self.gather),
                simplemr.Step(mapper=self.last_mapper, reducer=self.emit),
            ]

        def words(self, _, line):
            note("step 1")
            for word in line.split():
                yield word, 1

        def add(self, key, values):
            yield key, sum(values)

        def by_count(self, word, count):
            note("step 2")
            yield count, word

        def gather(self, count, words):
            yield count, sorted(words)

        def last_mapper(self, count, words):
            if os.path.exists(os.path.join(HERE, "die")):  # the driver dies in step 3
                with open(os.path.join(HERE, "driver.pid")) as file:
                    os.kill(int(file.read()), signal.SIGKILL)
            yield "bucket", (count, len(words))

        def emit(self, key, buckets):
            yield key, sorted(buckets, reverse=True)

    if __name__ == "__main__":
        with open(os.path.join(HERE, "driver.pid"), "w") as file:
            file.write(str(os.getpid()))
        Pipeline.main()
    '''
)


@pytest.fixture
def pipeline(tmp_path: Path) -> Path:
    (tmp_path / "job").mkdir()
    job = tmp_path / "job" / "pipeline.py"
    job.write_text(THREE_STEPS)
    words = [f"w{n % 50}" for n in range(600)] + [f"rare{n}" for n in range(40)]
    (tmp_path / "in.txt").write_text(
        "\n".join(" ".join(words[i : i + 9]) for i in range(0, 640, 9))
    )
    return job


def _run(started, job: Path, *args: str) -> subprocess.CompletedProcess[str]:
    process = started([sys.executable, str(job), *args], stdout=subprocess.PIPE,
                      stderr=subprocess.PIPE, text=True)  # fmt: skip
    out, err = process.communicate(timeout=300)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def test_a_job_killed_in_step_3_resumes_without_running_steps_1_and_2(
    pipeline: Path, tmp_path: Path, started
) -> None:
    folder = pipeline.parent
    source = str(tmp_path / "in.txt")
    expected = _run(started, pipeline, source, "--workers", "2", "-o", str(tmp_path / "ref.tsv"))
    assert expected.returncode == 0, expected.stderr
    kept = tmp_path / "kept"
    (folder / "die").write_text("")
    killed = _run(started, pipeline, source, "--workers", "2", "--step-output-dir", str(kept),
                  "-o", str(tmp_path / "out.tsv"))  # fmt: skip
    assert killed.returncode == -signal.SIGKILL
    assert sorted(os.listdir(kept)) == ["step-1", "step-2"]
    assert (kept / "step-2" / "_SUCCESS").exists() and not (tmp_path / "out.tsv").exists()
    (folder / "die").unlink()
    (folder / "calls.log").unlink()
    resumed = _run(started, pipeline, source, "--workers", "2", "--step-output-dir", str(kept),
                   "--resume", "-o", str(tmp_path / "out.tsv"))  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed: steps 1-2 skipped" in resumed.stderr
    assert not (folder / "calls.log").exists()  # no mapper of step 1 or 2 was called
    assert (tmp_path / "out.tsv").read_text() == (tmp_path / "ref.tsv").read_text()


class Counted(simplemr.Job):
    def steps(self):
        return [
            simplemr.Step(mapper=self.words, reducer=self.add),
            simplemr.Step(mapper=self.swap, reducer=self.gather),
        ]

    def words(self, _, line):
        self.increment_counter("calls", "step 1")
        for word in line.split():
            yield word, 1

    def add(self, word, counts):
        yield word, sum(counts)

    def swap(self, word, count):
        self.increment_counter("calls", "step 2")
        yield count, word

    def gather(self, count, words):
        yield count, sorted(words)


class CountedFixed(Counted):
    def swap(self, word, count):  # step 2 changed: it runs again, step 1 does not
        self.increment_counter("calls", "step 2")
        yield count * 10, word


LINES = ["a b c a", "b a d"]


def test_a_changed_step_runs_again_and_the_steps_before_it_do_not(tmp_path: Path) -> None:
    kept = tmp_path / "kept"
    first = Counted().run(LINES, executor="inline", step_output=kept)
    assert first.counters["calls.step 1"] == 2 and first.resumed_steps == 0
    again = Counted().run(LINES, executor="inline", step_output=kept, resume=True)
    assert again.resumed_steps == 1 and "calls.step 1" not in again.counters
    assert sorted(again.results) == sorted(first.results)
    fixed = CountedFixed().run(LINES, executor="inline", step_output=kept, resume=True)
    assert fixed.resumed_steps == 1 and fixed.counters["calls.step 2"] == 4
    assert sorted(fixed.results) == [(10, ["c", "d"]), (20, ["b"]), (30, ["a"])]


def test_other_inputs_run_every_step(tmp_path: Path) -> None:
    kept = tmp_path / "kept"
    source = tmp_path / "in.txt"
    source.write_text("a b a\n")
    Counted().run(simplemr.text_files(source), executor="inline", step_output=kept)
    source.write_text("a b a c\n")  # another size and time: another input
    rerun = Counted().run(
        simplemr.text_files(source), executor="inline", step_output=kept, resume=True
    )
    assert rerun.resumed_steps == 0 and rerun.counters["calls.step 1"] == 1
    other_items = Counted().run(["x y"], executor="inline", step_output=kept, resume=True)
    assert other_items.resumed_steps == 0 and sorted(other_items.results) == [(1, ["x", "y"])]


@pytest.mark.parametrize(
    ("setup", "options", "message"),
    [
        ("foreign", {"resume": True}, "holds 'notes.txt', which is no step kept by simplemr"),
        ("earlier", {}, "holds the steps of an earlier run: pass resume=True"),
        ("none", {"step_output": None, "resume": True}, "resume goes with step_output"),
        ("file", {}, "is a file, not a folder"),
    ],
)
def test_what_cannot_be_resumed_is_refused(
    tmp_path: Path, setup: str, options: dict, message: str
) -> None:
    kept = tmp_path / "kept"
    if setup == "foreign":
        kept.mkdir()
        (kept / "notes.txt").write_text("mine")
    elif setup == "earlier":
        Counted().run(LINES, executor="inline", step_output=kept)
    elif setup == "file":
        kept.write_text("a file")
    with pytest.raises(simplemr.JobDefinitionError, match=message):
        Counted().run(LINES, executor="inline", **{"step_output": kept, **options})
    if setup == "foreign":
        assert sorted(os.listdir(kept)) == ["notes.txt"]


def test_a_generator_is_kept_but_cannot_be_resumed(tmp_path: Path) -> None:
    kept = tmp_path / "kept"
    result = Counted().run((line for line in LINES), executor="inline", step_output=kept)
    assert sorted(result.results) == [(1, ["c", "d"]), (2, ["b"]), (3, ["a"])]
    assert os.listdir(kept) == ["step-1"]
    with pytest.raises(simplemr.JobDefinitionError, match="inputs it can know again"):
        Counted().run((line for line in LINES), executor="inline", step_output=kept, resume=True)


def test_kept_steps_with_local_workers_and_dask(tmp_path: Path, dask_client) -> None:
    from simplemr.executors.dask import DaskExecutor

    kept = tmp_path / "kept"
    local = Counted().run(LINES * 50, workers=2, step_output=kept)
    on_dask = Counted().run(
        LINES * 50, executor=DaskExecutor(2, client=dask_client), step_output=kept, resume=True
    )
    assert on_dask.resumed_steps == 1 and sorted(on_dask.results) == sorted(local.results)
