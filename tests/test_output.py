"""Writing results: one file or a folder of parts, committed atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import simplemr
from simplemr.io.output import check_target, format_jsonl, format_tsv, output_kind, write_results


def test_kinds_by_target() -> None:
    assert [output_kind(t) for t in ["-", "a.tsv", "b.JSONL", "out", "out.txt"]] == [
        "stdout", "tsv", "jsonl", "folder", "txt",
    ]  # fmt: skip


def test_formats() -> None:
    assert format_tsv(("word", 3)) == "word\t3"
    assert format_tsv((("a", 1), [1, 2])) == '["a", 1]\t[1, 2]'
    assert format_tsv("plain") == "plain"
    assert format_jsonl(("word", 3)) == '["word", 3]'
    assert format_jsonl({"k": None}) == '{"k": null}'


def test_a_tab_or_a_line_break_in_a_string_never_breaks_a_line(tmp_path: Path) -> None:
    results = [("c\td", 1), ("two\nlines", "a\rb"), ("plain", "x\ty")]
    assert [format_tsv(result) for result in results] == [
        '"c\\td"\t1',
        '"two\\nlines"\t"a\\rb"',
        'plain\t"x\\ty"',
    ]
    assert format_tsv("a line\tof the job's own") == "a line\tof the job's own"  # no pair
    target = tmp_path / "out.tsv"
    write_results([results], str(target))
    lines = target.read_text().split("\n")[:-1]
    assert len(lines) == 3 and all(line.count("\t") == 1 for line in lines)
    first = lines[0].split("\t")
    assert [json.loads(field) if field.startswith('"') else field for field in first] == [
        "c\td",
        "1",
    ]


def test_one_file_is_renamed_into_place(tmp_path: Path) -> None:
    target = tmp_path / "counts.jsonl"
    write_results([[("a", 1)], [("b", 2)]], str(target))
    assert [json.loads(line) for line in target.read_text().splitlines()] == [["a", 1], ["b", 2]]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counts.jsonl"]


def test_folder_gets_one_part_per_partition_then_success(tmp_path: Path) -> None:
    target = tmp_path / "out"
    write_results([[("a", 1)], [], [("b", 2), ("c", 3)]], str(target))
    assert sorted(p.name for p in target.iterdir()) == [
        "_SUCCESS", "part-00000", "part-00001", "part-00002",
    ]  # fmt: skip
    assert (target / "part-00002").read_text() == "b\t2\nc\t3\n"
    assert (target / "part-00001").read_text() == ""


def test_failure_midway_leaves_nothing_that_looks_complete(tmp_path: Path) -> None:
    def failing_partitions():
        yield [("a", 1)]
        raise RuntimeError("the job broke")

    for target in [tmp_path / "out", tmp_path / "out.tsv"]:
        with pytest.raises(RuntimeError, match="the job broke"):
            write_results(failing_partitions(), str(target))
    assert list(tmp_path.iterdir()) == []


def test_existing_output_is_refused_unless_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "out"
    write_results([[("old", 1)], [("older", 2)]], str(target))
    with pytest.raises(simplemr.JobDefinitionError, match=r"already exists.*overwrite"):
        check_target(str(target), overwrite=False)
    check_target(str(target), overwrite=True)
    write_results([[("new", 1)]], str(target), overwrite=True)
    assert sorted(p.name for p in target.iterdir()) == ["_SUCCESS", "part-00000"]
    assert (target / "part-00000").read_text() == "new\t1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("target", ["results/new/out.tsv", "results/new/out"])
def test_missing_folders_above_a_target_are_made(tmp_path: Path, target: str) -> None:
    path = tmp_path / target
    check_target(str(path), overwrite=False)
    write_results([[("a", 1)]], str(path))
    assert (path / "part-00000" if path.suffix == "" else path).read_text() == "a\t1\n"
    job = simplemr.MapReduce(lambda x: [(x, 1)], lambda k, v: (k, sum(v)), executor="inline")
    job.run([1, 2], output=str(tmp_path / "by" / "tasks" / "out"))
    assert sorted(p.name for p in (tmp_path / "by" / "tasks" / "out").iterdir())[-1] == "part-00001"


def test_a_target_below_a_file_or_an_unwritable_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    with pytest.raises(simplemr.JobDefinitionError, match=r"'.*a-file' is a file, not a folder"):
        check_target(str(tmp_path / "a-file" / "new" / "out.tsv"), overwrite=False)
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(simplemr.JobDefinitionError, match="is not writable"):
            check_target(str(locked / "new" / "out.tsv"), overwrite=False)


def test_overwrite_only_replaces_earlier_output(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(simplemr.JobDefinitionError, match=r"holds more than part files"):
        check_target(str(target), overwrite=True)
    assert (target / "notes.txt").read_text() == "mine"


def test_an_output_that_is_or_holds_an_input_is_refused(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("x")
    for target in [tmp_path / "in", tmp_path / "in" / "a.txt", tmp_path]:
        with pytest.raises(simplemr.JobDefinitionError, match="would replace the input"):
            check_target(str(target), overwrite=True, inputs=[str(tmp_path / "in" / "a.txt")])


def test_file_and_folder_kinds_must_match_what_exists(tmp_path: Path) -> None:
    (tmp_path / "e.tsv").mkdir()
    with pytest.raises(simplemr.JobDefinitionError, match="is a folder"):
        check_target(str(tmp_path / "e.tsv"), overwrite=True)
    (tmp_path / "plain").write_text("x")
    with pytest.raises(simplemr.JobDefinitionError, match="is a file"):
        check_target(str(tmp_path / "plain"), overwrite=True)


def test_a_failed_overwrite_keeps_the_earlier_output(tmp_path: Path) -> None:
    target = tmp_path / "out"
    write_results([[("old", 1)]], str(target))

    def failing():
        yield [("new", 2)]
        raise RuntimeError("the job broke")

    with pytest.raises(RuntimeError):
        write_results(failing(), str(target), overwrite=True)
    assert (target / "part-00000").read_text() == "old\t1\n"
    assert (target / "_SUCCESS").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def _words_job() -> simplemr.MapReduce:
    return simplemr.MapReduce(
        lambda line: [(word, 1) for word in line.split()],
        lambda word, ones: (word, sum(ones)),
        executor="inline",
    )


def test_an_output_named_by_a_glob_of_the_inputs_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("pear\n")
    (tmp_path / "z.txt").write_text("fig\n")
    inputs = simplemr.text_files(str(tmp_path / "*.txt"))
    with pytest.raises(simplemr.JobDefinitionError, match=r"would replace the input '.*z\.txt'"):
        _words_job().run(inputs, output=tmp_path / "z.txt", overwrite=True)
    assert (tmp_path / "z.txt").read_text() == "fig\n"


def test_an_output_inside_an_input_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("pear\n")
    for inputs in (
        simplemr.text_files(tmp_path / "in"),
        simplemr.input_files(str(tmp_path / "i*"), "jsonl"),
    ):
        with pytest.raises(simplemr.JobDefinitionError, match="lies inside the input folder"):
            _words_job().run(inputs, output=tmp_path / "in" / "counts.tsv")
    assert sorted(path.name for path in (tmp_path / "in").iterdir()) == ["a.txt"]


def test_an_output_another_job_committed_meanwhile_is_not_replaced(tmp_path: Path) -> None:
    for name in ("counts.tsv", "counts"):
        target = tmp_path / name
        check_target(str(target), overwrite=False)  # both jobs found nothing there

        def arrives_meanwhile(target: Path = target) -> object:
            if target.suffix:
                target.write_text("the other job's\n")
            else:
                target.mkdir()
                (target / "_SUCCESS").write_text("")
            yield ("mine", 1)

        with pytest.raises(simplemr.OutputError, match="was written by someone else"):
            write_results([arrives_meanwhile()], str(target))
        assert not [path for path in tmp_path.iterdir() if path.name.startswith(".")]
        if target.suffix:
            assert target.read_text() == "the other job's\n"
        else:
            assert sorted(path.name for path in target.iterdir()) == ["_SUCCESS"]
