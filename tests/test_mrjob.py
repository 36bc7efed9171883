"""``simplemr mrjob``: mrjob job files run unmodified, compared with real mrjob 0.7.4.

Each job in ``mrjob_jobs/`` exercises mrjob features (several steps, every kind
of protocol, secondary sort, pre-filters and commands, uploaded files, jobconf
variables, raw mappers, options); it runs under real mrjob's local runner and
under ``simplemr mrjob``, and the sorted output lines must be identical. The
comparisons skip where mrjob cannot be imported; the rest of the file does not
need it.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest
from conftest import SAMPLE

from simplemr.mrjob.job import MRJob
from simplemr.mrjob.options import option_tokens
from simplemr.mrjob.step import MRStep

JOBS = Path(__file__).resolve().parent / "mrjob_jobs"
DATA = JOBS / "data"
TEXT = [*sorted(str(path) for path in SAMPLE.iterdir()), str(DATA / "notes.txt")]

try:  # real mrjob, to compare with; the import fails on Python 3.13 and later
    import mrjob as real_mrjob
    import mrjob.protocol as real_protocol

    REAL_EXAMPLES = Path(real_mrjob.__file__).parent / "examples"
except Exception:
    real_mrjob = real_protocol = None
    REAL_EXAMPLES = None

needs_mrjob = pytest.mark.skipif(real_mrjob is None, reason="mrjob 0.7.4 cannot be imported here")


def run(argv: list[str], cwd: Path | None = None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, cwd=cwd, timeout=240, **kwargs)


def simplemr_mrjob(*args: str, cwd: Path | None = None, **kwargs) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "simplemr", "mrjob", *args], cwd=cwd, **kwargs)


def real(job: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return run([sys.executable, str(job), "-r", "local", *args], cwd=cwd)


def lines(output: bytes) -> list[bytes]:
    return sorted(output.splitlines())


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("archive")
    path = folder / "bundle.tar.gz"
    with tarfile.open(path, "w:gz") as bundle:
        for name in ("one.txt", "two.txt"):
            data = f"{name}\n".encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            bundle.addfile(info, io.BytesIO(data))
    return f"{path}#archived"


def job_args(name: str, archive: str) -> list[str]:
    return {
        "mr_protocols.py": [str(DATA / "actions.tsv")],
        "mr_sort_values.py": TEXT,
        "mr_commands.py": TEXT,
        "mr_uploads.py": [
            "--more-stop-words",
            str(DATA / "stop.txt"),
            "--archives",
            archive,
            *TEXT,
        ],
        "mr_jobconf.py": [
            "--jobconf",
            "other.setting=5",
            "--cmdenv",
            "MY_VARIABLE=hi",
            "--cmdenv",
            "PATH=/opt/extra",
            *TEXT,
        ],
        "mr_newlines.py": TEXT,
        "mr_raw.py": [*TEXT, str(DATA / "notes.txt.gz")],
        "mr_hooks_only.py": TEXT,
        "mr_options.py": ["--top", "3", "--case", "upper", *TEXT],
    }[name]


JOB_NAMES = sorted(path.name for path in JOBS.glob("mr_*.py"))


@needs_mrjob
@pytest.mark.parametrize("name", JOB_NAMES)
@pytest.mark.parametrize("engine", [["--workers", "2"], ["-r", "inline", "--executor", "inline"]])
def test_each_job_prints_what_mrjob_prints(name: str, engine: list[str], archive: str) -> None:
    args = job_args(name, archive)
    expected = real(JOBS / name, *args)
    assert expected.returncode == 0, expected.stderr.decode()
    got = simplemr_mrjob(str(JOBS / name), *args, *engine)
    assert got.returncode == 0, got.stderr.decode()
    assert lines(expected.stdout), "the job printed nothing: the comparison would prove nothing"
    assert lines(got.stdout) == lines(expected.stdout)


def test_the_jobs_give_known_answers_without_mrjob(archive: str) -> None:
    """What some of the jobs must print, checked without mrjob to compare with."""
    got = simplemr_mrjob(str(JOBS / "mr_protocols.py"), str(DATA / "actions.tsv"))
    assert got.returncode == 0, got.stderr.decode()
    assert b"'#'\t[('rows', 5), ('start', 0)]" in got.stdout
    assert b"'a'\t[('a', 1), ('book', 1), ('goes', 1), ('market', 1), ('reads', 1)" in got.stdout
    sorted_values = simplemr_mrjob(str(JOBS / "mr_sort_values.py"), *TEXT)
    assert sorted_values.stdout.count(b'"in_order": true') == len(sorted_values.stdout.splitlines())
    jobconf = simplemr_mrjob(str(JOBS / "mr_jobconf.py"), "-D", "other.setting=5", *TEXT)
    out = jobconf.stdout.decode()
    assert '"setting"\t[["from-class"], "reducer ismap", "false"]' in out
    assert '"other"\t[["5"], ' in out and '"scheme"\t[["file"], ' in out


@needs_mrjob
@pytest.mark.parametrize(
    "name, args",
    [
        ("mr_word_freq_count.py", []),
        ("mr_wc.py", []),
        ("mr_count_lines_right.py", []),
        ("mr_most_used_word.py", []),
        ("mr_next_word_stats.py", []),
        ("mr_words_containing_u_freq_count.py", []),
        ("mr_count_lines_by_file.py", []),
        ("mr_grep.py", ["-e", "the"]),
        ("mr_text_classifier.py", []),
        ("mr_nick_nack.py", []),  # its HADOOP_OUTPUT_FORMAT ignored, as mrjob's runner does
    ],
)
def test_mrjobs_own_examples_print_what_mrjob_prints(name: str, args: list[str]) -> None:
    job = REAL_EXAMPLES / name
    expected = real(job, *args, *TEXT)
    assert expected.returncode == 0, expected.stderr.decode()
    got = simplemr_mrjob(str(job), *args, *TEXT)
    assert got.returncode == 0, got.stderr.decode()
    assert lines(expected.stdout)
    if name == "mr_text_classifier.py":  # builds dicts in the order values come: compare them
        assert as_json(got.stdout) == as_json(expected.stdout)
    else:
        assert lines(got.stdout) == lines(expected.stdout)


@needs_mrjob
def test_step_output_dir_keeps_the_steps_but_the_last(tmp_path: Path) -> None:
    job = REAL_EXAMPLES / "mr_most_used_word.py"  # two steps
    kept = tmp_path / "steps"
    expected = real(job, *TEXT)
    for _ in range(2):  # a second run replaces what the first kept, as mrjob does
        got = simplemr_mrjob(str(job), "--step-output-dir", str(kept), *TEXT)
        assert got.returncode == 0, got.stderr.decode()
        assert lines(got.stdout) == lines(expected.stdout)
        assert sorted(os.listdir(kept)) == ["step-1"]
        assert (kept / "step-1" / "_SUCCESS").exists()


def as_json(output: bytes) -> list[str]:
    """Each line's key and value as JSON with sorted object keys, the lines sorted."""
    canonical = []
    for line in output.splitlines():
        key, value = line.split(b"\t", 1)
        parts = [json.dumps(json.loads(part), sort_keys=True) for part in (key, value)]
        canonical.append("\t".join(parts))
    return sorted(canonical)


