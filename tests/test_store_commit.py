"""Committing to an object store against other jobs and failures (io/commit.py), on a
real S3 server (moto's): one job at a time commits a folder; a job that lost the race
fails naming the other; an output being overwritten survives a commit that fails."""

from __future__ import annotations

import json

import pytest
from sample_jobs import sum_reducer, words_mapper

import simplemr

LINES = [f"alpha beta w{n % 97} w{n % 13}" for n in range(2000)]


def _job(**options) -> simplemr.MapReduce:
    options = {"workers": 2, "partitions": 3, **options}
    return simplemr.MapReduce(words_mapper, sum_reducer, **options)


def _files(s3, folder: str) -> dict[str, bytes]:
    s3.invalidate_cache()
    return {path[len(folder) + 1 :]: s3.cat(path) for path in s3.find(folder)}


def test_a_job_finding_another_committing_fails_naming_it(bucket) -> None:
    s3, name, options = bucket
    lock = f"{name}/out/_temporary/_commit"
    other = {"job": "0123456789abcdef", "owner": "42@00000000", "since": 1.0e9}
    s3.pipe(lock, json.dumps(other).encode())
    said = r"job 0123456789abcdef \(process 42@00000000, since .*\) is committing"
    with pytest.raises(simplemr.OutputError, match=said):
        _job().run(LINES, output=f"s3://{name}/out/", storage_options=options)
    assert _files(s3, f"{name}/out") == {"_temporary/_commit": json.dumps(other).encode()}


def _racing_reducer(target: str, options: dict):
    """A reducer that, at its first call, commits another job's output to ``target``:
    that job won the race to the same folder."""

    def reducer(word, counts):
        import s3fs

        filesystem = s3fs.S3FileSystem(**options)
        if not filesystem.exists(f"{target}/_SUCCESS"):
            filesystem.pipe(f"{target}/part-00000", b"theirs\t1\n")
            filesystem.pipe(f"{target}/_SUCCESS", b"")
        return word, sum(counts)

    return reducer


def test_an_output_committed_by_another_job_meanwhile_is_left_as_it_is(bucket) -> None:
    s3, name, options = bucket
    target = f"{name}/out"
    job = simplemr.MapReduce(words_mapper, _racing_reducer(target, options), executor="inline")
    with pytest.raises(simplemr.OutputError, match="was written by someone else while this job"):
        job.run(LINES, output=f"s3://{target}/", storage_options=options)
    assert _files(s3, target) == {"part-00000": b"theirs\t1\n", "_SUCCESS": b""}


def _fail_moves(monkeypatch: pytest.MonkeyPatch, which) -> None:
    """Make the S3 filesystem's moves whose source ``which`` picks fail, as a denied
    CopyObject does."""
    import s3fs

    real = s3fs.S3FileSystem.mv

    def mv(self, source, destination, *args, **kwargs):
        if which(str(source)):
            raise PermissionError(f"Access Denied: CopyObject {source}")
        return real(self, source, destination, *args, **kwargs)

    monkeypatch.setattr(s3fs.S3FileSystem, "mv", mv)


@pytest.mark.parametrize("denied", ["every copy", "the new parts"])
def test_an_output_overwritten_survives_a_commit_that_fails(
    bucket, monkeypatch: pytest.MonkeyPatch, denied: str
) -> None:
    s3, name, options = bucket
    target = f"{name}/out"
    _job(partitions=4).run(["old"] * 10, output=f"s3://{target}/", storage_options=options)
    before = _files(s3, target)
    assert "_SUCCESS" in before and len(before) == 5
    _fail_moves(monkeypatch, (lambda source: True) if denied == "every copy" else
                (lambda source: "/attempt-" in source))  # fmt: skip
    with pytest.raises(simplemr.OutputError, match="Access Denied"):
        _job().run(LINES, output=f"s3://{target}/", storage_options=options, overwrite=True)
    assert _files(s3, target) == before  # the old output, whole, and nothing of the new


def test_an_overwrite_that_succeeds_leaves_only_the_new_output(bucket) -> None:
    s3, name, options = bucket
    target = f"{name}/out"
    _job(partitions=5).run(["old"] * 10, output=f"s3://{target}/", storage_options=options)
    _job().run(LINES, output=f"s3://{target}/", storage_options=options, overwrite=True)
    files = _files(s3, target)
    assert sorted(files) == ["_SUCCESS", "part-00000", "part-00001", "part-00002"]
    assert b"old" not in b"".join(files.values())


def test_a_marker_left_by_a_dead_process_is_named_so_and_left_to_remove(bucket) -> None:
    import subprocess
    import sys

    from simplemr.io.workdir import owner_tag

    s3, name, options = bucket
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    tag = f"{int(ended.stdout)}@{owner_tag().split('@')[1]}"
    lock = f"{name}/out/_temporary/_commit"
    s3.pipe(lock, json.dumps({"job": "feedfeedfeedfeed", "owner": tag, "since": 1.0e9}).encode())
    with pytest.raises(simplemr.OutputError, match=r"which is no longer running, .* remove '"):
        _job().run(LINES, output=f"s3://{name}/out/", storage_options=options)
    s3.rm_file(lock)  # as the message says
    _job().run(LINES, output=f"s3://{name}/out/", storage_options=options)
    assert sorted(_files(s3, f"{name}/out")) == ["_SUCCESS", *(f"part-0000{n}" for n in range(3))]


def test_an_earlier_output_that_cannot_be_put_back_is_kept_and_named(
    bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3, name, options = bucket
    target = f"{name}/out"
    _job(partitions=2).run(["old"] * 10, output=f"s3://{target}/", storage_options=options)
    before = _files(s3, target)
    _fail_moves(monkeypatch, lambda source: "/attempt-" in source or "/earlier-" in source)
    with pytest.raises(simplemr.OutputError, match=r"nor put the earlier output back: .*earlier-"):
        _job().run(LINES, output=f"s3://{target}/", storage_options=options, overwrite=True)
    after = _files(s3, target)
    kept = {path.split("/", 2)[2]: data for path, data in after.items() if "/earlier-" in path}
    assert kept == before  # every byte of the earlier output, where the message says
