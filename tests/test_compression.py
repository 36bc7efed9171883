"""Compression by name, both ways (io/compression.py): outputs written compressed as
their names or ``compression=`` say, compressed inputs read, on every executor and
through object stores; a codec that cannot run is refused before the job."""

from __future__ import annotations

import bz2
import gzip
import lzma
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sample_jobs import sum_reducer, words_mapper

import simplemr
from simplemr.io.compression import codec_of, output_codec, without_codec
from simplemr.io.output import output_kind

zstandard = pytest.importorskip("zstandard", reason="zstandard (simplemr[zstd]) is not installed")

LINES = [f"alpha beta w{n % 97} w{n % 13} gamma" for n in range(3000)]
EXPECTED = Counter(word for line in LINES for word in line.split())
DECOMPRESS = {
    "gzip": gzip.decompress,
    "bz2": bz2.decompress,
    "xz": lzma.decompress,
    "zstd": lambda data: zstandard.ZstdDecompressor().stream_reader(data).read(),
}
SUFFIX = {"gzip": ".gz", "bz2": ".bz2", "xz": ".xz", "zstd": ".zst"}


def _job(executor: object = "local", **options):
    options = {"partitions": 3, "executor": executor, **options}
    if executor == "local":
        options["workers"] = 2
    return simplemr.MapReduce(words_mapper, sum_reducer, **options)


def _counts(text: str) -> Counter[str]:
    pairs = (line.split("\t") for line in text.splitlines())
    return Counter({word: int(count) for word, count in pairs})


def test_names_say_the_codec_and_the_kind_beneath_it() -> None:
    assert [codec_of(n) for n in ["a.tsv.gz", "b.BZ2", "c.xz", "d.jsonl.zst", "e.tsv"]] == [
        "gzip", "bz2", "xz", "zstd", None,
    ]  # fmt: skip
    assert without_codec("out.tsv.gz") == "out.tsv" and without_codec("out.tsv") == "out.tsv"
    assert [output_kind(t) for t in ["a.tsv.gz", "b.jsonl.zst", "c.txt.xz", "d.gz", "e/"]] == [
        "tsv", "jsonl", "txt", "folder", "folder",
    ]  # fmt: skip
    assert output_codec("out.tsv.gz", None) == "gzip"
    assert output_codec("out.tsv.gz", "none") is None
    assert output_codec("out", "xz") == "xz" and output_codec("out", None) is None


@pytest.mark.parametrize(
    ("target", "asked", "message"),
    [
        ("out.tsv.gz", "zstd", "named as gzip, but zstd was asked for; name it without .gz"),
        ("out", "lz4", "unknown compression 'lz4'; choose one of none, gzip"),
        ("-", "gzip", "standard output is written as text, not gzip"),
    ],
)
def test_an_impossible_compression_is_refused(target: str, asked: str, message: str) -> None:
    with pytest.raises(simplemr.JobDefinitionError, match=message):
        output_codec(target, asked)


@pytest.mark.parametrize("codec", list(SUFFIX))
@pytest.mark.parametrize("executor", ["inline", "local"])
def test_a_folder_and_a_file_are_written_in_the_codec_their_names_say(
    tmp_path: Path, codec: str, executor: str
) -> None:
    folder = tmp_path / f"out{SUFFIX[codec]}"
    result = _job(executor).run(LINES, output=folder)
    names = sorted(path.name for path in folder.iterdir())
    assert names == ["_SUCCESS", *(f"part-0000{n}{SUFFIX[codec]}" for n in range(3))]
    assert [Path(part).name for part in result.output_parts] == names[1:]
    text = "".join(DECOMPRESS[codec](path.read_bytes()).decode() for path in folder.glob("part-*"))
    assert _counts(text) == EXPECTED
    single = tmp_path / f"counts.tsv{SUFFIX[codec]}"
    _job(executor).run(LINES, output=single)
    assert _counts(DECOMPRESS[codec](single.read_bytes()).decode()) == EXPECTED


def test_a_compressed_folder_on_dask(tmp_path: Path, dask_client) -> None:
    from simplemr.executors.dask import DaskExecutor

    folder = tmp_path / "out.zst"
    _job(executor=DaskExecutor(2, client=dask_client)).run(LINES, output=folder)
    _job().run(LINES, output=tmp_path / "local.zst")
    parts = sorted(folder.glob("part-*"))
    assert [part.name for part in parts] == [f"part-0000{n}.zst" for n in range(3)]
    local = sorted((tmp_path / "local.zst").glob("part-*"))
    assert [part.read_bytes() for part in parts] == [part.read_bytes() for part in local]


def test_the_same_results_give_the_same_compressed_bytes(tmp_path: Path) -> None:
    for run in ("first", "second"):
        _job().run(LINES, output=tmp_path / run / "out.gz")
    first, second = (
        sorted((tmp_path / run / "out.gz").glob("part-*")) for run in ("first", "second")
    )
    assert [path.read_bytes() for path in first] == [path.read_bytes() for path in second]


def test_compression_asked_for_compresses_a_plain_name_and_none_keeps_a_name(
    tmp_path: Path,
) -> None:
    _job().run(LINES, output=tmp_path / "asked", compression="bz2")
    parts = sorted((tmp_path / "asked").glob("part-*"))
    assert [path.suffix for path in parts] == [".bz2"] * 3
    kept = tmp_path / "kept.tsv.gz"
    _job().run(LINES, output=kept, compression="none")
    assert _counts(kept.read_text()) == EXPECTED  # plain text, under the name given
    with pytest.raises(simplemr.JobDefinitionError, match="compression goes with an output"):
        _job().run(LINES, compression="gzip")