@pytest.mark.skipif(REAL_EXAMPLES is None, reason="mrjob 0.7.4 cannot be imported here")
@pytest.mark.parametrize(
    "name, refusal",
    [
        ("mr_jar_step_example.py", "step 1 of 2 is a JarStep, which only Hadoop can run"),
        ("mr_spark_wordcount.py", "step 1 of 1 is a SparkStep, which only Spark can run"),
        ("mr_spark_wordcount_script.py", "is a SparkScriptStep, which only Spark can run"),
    ],
)
def test_what_only_hadoop_or_spark_runs_is_refused(name: str, refusal: str) -> None:
    got = simplemr_mrjob(str(REAL_EXAMPLES / name), *TEXT)
    assert got.returncode == 2
    assert (
        got.stderr.decode().strip() == f"simplemr: error: {refusal}"
        or refusal in got.stderr.decode()
    )
    assert got.stdout == b"" and b"Traceback" not in got.stderr


def write_job(tmp_path: Path, body: str, name: str = "job.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


WORDS = """
    from mrjob.job import MRJob

    class MRWords(MRJob):
        def mapper(self, _, line):
            for word in line.split():
                yield word, 1

        def reducer(self, word, counts):
            yield word, sum(counts)
{extra}
    if __name__ == "__main__":
        MRWords.run()
"""


def words_job(tmp_path: Path, extra: str = "") -> Path:
    return write_job(
        tmp_path, WORDS.replace("{extra}", textwrap.indent(textwrap.dedent(extra), " " * 8))
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["-r", "emr"], "-r emr runs the job on emr, which simplemr does not do"),
        (["-r", "hadoop"], "-r hadoop runs the job on hadoop"),
        (["--setup", "pip install x"], "--setup is not supported by simplemr mrjob"),
        (["--files", "/no/such/file.txt"], "the file '/no/such/file.txt' to put in each task's"),
    ],
)
def test_unsupported_options_are_refused_in_one_line(tmp_path: Path, args, message) -> None:
    (tmp_path / "in.txt").write_text("a b a\n")
    got = simplemr_mrjob(str(words_job(tmp_path)), *args, str(tmp_path / "in.txt"))
    assert got.returncode == 2, got.stderr.decode()
    assert message in got.stderr.decode()
    assert len(got.stderr.decode().strip().splitlines()) == 1


