"""Output written by the reduce tasks and committed by the driver (io/commit.py), to
a local folder and to a real S3 server (moto's, over HTTP)."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SAMPLE
from sample_jobs import dying_reducer, failing_reducer, sum_reducer, words_mapper

import simplemr
from simplemr.examples import wordcount
from simplemr.io.commit import TaskCommitter
from simplemr.io.filesystems import storage_options

LINES = [f"alpha beta w{n % 97} w{n % 13} gamma" for n in range(3000)]


def _job(**options):
    options = {"workers": 2, "partitions": 3, **options}
    return simplemr.MapReduce(words_mapper, sum_reducer, **options)


def _expected(**options) -> set[str]:
    return {f"{word}\t{count}" for word, count in _job(**options).run(LINES)}


def _local_parts(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def _store_parts(filesystem, root: str) -> dict[str, bytes]:
    filesystem.invalidate_cache()
    return {path[len(root) + 1 :]: filesystem.cat(path) for path in filesystem.find(root)}


@pytest.mark.parametrize("executor", ["local", "inline"])
def test_the_reduce_tasks_write_a_folder_output_whole(tmp_path, executor):
    workers = 1 if executor == "inline" else 2
    job = simplemr.MapReduce(
        words_mapper, sum_reducer, workers=workers, partitions=3, executor=executor
    )
    result = job.run(LINES, output=tmp_path / "out")
    parts = _local_parts(tmp_path / "out")
    assert sorted(parts) == ["_SUCCESS", "part-00000", "part-00001", "part-00002"]
    assert result.output_parts == [str(tmp_path / "out" / f"part-0000{n}") for n in range(3)]
    lines = b"".join(parts.values()).decode().splitlines()
    assert set(lines) == _expected() and len(lines) == len(set(lines))
    assert result.results == [] and result.counters["reduce.records_out"] == len(lines)
    assert sorted(os.listdir(tmp_path)) == ["out"]  # no staging folder left beside it


def test_a_killed_reduce_attempt_leaves_one_part_per_partition(tmp_path, monkeypatch):
    monkeypatch.setenv("SIMPLEMR_TEST_MARKER", str(tmp_path / "marker"))
    job = simplemr.MapReduce(lambda n: [(n % 5, n)], dying_reducer, workers=2, partitions=3)
    result = job.run(range(100), output=tmp_path / "out", output_format="jsonl")
    assert result.counters["tasks.retries"] >= 1
    parts = _local_parts(tmp_path / "out")
    assert sorted(parts) == ["_SUCCESS", "part-00000", "part-00001", "part-00002"]
    lines = sorted(b"".join(parts.values()).decode().splitlines())
    assert lines == sorted(
        f"[{key}, {sorted(n for n in range(100) if n % 5 == key)}]" for key in range(5)
    )


def test_a_failing_reducer_leaves_nothing_of_a_folder_output(tmp_path):
    job = simplemr.MapReduce(lambda word: [(word, 1)], failing_reducer, workers=2)
    with pytest.raises(simplemr.TaskFailedError, match="the reducer raised KeyError"):
        job.run(["good", "bad", "fine"] * 50, output=tmp_path / "out")
    assert os.listdir(tmp_path) == []


def test_the_committer_moves_only_the_attempt_it_is_given(tmp_path):
    committer = TaskCommitter.for_target(str(tmp_path / "out"), "tsv", overwrite=False)
    committer.setup()
    first, _ = committer.write_part(0, 1, [("a", 1), ("b", 2)])
    second, count = committer.write_part(0, 2, [("a", 1), ("b", 3)])
    assert first != second and count == 2
    assert committer.commit([second]) == [str(tmp_path / "out" / "part-00000")]
    assert _local_parts(tmp_path / "out") == {"_SUCCESS": b"", "part-00000": b"a\t1\nb\t3\n"}
    assert sorted(os.listdir(tmp_path)) == ["out"]


def test_a_commit_without_every_part_is_refused(tmp_path):
    committer = TaskCommitter.for_target(str(tmp_path / "out"), "tsv", overwrite=False)
    committer.setup()
    with pytest.raises(simplemr.OutputError, match="a reduce task wrote no part"):
        committer.commit([None])


def test_an_output_tap_sees_every_result_written(tmp_path):
    job = wordcount.job(workers=2, partitions=4)
    files = simplemr.text_files([SAMPLE])
    everything = job.run(files).results
    for target in (tmp_path / "counts", tmp_path / "counts.tsv"):  # tasks; the driver
        tapped = job.run(files, output=target, output_tap=lambda: wordcount.TopWords(5))
        merged = wordcount.top_words(itertools.chain.from_iterable(tapped.summaries), 5)
        assert merged == wordcount.top_words(everything, 5)
        assert len(tapped.summaries) == 4


# --- on a real S3 server ---------------------------------------------------------------


def test_an_s3_folder_output_holds_the_bytes_of_a_local_one(bucket, tmp_path):
    s3, name, options = bucket
    result = _job().run(LINES, output=f"s3://{name}/out/", storage_options=options)
    _job().run(LINES, output=tmp_path / "out")
    assert _store_parts(s3, f"{name}/out") == _local_parts(tmp_path / "out")
    assert result.output_parts == [f"s3://{name}/out/part-0000{n}" for n in range(3)]


def test_a_failing_reducer_leaves_nothing_on_s3(bucket):
    s3, name, options = bucket
    job = simplemr.MapReduce(lambda word: [(word, 1)], failing_reducer, workers=2)
    with pytest.raises(simplemr.TaskFailedError, match="the reducer raised KeyError"):
        job.run(["good", "bad"] * 50, output=f"s3://{name}/out/", storage_options=options)
    s3.invalidate_cache()
    assert s3.find(name) == []


def test_an_s3_output_is_overwritten_only_when_asked_and_only_over_output(bucket):
    s3, name, options = bucket
    target = f"s3://{name}/out/"
    _job(partitions=4).run(LINES, output=target, storage_options=options)
    with pytest.raises(simplemr.JobDefinitionError, match="already exists; choose another"):
        _job().run(LINES, output=target, storage_options=options)
    _job().run(LINES, output=target, storage_options=options, overwrite=True)
    parts = _store_parts(s3, f"{name}/out")
    assert sorted(parts) == ["_SUCCESS", "part-00000", "part-00001", "part-00002"]
    assert set(b"".join(parts.values()).decode().splitlines()) == _expected()
    s3.pipe(f"{name}/out/notes.txt", b"mine")
    with pytest.raises(simplemr.JobDefinitionError, match="holds more than part files"):
        _job().run(LINES, output=target, storage_options=options, overwrite=True)


def test_one_file_by_the_driver_and_a_sorted_folder_in_ranges_on_s3(bucket):
    s3, name, options = bucket
    _job().run(LINES, output=f"s3://{name}/counts.tsv", storage_options=options)
    _job(sort=True).run(LINES, output=f"s3://{name}/sorted/", storage_options=options)
    parts = _store_parts(s3, name)
    assert set(parts["counts.tsv"].decode().splitlines()) == _expected()
    # A sorted job's parts hold ordered ranges of keys: read in order, the sorted results.
    sorted_parts = sorted(part for part in parts if part.startswith("sorted/part-"))
    assert "sorted/_SUCCESS" in parts and sorted_parts
    lines = [line for part in sorted_parts for line in parts[part].decode().splitlines()]
    assert lines == sorted(_expected(), key=lambda line: line.split("\t")[0])


def test_an_s3_output_inside_an_s3_input_folder_is_refused(bucket):
    s3, name, options = bucket
    s3.pipe(f"{name}/in/a.txt", b"some words\n")
    with storage_options(options):
        files = simplemr.text_files([f"s3://{name}/in/"])
    with pytest.raises(simplemr.JobDefinitionError, match="lies inside the input folder"):
        _job().run(files, output=f"s3://{name}/in/out/", storage_options=options)


@pytest.mark.parametrize("target", ["s3://{missing}/out/", "s3://{missing}/counts.tsv"])
def test_an_s3_output_in_a_missing_bucket_is_refused_before_any_work(bucket, target):
    s3, name, options = bucket
    seen = []
    mapper = lambda word: seen.append(word) or [(word, 1)]  # noqa: E731
    job = simplemr.MapReduce(mapper, sum_reducer, executor="inline", partitions=1)
    target = target.format(missing=f"{name}-missing")
    with pytest.raises(simplemr.JobDefinitionError, match=f"the bucket '{name}-missing' does not"):
        job.run(["one", "two"], output=target, storage_options=options)
    assert seen == []  # refused before the map phase
    job.run(["one", "two"], output=f"s3://{name}/new/folder/", storage_options=options)
    assert sorted(_store_parts(s3, f"{name}/new/folder")) == ["_SUCCESS", "part-00000"]


def test_the_command_line_counts_s3_words_into_s3(bucket):
    s3, name, options = bucket
    for path in sorted(SAMPLE.iterdir()):
        s3.pipe(f"{name}/books/{path.name}", path.read_bytes())
    option = ["--storage-option", f"endpoint_url={options['endpoint_url']}", "--workers", "2"]
    command = [sys.executable, "-m", "simplemr", "wordcount"]
    from_s3 = subprocess.run(
        [*command, f"s3://{name}/books/", "--output", f"s3://{name}/counts/", *option],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert from_s3.returncode == 0, from_s3.stderr
    here = subprocess.run([*command, str(SAMPLE), "--workers", "2"], capture_output=True, text=True)
    assert from_s3.stdout == here.stdout  # the same top words, from the tasks' summaries
    counts = b"".join(
        data for path, data in _store_parts(s3, f"{name}/counts").items() if "part-" in path
    )
    assert counts.decode().count("\n") > 100


def test_a_storage_option_must_be_key_equals_value():
    done = subprocess.run(
        [sys.executable, "-m", "simplemr", "wordcount", "--storage-option", "anon"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 2
    assert "a storage option is key=value, got 'anon'" in done.stderr
