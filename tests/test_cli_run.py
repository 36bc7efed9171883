"""``simplemr run JOB`` and ``python job.py``: every input format, stdout and folders, errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from simplemr.cli import main

JOB = '''
"""Counts the words of any record: a line, a JSON object's or CSV row's "word", a file."""
import simplemr


class Words(simplemr.Job):
    def configure_options(self, parser):
        parser.add_argument("--times", type=int, default=1)

    def mapper(self, _, record):
        if isinstance(record, tuple):
            record = record[1].decode()
        elif isinstance(record, dict):
            record = record["word"]
        for word in record.split():
            if word == "boom":
                raise ValueError("boom is not a word")
            yield word, self.options.times

    def reducer(self, word, counts):
        self.increment_counter("words", "distinct")
        yield word, sum(counts)


if __name__ == "__main__":
    Words.main()
'''

INPUTS = {
    "text": ("in.txt", "a b\nb\n"),
    "jsonl": ("in.jsonl", '{"word": "a b"}\n\n{"word": "b"}\n'),
    "csv": ("in.csv", 'word,other\n"a b",1\nb,2\n'),
    "file": ("in.txt", "a b\nb"),
}


@pytest.fixture
def job_file(tmp_path: Path) -> Path:
    path = tmp_path / "words.py"
    path.write_text(JOB)
    return path


def write_input(tmp_path: Path, input_format: str) -> Path:
    name, text = INPUTS[input_format]
    path = tmp_path / name
    path.write_text(text)
    return path


def read_output(target: Path) -> list[str]:
    assert (target / "_SUCCESS").exists()
    return sorted(
        line for part in sorted(target.glob("part-*")) for line in part.read_text().splitlines()
    )


@pytest.mark.parametrize("input_format", sorted(INPUTS))
def test_simplemr_run_each_input_format_to_stdout(
    tmp_path: Path, job_file: Path, input_format: str, capsys
) -> None:
    source = write_input(tmp_path, input_format)
    status = main(["run", str(job_file), str(source), "--input-format", input_format, "--summary"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert sorted(captured.out.splitlines()) == ["a\t1", "b\t2"]
    assert "words.distinct" in captured.err


@pytest.mark.parametrize("input_format", sorted(INPUTS))
def test_simplemr_run_each_input_format_to_a_folder(
    tmp_path: Path, job_file: Path, input_format: str, capsys
) -> None:
    source = write_input(tmp_path, input_format)
    target = tmp_path / "out"
    arguments = ["run", f"{job_file}:Words", str(source), "-o", str(target), "--times", "3"]
    status = main([*arguments, "--input-format", input_format, "--output-format", "jsonl"])
    assert status == 0, capsys.readouterr().err
    assert read_output(target) == ['["a", 3]', '["b", 6]']


@pytest.mark.timeout(120)
@pytest.mark.parametrize("input_format", sorted(INPUTS))
def test_python_job_py_each_input_format(tmp_path: Path, job_file: Path, input_format: str) -> None:
    source = write_input(tmp_path, input_format)
    command = [sys.executable, str(job_file), str(source), "--input-format", input_format]
    to_stdout = subprocess.run(command, capture_output=True, text=True, timeout=100)
    assert to_stdout.returncode == 0, to_stdout.stderr
    assert sorted(to_stdout.stdout.splitlines()) == ["a\t1", "b\t2"]
    target = tmp_path / "out"
    to_folder = subprocess.run([*command, "-o", str(target)], capture_output=True, timeout=100)
    assert to_folder.returncode == 0, to_folder.stderr
    assert read_output(target) == ["a\t1", "b\t2"]


def test_a_module_job_reads_stdin_and_sorts(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "simplemr", "run", "simplemr.examples.sort_lines:SortLines"]
    ran = subprocess.run(
        [*command, "--field", "2", "--numeric", "--summary"],
        input="x\t10\ny\t9\nz\t100\nno key\n",
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines() == ["y\t9", "x\t10", "z\t100"]
    assert "sort.lines_without_key" in ran.stderr


def test_an_output_folder_is_the_next_jobs_input(tmp_path: Path, job_file: Path, capsys) -> None:
    source = write_input(tmp_path, "text")
    first, second = tmp_path / "first", tmp_path / "second"
    assert (
        main(["run", str(job_file), str(source), "-o", str(first), "--output-format", "jsonl"]) == 0
    )
    (first / ".hidden").write_text("not read\n")
    # The second job reads the first's part files as JSON lines: ["a", 1] has no "word".
    chained = tmp_path / "chained.py"
    chained.write_text(
        JOB.replace(
            'record = record["word"]', 'record = " ".join([record[0]] * record[1])'
        ).replace("isinstance(record, dict)", "isinstance(record, list)")
    )
    assert (
        main(["run", str(chained), str(first), "-o", str(second), "--input-format", "jsonl"]) == 0
    )
    assert read_output(second) == ["a\t1", "b\t2"]


def test_max_bad_records_on_the_command_line(tmp_path: Path, job_file: Path, capsys) -> None:
    source = tmp_path / "in.txt"
    source.write_text("a\nboom\nb\nboom b\n")
    assert (
        main(["run", str(job_file), str(source), "--max-bad-records", "2", "--executor", "inline"])
        == 0
    )
    captured = capsys.readouterr()
    assert sorted(captured.out.splitlines()) == ["a\t1", "b\t1"]
    assert "skipped 2 bad records; the first:" in captured.err
    assert f"{source}, line 2: ValueError: boom is not a word" in captured.err
    status = main(
        ["run", str(job_file), str(source), "--max-bad-records", "1", "--executor", "inline"]
    )
    assert status == 1
    assert "more than --max-bad-records 1 in this task" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("job", "message"),
    [
        ("missing.py", "no such job file"),
        ("empty.py", "defines no subclass of simplemr.Job"),
        ("two.py", "defines several job classes: name one (it has First, Second)"),
        ("two.py:Third", "has no job class 'Third' (it has First, Second)"),
        ("broken.py", "raised SyntaxError"),
        ("raising.py", "the job file 'raising.py', line 3, raised KeyError: 'HOME_OF_DATA'"),
        ("no_such_module:Job", "cannot import the job module 'no_such_module'"),
    ],
)
def test_a_job_that_cannot_be_loaded_is_a_usage_error(
    tmp_path: Path, job: str, message: str, capsys, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("empty.py").write_text("import simplemr\n")
    Path("two.py").write_text(
        textwrap.dedent("""
        import simplemr
        class First(simplemr.Job):
            def mapper(self, _, line): yield line, 1
        class Second(First):
            pass
    """)
    )
    Path("broken.py").write_text("def (:\n")
    Path("raising.py").write_text("import os\n\nDATA = os.environ['HOME_OF_DATA']\n")
    Path("in.txt").write_text("a\n")
    assert main(["run", job, "in.txt"]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_run_without_a_job_or_with_a_bad_option(job_file: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run"])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit):
        main(["run", str(job_file), "in.txt", "--times", "many"])
    assert "--times: invalid int value: 'many'" in capsys.readouterr().err


def test_job_file_classes_as_keys_and_values_on_worker_processes(tmp_path: Path, capsys) -> None:
    job = tmp_path / "typed.py"
    job.write_text(
        textwrap.dedent("""
        import collections, dataclasses
        import simplemr

        @dataclasses.dataclass(frozen=True)
        class Word:
            text: str

        Seen = collections.namedtuple("Seen", "count length")

        class Typed(simplemr.Job):
            def mapper(self, _, line):
                for word in line.split():
                    yield Word(word), Seen(1, len(word))

            def reducer(self, word, seen):
                seen = list(seen)
                assert all(isinstance(s, Seen) for s in seen)
                yield word.text, sum(s.count for s in seen)
    """)
    )
    source = tmp_path / "in.txt"
    source.write_text("to be or not to be\n" * 50)
    assert main(["run", str(job), str(source), "--workers", "2", "--memory", "2MiB"]) == 0
    assert sorted(capsys.readouterr().out.splitlines()) == [
        "be\t100", "not\t50", "or\t50", "to\t100",
    ]  # fmt: skip


@pytest.mark.timeout(120)
def test_a_job_file_imports_modules_beside_it(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    (jobs / "helper.py").write_text("def tokens(line):\n    return line.upper().split()\n")
    (jobs / "upper.py").write_text(
        textwrap.dedent("""
        import simplemr
        from helper import tokens

        class Upper(simplemr.Job):
            def mapper(self, _, line):
                for token in tokens(line):
                    yield token, 1

            def reducer(self, token, ones):
                yield token, sum(ones)
    """)
    )
    (tmp_path / "in.txt").write_text("a b a\n")
    ran = subprocess.run(
        [sys.executable, "-m", "simplemr", "run", "jobs/upper.py", "in.txt"],
        cwd=tmp_path, capture_output=True, text=True, timeout=100,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert sorted(ran.stdout.splitlines()) == ["A\t2", "B\t1"]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "class J(simplemr.Job):\n    def configure_options(self, parser):\n"
            "        raise ValueError('no options today')\n    def mapper(self, _, v):\n"
            "        yield v, 1\n",
            "J.configure_options raised ValueError: no options today",
        ),
        (
            "class J(simplemr.Job):\n    def configure_options(self, parser):\n"
            "        parser.add_argument('--workers', type=int, default=1)\n"
            "    def mapper(self, _, v):\n        yield v, 1\n",
            "J's option --workers clashes with one of simplemr's own",
        ),
        (
            "class J(simplemr.Job):\n    def steps(self):\n"
            "        return [simplemr.Step(mapper=self.mapperr)]\n",
            "J.steps() raised AttributeError",
        ),
        (
            "class J(simplemr.Job):\n    def mapper(self, _, v):\n        yield v, 1\nJ.main()\n",
            "J.main() ran while the job file was being loaded: put it under if __name__",
        ),
    ],
)
def test_mistakes_in_a_job_class_are_one_line(
    tmp_path: Path, source: str, message: str, capsys
) -> None:
    job = tmp_path / "mistake.py"
    job.write_text("import simplemr\n\n" + source)
    (tmp_path / "in.txt").write_text("a\n")
    assert main(["run", str(job), str(tmp_path / "in.txt")]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_a_job_file_without_the_py_suffix(tmp_path: Path, capsys) -> None:
    job = tmp_path / "wordjob"
    job.write_text(JOB)
    (tmp_path / "in.txt").write_text("x y x\n")
    assert main(["run", str(job), str(tmp_path / "in.txt"), "--executor", "inline"]) == 0
    assert sorted(capsys.readouterr().out.splitlines()) == ["x\t2", "y\t1"]


def test_options_may_come_before_the_job_and_its_own_after(
    tmp_path: Path, job_file: Path, capsys
) -> None:
    (tmp_path / "in.txt").write_text("x y x\n")
    arguments = ["run", "--executor", "inline", "--memory=64MB", "--sort", str(job_file),
                 str(tmp_path / "in.txt"), "--times", "3"]  # fmt: skip
    assert main(arguments) == 0
    assert capsys.readouterr().out.splitlines() == ["x\t6", "y\t3"]
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--workers", "2"])  # no job at all
    assert exit_info.value.code == 2
    assert "the following arguments are required: JOB" in capsys.readouterr().err


def test_sorted_values_to_one_text_file(tmp_path: Path, capsys) -> None:
    (tmp_path / "scores.tsv").write_text("b\t10\na\t9\nc\t100\n")
    target = tmp_path / "sorted.txt"
    job = "simplemr.examples.sort_lines:SortLines"
    arguments = [str(tmp_path / "scores.tsv"), "--field", "2", "--numeric", "-o", str(target)]
    assert main(["run", job, *arguments]) == 0
    assert target.read_text() == "a\t9\nb\t10\nc\t100\n"