@pytest.mark.parametrize(
    "extra, message",
    [
        ("def spark(self, input_path, output_path):\n    pass\n", "Can't mix spark()"),
    ],
)
def test_unsupported_class_attributes_are_refused(tmp_path: Path, extra, message) -> None:
    (tmp_path / "in.txt").write_text("a b a\n")
    got = simplemr_mrjob(str(words_job(tmp_path, extra)), str(tmp_path / "in.txt"))
    assert got.returncode in (1, 2), got.stderr.decode()
    assert message in got.stderr.decode()


def test_settings_that_need_hadoop_are_ignored_with_a_warning_each(tmp_path: Path) -> None:
    """As mrjob's local runner does: the job runs, reading and writing lines."""
    (tmp_path / "in.txt").write_text("a b a\n")
    extra = (
        "PARTITIONER = 'org.apache.hadoop.mapred.lib.KeyFieldBasedPartitioner'\n"
        "HADOOP_INPUT_FORMAT = 'x.Format'\n"
        "HADOOP_OUTPUT_FORMAT = 'nicknack.MultipleValueOutputFormat'\n"
        "LIBJARS = ['x.jar']\n"
    )
    got = simplemr_mrjob(str(words_job(tmp_path, extra)), str(tmp_path / "in.txt"))
    assert got.returncode == 0, got.stderr.decode()
    assert lines(got.stdout) == [b'"a"\t2', b'"b"\t1']
    warned = got.stderr.decode().strip().splitlines()
    names = ["HADOOP_INPUT_FORMAT", "HADOOP_OUTPUT_FORMAT", "PARTITIONER", "LIBJARS"]
    assert len(warned) == len(names), warned
    for name, line in zip(names, warned, strict=True):
        assert f"{name} = " in line and "is ignored: it needs Hadoop" in line


RAW_URIS = """
    import os
    from mrjob.job import MRJob
    from mrjob.step import MRStep

    class MRRawUris(MRJob):
        def steps(self):
            return [MRStep(mapper_raw=self.opened)]

        def opened(self, path, uri):
            with open(uri, "rb") as by_uri, open(path, "rb") as by_path:
                yield uri, [os.path.isabs(uri), by_uri.read() == by_path.read()]

    if __name__ == "__main__":
        MRRawUris.run()
"""


def test_mapper_raw_gets_an_absolute_uri_for_a_relative_input(tmp_path: Path) -> None:
    """Its task runs in a working folder of its own: a relative name would not open."""
    job = write_job(tmp_path, RAW_URIS)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "in.txt").write_text("a\nb\n")
    got = simplemr_mrjob(str(job), "data/in.txt", cwd=tmp_path)
    assert got.returncode == 0, got.stderr.decode()
    expected = f'"{tmp_path / "data" / "in.txt"}"\t[true, true]'.encode()
    assert lines(got.stdout) == [expected]
    if real_mrjob is not None:
        assert lines(real(job, "data/in.txt", cwd=tmp_path).stdout) == [expected]


KEPT_VALUES = """
    from mrjob.job import MRJob

    class MRKept(MRJob):
        def mapper(self, _, line):
            for word in line.split():
                yield word, 1

        def reducer_init(self):
            self.kept = []

        def reducer(self, word, ones):
            self.kept.append((word, ones))
            yield word, "seen"

        def reducer_final(self):
            for word, ones in self.kept:
                yield word, sum(ones)

    if __name__ == "__main__":
        MRKept.run()
"""


def test_values_kept_past_their_reducer_call_read_nothing_as_in_mrjob(tmp_path: Path) -> None:
    """mrjob groups with itertools.groupby: the next key leaves the last one's values."""
    job = write_job(tmp_path, KEPT_VALUES)
    (tmp_path / "in.txt").write_text("a b a\nb c\n")
    got = simplemr_mrjob(str(job), "-r", "local", str(tmp_path / "in.txt"))
    assert got.returncode == 0, got.stderr.decode()
    expected = sorted(
        [f'"{word}"\t"seen"'.encode() for word in "abc"]
        + [f'"{word}"\t0'.encode() for word in "abc"]
    )
    assert lines(got.stdout) == expected
    if real_mrjob is not None:
        assert lines(real(job, str(tmp_path / "in.txt")).stdout) == expected


CRLF_COMMAND = """
    from mrjob.job import MRJob
    from mrjob.protocol import RawValueProtocol
    from mrjob.step import MRStep

    class MRNotBlank(MRJob):
        INTERNAL_PROTOCOL = RawValueProtocol

        def steps(self):
            return [MRStep(mapper_cmd="grep -v '^ *$'", reducer=self.each)]

        def each(self, _, lines):
            for line in lines:
                yield repr(line), 1

    if __name__ == "__main__":
        MRNotBlank.run()
"""

