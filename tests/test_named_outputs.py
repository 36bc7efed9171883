"""Named outputs (io/named_outputs.py): results a reducer sends to ``To(name, result)``
land in ``name/part-N`` of a folder output, committed with the other parts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import simplemr
from simplemr import To
from simplemr.io.named_outputs import check_output_name

LINES = [f"w{n % 41} w{n % 7} bad{n % 3}" for n in range(2000)]


def _words(line: str) -> Iterator[tuple[str, int]]:
    for word in line.split():
        yield word, 1


def _sorted_out(word: str, counts: Iterator[int]) -> object:
    total = sum(counts)
    if word.startswith("bad"):
        return To("rejects", (word, total))
    if total > 200:
        return To("common", (word, total))
    return word, total


def _expected() -> dict[str, set[str]]:
    counts: dict[str, int] = {}
    for line in LINES:
        for word in line.split():
            counts[word] = counts.get(word, 0) + 1
    named: dict[str, set[str]] = {"": set(), "rejects": set(), "common": set()}
    for word, total in counts.items():
        where = "rejects" if word.startswith("bad") else "common" if total > 200 else ""
        named[where].add(f"{word}\t{total}")
    return named


def _read(folder: Path, name: str = "") -> set[str]:
    place = folder / name if name else folder
    return {line for part in place.glob("part-*") for line in part.read_text().splitlines()}


def _job(executor: object = "local") -> simplemr.MapReduce:
    options = {"workers": 2} if executor == "local" else {}
    return simplemr.MapReduce(_words, _sorted_out, partitions=3, executor=executor, **options)


@pytest.mark.parametrize("executor", ["inline", "local", "dask"])
def test_a_reducer_sends_results_to_named_outputs_of_a_folder(
    tmp_path: Path, executor: str, request: pytest.FixtureRequest
) -> None:
    if executor == "dask":
        from simplemr.executors.dask import DaskExecutor

        chosen: object = DaskExecutor(2, client=request.getfixturevalue("dask_client"))
    else:
        chosen = executor
    folder = tmp_path / "out"
    _job(chosen).run(LINES, output=folder)
    expected = _expected()
    assert sorted(path.name for path in folder.iterdir()) == [
        "_SUCCESS", "common", "part-00000", "part-00001", "part-00002", "rejects",
    ]  # fmt: skip
    for name, lines in expected.items():
        assert _read(folder, name) == lines, name
    assert all(part.name.startswith("part-0000") for part in (folder / "rejects").iterdir())


def test_without_an_output_the_results_are_the_to_objects(tmp_path: Path) -> None:
    results = _job("inline").run(LINES).results
    sent = {(r.name, f"{r.result[0]}\t{r.result[1]}") for r in results if type(r) is To}
    expected = _expected()
    assert sent == {(name, line) for name in ("rejects", "common") for line in expected[name]}
    assert To("a", 1) == To("a", 1) != To("b", 1) and repr(To("a", 1)) == "To('a', 1)"


def test_named_outputs_compressed_and_overwritten(tmp_path: Path) -> None:
    folder = tmp_path / "out.gz"
    _job().run(LINES, output=folder)
    rejects = sorted(p.name for p in (folder / "rejects").iterdir())
    assert rejects and all(
        name.startswith("part-0000") and name.endswith(".gz") for name in rejects
    )
    _job().run(LINES, output=folder, overwrite=True)  # named folders are earlier output
    (folder / "rejects" / "notes.txt").write_text("mine")
    with pytest.raises(simplemr.JobDefinitionError, match="holds more than part files"):
        _job().run(LINES, output=folder, overwrite=True)


def test_one_file_cannot_hold_named_outputs(tmp_path: Path) -> None:
    with pytest.raises(
        simplemr.OutputError,
        match=r"sent to the output '(rejects|common)', but named outputs need a folder",
    ):
        _job().run(LINES, output=tmp_path / "counts.tsv")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "name", ["", "a/b", "..", ".", ".hidden", "_SUCCESS", "part-00001", "back\\slash", 7]
)
def test_a_bad_name_fails_the_task_naming_it(tmp_path: Path, name: object) -> None:
    with pytest.raises(ValueError, match=r"cannot name an output|must be a str"):
        check_output_name(name)
    job = simplemr.MapReduce(_words, lambda word, counts: To(name, word), workers=2)
    message = rf"the reducer raised ValueError.*{re.escape(repr(name))}"
    with pytest.raises(simplemr.TaskFailedError, match=message):
        job.run(LINES, output=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_failed_job_leaves_no_named_output(tmp_path: Path) -> None:
    def failing(word: str, counts: Iterator[int]) -> object:
        if word == "w40":
            raise KeyError(word)
        return To("all", (word, sum(counts)))

    job = simplemr.MapReduce(_words, failing, workers=2, partitions=3)
    with pytest.raises(simplemr.TaskFailedError, match="the reducer raised KeyError"):
        job.run(LINES, output=tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


class RoutedCounts(simplemr.Job):
    def mapper(self, _, line):
        yield from _words(line)

    def reducer(self, word, counts):
        total = sum(counts)
        yield To("rejects", (word, total)) if word.startswith("bad") else (word, total)

    def reducer_final(self):
        yield To("finals", ("reduce task", 1))


def test_a_job_class_reducer_and_its_final_hook_send_to_named_outputs(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    RoutedCounts().run(LINES, output=folder, workers=2, partitions=2)
    expected = _expected()
    assert _read(folder, "rejects") == expected["rejects"]
    assert _read(folder) == expected[""] | expected["common"]
    assert _read(folder, "finals") == {"reduce task\t1"}
    assert len(list((folder / "finals").iterdir())) == 2  # one part a reduce task


def test_named_outputs_on_s3_hold_the_files_of_a_local_folder(bucket, tmp_path: Path) -> None:
    s3, name, options = bucket
    _job().run(LINES, output=f"s3://{name}/out/", storage_options=options)
    _job().run(LINES, output=tmp_path / "out")
    local = {
        path.relative_to(tmp_path / "out").as_posix(): path.read_bytes()
        for path in (tmp_path / "out").rglob("*")
        if path.is_file()
    }
    found = {path[len(name) + 5 :]: s3.cat(path) for path in s3.find(f"{name}/out")}
    assert found == local and any(path.startswith("rejects/part-") for path in found)
    _job().run(LINES, output=f"s3://{name}/out/", storage_options=options, overwrite=True)
    s3.invalidate_cache()
    assert len(s3.find(f"{name}/out")) == len(found)


class MapOnlyRouting(simplemr.Job):
    def mapper(self, _, line):
        for word in line.split():
            pair = (word, len(word))
            yield To("long", pair) if len(word) > 3 else pair


def test_a_map_only_step_sends_to_named_outputs(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    MapOnlyRouting().run(["a tree and forest", "sky blue"], output=folder, workers=2)
    assert _read(folder, "long") == {"tree\t4", "forest\t6", "blue\t4"}
    assert _read(folder) == {"a\t1", "and\t3", "sky\t3"}