def test_a_compressed_folder_is_overwritten_as_earlier_output(tmp_path: Path) -> None:
    target = tmp_path / "out.zst"
    _job(partitions=4).run(LINES, output=target)
    with pytest.raises(simplemr.JobDefinitionError, match="already exists"):
        _job().run(LINES, output=target)
    _job().run(LINES, output=target, overwrite=True)
    assert len(list(target.glob("part-*.zst"))) == 3


def test_a_compressed_output_in_memory_urls(tmp_path: Path) -> None:
    fsspec = pytest.importorskip("fsspec")
    memory = fsspec.filesystem("memory")
    try:
        _job("inline").run(LINES, output="memory://simplemr-compressed/out.xz/")
        _job("inline").run(LINES, output="memory://simplemr-compressed/counts.tsv.gz")
        parts = sorted(memory.glob("/simplemr-compressed/out.xz/part-*"))
        assert [part.rsplit("/", 1)[1] for part in parts] == [f"part-0000{n}.xz" for n in range(3)]
        text = "".join(lzma.decompress(memory.cat(part)).decode() for part in parts)
        assert _counts(text) == EXPECTED
        single = gzip.decompress(memory.cat("/simplemr-compressed/counts.tsv.gz")).decode()
        assert _counts(single) == EXPECTED
    finally:
        memory.rm("/simplemr-compressed", recursive=True)


def test_a_compressed_folder_on_s3(bucket) -> None:
    s3, name, options = bucket
    _job().run(LINES, output=f"s3://{name}/out.gz/", storage_options=options)
    parts = sorted(s3.glob(f"{name}/out.gz/part-*"))
    assert [part.rsplit("/", 1)[1] for part in parts] == [f"part-0000{n}.gz" for n in range(3)]
    assert _counts("".join(gzip.decompress(s3.cat(p)).decode() for p in parts)) == EXPECTED
    assert s3.exists(f"{name}/out.gz/_SUCCESS")


def test_a_zstd_input_is_read_not_taken_for_binary(tmp_path: Path) -> None:
    text = "".join(f"{line}\r\n" for line in LINES).encode()
    (tmp_path / "lines.txt.zst").write_bytes(zstandard.ZstdCompressor().compress(text))
    files = simplemr.text_files(tmp_path)
    result = _job().run(files)
    assert dict(result) == EXPECTED and files.paths[0].endswith("lines.txt.zst")
    # Two frames one after the other are one file, as zstdcat reads it.
    half = len(text) // 2
    cut = text.index(b"\n", half) + 1
    frames = [zstandard.ZstdCompressor().compress(piece) for piece in (text[:cut], text[cut:])]
    (tmp_path / "lines.txt.zst").write_bytes(b"".join(frames))
    assert dict(_job().run(simplemr.text_files(tmp_path))) == EXPECTED


def test_a_damaged_zstd_input_fails_naming_the_file(tmp_path: Path) -> None:
    packed = zstandard.ZstdCompressor().compress(b"word\n" * 10_000)
    (tmp_path / "bad.txt.zst").write_bytes(packed[: len(packed) // 2] + b"\x00" * 64)
    with pytest.raises(
        simplemr.TaskFailedError,
        match=r"map task 1 of 1 failed on .*: cannot read '.*bad\.txt\.zst' after byte 0 of "
        r"its decompressed text: the zstd stream is damaged",
    ):
        _job().run(simplemr.text_files(tmp_path / "bad.txt.zst"))


def test_without_zstandard_zstd_is_refused_before_the_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "in.txt.zst").write_bytes(zstandard.ZstdCompressor().compress(b"a b\n"))
    monkeypatch.setitem(sys.modules, "zstandard", None)  # import zstandard fails
    install = r"pip install 'simplemr\[zstd\]'"
    with pytest.raises(
        simplemr.InputError, match=rf"reading '.*in\.txt\.zst' needs zstd.*{install}"
    ):
        simplemr.text_files(tmp_path)
    with pytest.raises(
        simplemr.JobDefinitionError, match=rf"writing '.*out\.zst' needs zstd.*{install}"
    ):
        _job().run(LINES, output=tmp_path / "out.zst")
    assert not (tmp_path / "out.zst").exists()


def test_the_command_line_compresses_as_asked(tmp_path: Path) -> None:
    source = tmp_path / "in.txt"
    source.write_text("dog cat dog\n")
    command = [sys.executable, "-m", "simplemr", "wordcount", str(source)]
    run = subprocess.run([*command, "-o", str(tmp_path / "c.tsv.xz")], capture_output=True)
    assert run.returncode == 0, run.stderr
    assert _counts(lzma.decompress((tmp_path / "c.tsv.xz").read_bytes()).decode()) == {
        "dog": 2, "cat": 1,
    }  # fmt: skip
    conflict = [*command, "-o", str(tmp_path / "d.tsv.gz"), "--compression", "bz2"]
    refused = subprocess.run(conflict, capture_output=True, text=True)
    assert refused.returncode == 2
    assert "is named as gzip, but bz2 was asked for" in refused.stderr
    assert "Traceback" not in refused.stderr and not (tmp_path / "d.tsv.gz").exists()
    alone = subprocess.run([*command, "--compression", "gzip"], capture_output=True, text=True)
    assert alone.returncode == 2 and "--compression goes with --output" in alone.stderr