CRLF_PRE_FILTER = """
    from mrjob.job import MRJob

    class MRNotBlankFiltered(MRJob):
        def mapper_pre_filter(self):
            return "grep -v '^ *$'"

        def mapper(self, _, line):
            yield repr(line), 1

        def reducer(self, line, ones):
            yield line, sum(ones)

    if __name__ == "__main__":
        MRNotBlankFiltered.run()
"""


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (CRLF_COMMAND, [b"\"''\"\t1", b"\"''\"\t1", b"\"'a'\"\t1"]),
        (CRLF_PRE_FILTER, [b"\"''\"\t2", b"\"'a'\"\t1"]),
    ],
)
def test_commands_get_the_bytes_of_crlf_lines_as_in_mrjob(
    tmp_path: Path, body: str, expected: list[bytes]
) -> None:
    """A blank CRLF line holds a \\r, which `grep -v '^ *$'` keeps: mrjob hands a
    command the file's bytes, and a Python step reads its lines without the \\r."""
    job = write_job(tmp_path, body)
    (tmp_path / "in.txt").write_bytes(b"a\r\n\r\n\r\n")
    got = simplemr_mrjob(str(job), str(tmp_path / "in.txt"))
    assert got.returncode == 0, got.stderr.decode()
    assert lines(got.stdout) == expected
    if real_mrjob is not None:
        assert lines(real(job, str(tmp_path / "in.txt")).stdout) == expected


def test_hadoops_hash_partitioner_is_honoured(tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("a b a\n")
    extra = "PARTITIONER = 'org.apache.hadoop.mapred.lib.HashPartitioner'\n"
    got = simplemr_mrjob(str(words_job(tmp_path, extra)), str(tmp_path / "in.txt"))
    assert got.returncode == 0, got.stderr.decode()
    assert lines(got.stdout) == [b'"a"\t2', b'"b"\t1']


def test_runs_when_mrjob_is_not_importable_and_installs_no_mrjob(tmp_path: Path) -> None:
    """A broken ``mrjob`` on the path (as on Python 3.13) does not matter to simplemr,
    and simplemr puts no ``mrjob`` of its own where Python would find it."""
    broken = tmp_path / "site" / "mrjob"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('this mrjob cannot be imported')\n")
    (tmp_path / "in.txt").write_text("a b a\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    got = simplemr_mrjob(str(words_job(tmp_path)), str(tmp_path / "in.txt"), env=env)
    assert got.returncode == 0, got.stderr.decode()
    assert lines(got.stdout) == [b'"a"\t2', b'"b"\t1']
    direct = run([sys.executable, str(tmp_path / "job.py"), str(tmp_path / "in.txt")], env=env)
    assert b"this mrjob cannot be imported" in direct.stderr
    clean = {**os.environ, "PYTHONPATH": ""}
    probe = run(
        [sys.executable, "-c", "import importlib.util as u; print(u.find_spec('mrjob'))"], env=clean
    )
    assert b"simplemr" not in probe.stdout


def test_a_job_importing_simplemr_mrjob_runs_with_python(tmp_path: Path) -> None:
    job = tmp_path / "job.py"
    job.write_text(
        words_job(tmp_path).read_text().replace("from mrjob.job", "from simplemr.mrjob.job")
    )
    (tmp_path / "in.txt").write_text("a b a\n")
    got = run([sys.executable, str(job), str(tmp_path / "in.txt"), "--workers", "2"])
    assert got.returncode == 0, got.stderr.decode()
    assert lines(got.stdout) == [b'"a"\t2', b'"b"\t1']


def test_output_dir_no_output_and_cat_output(tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("a b a\n")
    job = str(words_job(tmp_path))
    quiet = simplemr_mrjob(job, str(tmp_path / "in.txt"), "-o", str(tmp_path / "out"))
    assert quiet.returncode == 0 and quiet.stdout == b""
    parts = sorted((tmp_path / "out").glob("part-*"))
    assert parts and lines(b"".join(part.read_bytes() for part in parts)) == [b'"a"\t2', b'"b"\t1']
    again = simplemr_mrjob(
        job, str(tmp_path / "in.txt"), "-o", str(tmp_path / "out"), "--cat-output"
    )
    assert again.returncode == 0 and lines(again.stdout) == [b'"a"\t2', b'"b"\t1']
    silent = simplemr_mrjob(job, str(tmp_path / "in.txt"), "--no-output")
    assert silent.returncode == 0 and silent.stdout == b""


def test_standard_input_is_read_when_no_input_is_named(tmp_path: Path) -> None:
    job = str(words_job(tmp_path))
    for args in ([], ["-"]):
        got = simplemr_mrjob(job, *args, input=b"x y x\n")
        assert got.returncode == 0, got.stderr.decode()
        assert lines(got.stdout) == [b'"x"\t2', b'"y"\t1']


@pytest.mark.parametrize(
    "extra, status, message",
    [
        ("def mapper_init(self):\n    raise ValueError('no mapper today')\n", 1, "no mapper today"),
        (
            "def steps(self):\n    from mrjob.step import MRStep\n"
            "    return [MRStep(mapper_cmd='false')]\n",
            1,
            "the command 'false' exited with status 1",
        ),
        (
            "def mapper_pre_filter(self):\n    return 'no-such-command-here'\n",
            1,
            "exited with status 127 (command not found or not executable)",
        ),
        (
            "def combiner(self, word, counts):\n    yield word + '!', sum(counts)\n",
            1,
            "a combiner must keep its key",
        ),
        ("import mrjob.emr\n", 2, "simplemr mrjob has no mrjob.emr"),
    ],
)
def test_failures_are_one_clear_message(
    tmp_path: Path, extra: str, status: int, message: str
) -> None:
    (tmp_path / "in.txt").write_text("a b a\n")
    got = simplemr_mrjob(str(words_job(tmp_path, extra)), str(tmp_path / "in.txt"))
    assert got.returncode == status, got.stderr.decode()
    assert message in got.stderr.decode()
    assert b"Traceback" not in got.stderr
    debug = simplemr_mrjob(str(words_job(tmp_path, extra)), str(tmp_path / "in.txt"), "--debug")
    assert b"Traceback" in debug.stderr


def test_bad_and_missing_options_are_usage_errors(tmp_path: Path) -> None:
    job = JOBS / "mr_options.py"
    missing = simplemr_mrjob(str(job), *TEXT)
    assert missing.returncode == 2
    assert b"the following arguments are required: --top" in missing.stderr
    wrong = simplemr_mrjob(str(job), "--top", "many", *TEXT)
    assert wrong.returncode == 2 and b"invalid int value: 'many'" in wrong.stderr
    nothing = simplemr_mrjob()
    assert nothing.returncode == 2 and b"usage: simplemr mrjob JOB.py" in nothing.stderr
    asked = simplemr_mrjob("--help")
    assert asked.returncode == 0 and b"Run a job file written for mrjob" in asked.stdout
    absent = simplemr_mrjob(str(tmp_path / "nope.py"))
    assert absent.returncode == 2 and b"no such job file" in absent.stderr


def test_several_job_classes_pick_the_one_main_runs_or_the_named_one(tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("a b a\n")
    body = words_job(tmp_path).read_text() + textwrap.dedent(
        """
        class MRFirstLetters(MRWords):
            def mapper(self, _, line):
                for word in line.split():
                    yield word[0].upper(), 1
        """
    )
    (tmp_path / "job.py").write_text(body)
    chosen = simplemr_mrjob(str(tmp_path / "job.py"), str(tmp_path / "in.txt"))
    assert lines(chosen.stdout) == [b'"a"\t2', b'"b"\t1']
    named = simplemr_mrjob(f"{tmp_path / 'job.py'}:MRFirstLetters", str(tmp_path / "in.txt"))
    assert lines(named.stdout) == [b'"A"\t2', b'"B"\t1']
    (tmp_path / "job.py").write_text(body.replace("MRWords.run()", "pass"))
    unsure = simplemr_mrjob(str(tmp_path / "job.py"), str(tmp_path / "in.txt"))
    assert (
        unsure.returncode == 2 and b"several job classes (MRWords, MRFirstLetters)" in unsure.stderr
    )


def test_conf_files_are_not_read_and_say_so(tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("a\n")
    got = simplemr_mrjob(str(words_job(tmp_path)), "-c", "x.conf", str(tmp_path / "in.txt"))
    assert got.returncode == 0
    assert b"simplemr: warning: mrjob.conf files are not read" in got.stderr


# -- the runner API, in this process --------------------------------------------------


class MRCountWords(MRJob):
    def mapper(self, _, line):
        for word in line.split():
            self.increment_counter("words", "seen")
            yield word.lower(), 1

    def combiner(self, word, counts):
        yield word, sum(counts)

    def reducer(self, word, counts):
        yield word, sum(counts)


def expected_counts(paths: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for path in paths:
        with open(path, "rb") as file:
            for line in file:
                for word in line.decode("utf-8", "replace").split():
                    counts[word.lower()] = counts.get(word.lower(), 0) + 1
    return counts


@pytest.mark.parametrize("executor", ["inline", "local"])
def test_make_runner_cat_output_parse_output_and_counters(executor: str) -> None:
    job = MRCountWords(args=["--executor", executor, *TEXT])
    with job.make_runner() as runner:
        runner.run()
        got = dict(job.parse_output(runner.cat_output()))
        counters = runner.counters()
    expected = expected_counts(TEXT)
    assert got == expected
    assert counters == [{"words": {"seen": sum(expected.values())}}]


def test_sandboxed_standard_input_and_output() -> None:
    job = MRCountWords(args=["--executor", "inline", "-q"])
    job.sandbox(stdin=io.BytesIO(b"b a b\n"))
    job.run_job()
    assert sorted(job.stdout.getvalue().splitlines()) == [b'"a"\t1', b'"b"\t2']


def test_one_substep_over_standard_input_as_mrjobs_tasks_run() -> None:
    mapper = MRCountWords(args=["--mapper"]).sandbox(stdin=io.BytesIO(b"b a b\n"))
    mapper.execute()
    assert mapper.stdout.getvalue() == b'"b"\t1\n"a"\t1\n"b"\t1\n'
    reducer = MRCountWords(args=["--reducer"]).sandbox(
        stdin=io.BytesIO(b'"a"\t1\n"b"\t1\n"b"\t1\n')
    )
    reducer.execute()
    assert reducer.stdout.getvalue() == b'"a"\t1\n"b"\t2\n'
    pairs = list(MRCountWords(args=[]).map_pairs([(None, "x y")]))
    assert pairs == [("x", 1), ("y", 1)]


def test_bad_arguments_from_python_raise_value_error() -> None:
    with pytest.raises(ValueError, match="unrecognized option: --nope"):
        MRCountWords(args=["--nope"])


def test_steps_are_checked_as_mrjob_checks_them() -> None:
    with pytest.raises(ValueError, match="Step has no mappers and no reducers"):
        MRStep(jobconf={})
    with pytest.raises(ValueError, match="Can't specify both mapper_cmd and mapper"):
        MRStep(mapper=print, mapper_cmd="cat")
    with pytest.raises(TypeError, match="unexpected keyword argument 'mapperr'"):
        MRStep(mapperr=print)


def test_option_tokens_cut_a_command_line_as_argparse_reads_it() -> None:
    job = MRCountWords(args=[])
    cut = option_tokens(
        job.arg_parser, ["-D", "a=1", "--jobconf=b=2", "in.txt", "-Dc=3", "-q", "x"]
    )
    assert cut == [
        ("jobconf", ["-D", "a=1"]),
        ("jobconf", ["--jobconf=b=2"]),
        (None, ["in.txt"]),
        ("jobconf", ["-Dc=3"]),
        ("quiet", ["-q"]),
        (None, ["x"]),
    ]


# -- protocols, against mrjob's own -----------------------------------------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from simplemr.mrjob import protocol as ours  # noqa: E402

JSONABLE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
REPRABLE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | st.binary(),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner),
    max_leaves=8,
)
TEXT_NO_TAB = st.text(st.characters(blacklist_characters="\t\n\r", blacklist_categories=("Cs",)))


@needs_mrjob
@given(key=JSONABLE, value=JSONABLE)
def test_json_protocols_write_and_read_what_mrjobs_do(key, value) -> None:
    for name in ("StandardJSONProtocol", "StandardJSONValueProtocol"):
        line = getattr(ours, name)().write(key, value)
        assert line == getattr(real_protocol, name)().write(key, value)
        assert getattr(ours, name)().read(line) == getattr(real_protocol, name)().read(line)


@needs_mrjob
@given(key=REPRABLE, value=REPRABLE)
def test_repr_and_pickle_protocols_match_mrjobs(key, value) -> None:
    for name in ("ReprProtocol", "ReprValueProtocol", "PickleProtocol", "PickleValueProtocol"):
        line = getattr(ours, name)().write(key, value)
        assert line == getattr(real_protocol, name)().write(key, value)
        assert b"\n" not in line
        assert getattr(ours, name)().read(line) == getattr(real_protocol, name)().read(line)


@needs_mrjob
@given(line=st.binary())
def test_raw_protocols_read_every_line_as_mrjobs_do(line: bytes) -> None:
    for name in ("RawProtocol", "RawValueProtocol", "BytesProtocol", "BytesValueProtocol"):
        assert getattr(ours, name)().read(line) == getattr(real_protocol, name)().read(line)


@needs_mrjob
@given(key=TEXT_NO_TAB, value=st.none() | TEXT_NO_TAB)
def test_text_protocols_write_what_mrjobs_do(key, value) -> None:
    for name in ("TextProtocol", "RawProtocol"):
        assert getattr(ours, name)().write(key, value) == getattr(real_protocol, name)().write(
            key, value
        )


def test_json_is_the_library_mrjob_would_pick() -> None:
    expected = "UltraJSONProtocol" if ours.ujson else "StandardJSONProtocol"
    if not ours.ujson and ours.rapidjson:
        expected = "RapidJSONProtocol"
    elif not ours.ujson and not ours.rapidjson and ours.simplejson:
        expected = "SimpleJSONProtocol"
    assert ours.JSONProtocol.__name__ == expected
    if real_protocol is not None:
        assert real_protocol.JSONProtocol.__name__ == expected


# -- mrjob's names on simplemr's own Job class ------------------------------------------


def test_a_simplemr_job_with_mrjob_names_is_warned_of_them() -> None:
    import simplemr

    class Sorted(simplemr.Job):
        INTERNAL_PROTOCOL = None
        OUTPUT_PROTOCOL = None

        def mapper(self, _, line):
            for word in line.split():
                yield word, 1

        def mapper_pre_filter(self):
            return "grep x"

        def reducer(self, word, counts):
            yield word, sum(counts)

    with pytest.warns(
        UserWarning, match=r"Sorted sets INTERNAL_PROTOCOL \(in mrjob it encodes pairs"
    ) as seen:
        result = Sorted().run(["a b a"], executor="inline")
    message = str(seen[0].message)
    assert "OUTPUT_PROTOCOL (in mrjob it writes the output)" in message
    assert "mapper_pre_filter (in mrjob it runs a shell command before the mapper)" in message
    assert "simplemr mrjob" in message
    assert sorted(result.results) == [("a", 2), ("b", 1)]


def test_a_simplemr_job_mapper_may_return_none() -> None:
    import simplemr

    class Quiet(simplemr.Job):
        def mapper(self, _, line):
            self.lines = getattr(self, "lines", 0) + 1

        def mapper_final(self):
            yield "lines", self.lines

        def reducer(self, key, counts):
            yield key, sum(counts)

    assert Quiet().run(["a", "b", "c"], executor="inline").results == [("lines", 3)]


@given(value=JSONABLE | st.tuples(st.text(), st.integers()) | st.floats())
def test_the_fast_json_encoding_is_jsons_own(value) -> None:
    """The remembered encodings and decodings give what ``json`` gives, twice over
    (``True`` is never taken for ``1``, nor ``1.0`` for ``1``)."""
    for _ in range(2):
        data = ours.json_dumps(value)
        assert data == json.dumps(value).encode()
        assert repr(ours.json_loads(data)) == repr(json.loads(data))


def test_the_fast_json_encoding_fails_as_json_does_and_recovers() -> None:
    looped: list = []
    looped.append(looped)
    with pytest.raises(ValueError, match="Circular reference detected"):
        ours.json_dumps(looped)
    with pytest.raises(TypeError, match="Object of type set is not JSON serializable"):
        ours.json_dumps([{1, 2}])
    assert ours.json_dumps([[1], [1]]) == b"[[1], [1]]"


# -- what mrjob's command line and tasks do, in detail ---------------------------------


def test_a_job_option_may_take_the_name_of_a_simplemr_option(tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("a b a\n")
    extra = """
    def configure_args(self):
        super().configure_args()
        self.add_passthru_arg("--workers", type=int, default=1)
        self.add_passthru_arg("--stats", default="none")

    def reducer_final(self):
        yield "options", [self.options.workers, self.options.stats]
    """
    got = simplemr_mrjob(
        str(words_job(tmp_path, extra)), "--workers", "7", "--stats", "x", str(tmp_path / "in.txt")
    )
    assert got.returncode == 0, got.stderr.decode()
    assert b'"options"\t[7, "x"]' in got.stdout
    assert not (tmp_path / "x").exists()  # the job's --stats, not simplemr's


def test_an_abbreviated_option_reaches_the_tasks(tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("a b a\n")
    extra = """
    def configure_args(self):
        super().configure_args()
        self.add_passthru_arg("--threshold", type=int, required=True)

    def reducer_final(self):
        yield "threshold", self.options.threshold
    """
    got = simplemr_mrjob(str(words_job(tmp_path, extra)), "--thresh", "5", str(tmp_path / "in.txt"))
    assert got.returncode == 0, got.stderr.decode()
    assert b'"threshold"\t5' in got.stdout


def test_a_lone_carriage_return_stays_inside_its_line_in_a_split_file(tmp_path: Path) -> None:
    """Hadoop and mrjob end lines at \\n only, also where a large file is cut in ranges."""
    text = b"".join(b"word%d\rsame line %d\n" % (n, n) for n in range(200_000))
    (tmp_path / "big.txt").write_bytes(text)
    job = write_job(
        tmp_path,
        """
        from mrjob.job import MRJob

        class MRLines(MRJob):
            def mapper(self, _, line):
                yield "lines", 1
                yield "carriage returns", line.count("\\r")

            def reducer(self, key, counts):
                yield key, sum(counts)
        """,
    )
    got = simplemr_mrjob(str(job), str(tmp_path / "big.txt"), "--workers", "2")
    assert got.returncode == 0, got.stderr.decode()
    assert lines(got.stdout) == [b'"carriage returns"\t200000', b'"lines"\t200000']


def test_counter_groups_keep_their_names() -> None:
    class MRCounting(MRCountWords):
        def mapper(self, _, line):
            self.increment_counter("com.example", "lines")
            self.increment_counter("map", "lines", True)
            yield from super().mapper(_, line)

    job = MRCounting(args=["--executor", "inline", TEXT[0]])
    with job.make_runner() as runner:
        runner.run()
        groups = runner.counters()[0]
    lines_in = Path(TEXT[0]).read_bytes().count(b"\n")
    assert groups["com.example"] == {"lines": lines_in}
    assert groups["map"] == {"lines": lines_in}


def test_a_dask_worker_with_several_threads_is_refused(monkeypatch) -> None:
    distributed = pytest.importorskip("distributed")
    from simplemr.errors import JobDefinitionError
    from simplemr.mrjob.taskenv import refuse_threads

    class Worker:
        class state:  # the shape of distributed's worker
            nthreads = 4

    monkeypatch.setattr(distributed, "get_worker", lambda: Worker())
    with pytest.raises(JobDefinitionError, match=r"a Dask worker with 4 threads .* --nthreads 1"):
        refuse_threads()


def test_a_missing_input_or_report_folder_fails_before_any_task(tmp_path: Path) -> None:
    job = str(words_job(tmp_path))
    missing = simplemr_mrjob(job, str(tmp_path / "absent.txt"))
    assert missing.returncode == 2
    assert b"absent.txt" in missing.stderr and b"Traceback" not in missing.stderr
    (tmp_path / "in.txt").write_text("a\n")
    report = simplemr_mrjob(job, str(tmp_path / "in.txt"), "--stats", str(tmp_path / "no/s.json"))
    assert report.returncode == 2 and b"s.json" in report.stderr
    assert report.stdout == b""


def test_a_simplemr_job_option_may_be_required(tmp_path: Path) -> None:
    import simplemr
    from simplemr.errors import JobDefinitionError

    class Top(simplemr.Job):
        def configure_args(self):
            self.add_passthru_arg("--top", type=int, required=True)

        def mapper(self, _, line):
            for word in line.split():
                yield word, 1

        def reducer(self, word, counts):
            if sum(counts) >= self.options.top:
                yield word, self.options.top

    with pytest.raises(JobDefinitionError, match=r"Top needs its required options: Top\(top=...\)"):
        Top()
    assert Top(top=2).run(["a b a"], executor="inline").results == [("a", 2)]
    job = write_job(
        tmp_path,
        """
        import simplemr

        class Top(simplemr.Job):
            def configure_args(self):
                self.add_passthru_arg("--top", type=int, required=True)

            def mapper(self, _, line):
                yield line, 1

            def reducer(self, line, counts):
                yield line, self.options.top
        """,
    )
    (tmp_path / "in.txt").write_text("x\n")
    run_it = [sys.executable, "-m", "simplemr", "run", str(job), str(tmp_path / "in.txt")]
    assert run([*run_it, "--top", "3"]).stdout == b"x\t3\n"
    refused = run(run_it)
    assert (
        refused.returncode == 2 and b"the following arguments are required: --top" in refused.stderr
    )


@pytest.mark.parametrize("name", ["../../escaped", "/tmp/escaped-upload", "a/b", ".."])
def test_an_upload_named_outside_the_working_folder_is_refused(tmp_path: Path, name: str) -> None:
    job = words_job(tmp_path)
    (tmp_path / "lookup.txt").write_text("x\n")
    (tmp_path / "in.txt").write_text("a b\n")
    got = simplemr_mrjob(
        str(job), "--files", f"{tmp_path / 'lookup.txt'}#{name}", str(tmp_path / "in.txt")
    )
    assert got.returncode == 2
    assert "the name after # is what the upload is called in each task's working" in (
        got.stderr.decode()
    )
    assert not Path("/tmp/escaped-upload").exists() and not (tmp_path.parent / "escaped").exists()


def test_an_archive_whose_members_leave_its_folder_is_refused(tmp_path: Path) -> None:
    import io
    import tarfile

    for member, link in [("../../outside.txt", None), ("link", "/etc"), ("up", "../../..")]:
        archive = tmp_path / "evil.tar"
        with tarfile.open(archive, "w") as tar:
            info = tarfile.TarInfo(member)
            if link is None:
                info.size = 1
                tar.addfile(info, io.BytesIO(b"x"))
            else:
                info.type, info.linkname = tarfile.SYMTYPE, link
                tar.addfile(info)
        job = words_job(tmp_path)
        (tmp_path / "in.txt").write_text("a b\n")
        got = simplemr_mrjob(str(job), "--archives", str(archive), str(tmp_path / "in.txt"))
        assert got.returncode != 0
        assert f"cannot unpack the archive {str(archive)!r}: its member {member!r}" in (
            got.stderr.decode()
        )
    assert not (tmp_path.parent / "outside.txt").exists()
