"""Compression by name, both ways: the codec a file's name ends in, and its bytes
read decompressed or written compressed, for local files and URLs alike.

    codec_of("books.txt.zst") == "zstd"        a name's codec, or None
    without_codec("out.tsv.gz") == "out.tsv"   the name it compresses
    output_codec("out.tsv.gz", None) == "gzip"  what an output is written in

gzip, bz2 and xz come with Python; zstd needs the ``zstandard`` package
(``pip install 'simplemr[zstd]'``), imported only when a ``.zst`` name is met. Output
is made reproducible: a gzip member holds no file name and no time, so the same
results give the same bytes on every executor and every run.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
from typing import IO, Any, cast

from ..errors import InputError, JobDefinitionError

__all__ = [
    "COMPRESSIONS",
    "SUFFIXES",
    "codec_of",
    "compressing",
    "decompressing",
    "output_codec",
    "require_codec",
    "without_codec",
]

#: Each codec and the suffix of the names it is written under.
SUFFIXES = {"gzip": ".gz", "bz2": ".bz2", "xz": ".xz", "zstd": ".zst"}
_CODECS = {suffix: codec for codec, suffix in SUFFIXES.items()}
#: What ``compression=`` takes: a codec, or ``"none"`` (a name is kept as it is).
COMPRESSIONS = ("none", *SUFFIXES)
_INSTALL_ZSTD = "pip install 'simplemr[zstd]'"


def codec_of(name: str) -> str | None:
    """The codec whose suffix ``name`` ends in (``"gzip"`` for ``x.tsv.gz``), or None."""
    return _CODECS.get(os.path.splitext(name)[1].lower())


def without_codec(name: str) -> str:
    """``name`` without the suffix of its codec: ``out.tsv.gz`` is ``out.tsv``."""
    return os.path.splitext(name)[0] if codec_of(name) else name


def output_codec(target: str, asked: str | None) -> str | None:
    """The codec an output ``target`` is written in: ``asked`` (``"none"`` for none),
    else the one its name ends in; None for plain text. A name and an ask that
    disagree, an unknown codec and one that is not installed are refused here,
    before any work starts."""
    if asked is not None and asked not in COMPRESSIONS:
        raise JobDefinitionError(
            f"unknown compression {asked!r}; choose one of {', '.join(COMPRESSIONS)}"
        )
    named = None if target == "-" else codec_of(target.rstrip("/"))
    if asked == "none":
        return None
    if asked is not None and named not in (None, asked):
        raise JobDefinitionError(
            f"the output {target!r} is named as {named}, but {asked} was asked for; "
            f"name it without {SUFFIXES[named]}, or ask for {named}"
        )
    codec = asked or named
    if codec is not None and target == "-":
        raise JobDefinitionError(
            f"standard output is written as text, not {codec}: name an output file, "
            f"or pipe it through a compressor"
        )
    if codec is not None:
        require_codec(codec, f"writing {target!r}", JobDefinitionError)
    return codec


def require_codec(codec: str, doing: str, error: type[Exception] = InputError) -> None:
    """Raise ``error`` (saying what to install) if ``codec`` cannot run here."""
    if codec == "zstd":
        try:
            import zstandard  # noqa: F401
        except ImportError:
            raise error(
                f"{doing} needs zstd, whose package (zstandard) is not installed: {_INSTALL_ZSTD}"
            ) from None


def decompressing(raw: IO[bytes], codec: str, name: str) -> IO[bytes]:
    """The decompressed bytes of ``raw``, a file in ``codec`` named ``name``; closing
    the result leaves ``raw`` open."""
    if codec == "gzip":
        return cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb"))
    if codec == "bz2":
        return bz2.BZ2File(raw, "rb")
    if codec == "xz":
        return lzma.LZMAFile(raw, "rb")
    require_codec(codec, f"reading {name!r}")
    return io.BufferedReader(_ZstdReader(raw))


def compressing(raw: IO[bytes], codec: str) -> IO[bytes]:
    """A file that writes its bytes to ``raw`` in ``codec``, and closes ``raw`` when
    it is closed (once the codec's last bytes are written)."""
    compressor: Any
    if codec == "gzip":
        compressor = gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0)
    elif codec == "bz2":
        compressor = bz2.BZ2File(raw, "wb")
    elif codec == "xz":
        compressor = lzma.LZMAFile(raw, "wb")  # noqa: SIM115 (closed by _Compressed)
    else:
        import zstandard

        compressor = zstandard.ZstdCompressor().stream_writer(raw, closefd=False)
    return cast(IO[bytes], _Compressed(compressor, raw))


class _Compressed(io.BufferedIOBase):
    """A compressor over a file: ``flush`` waits for ``close`` (a gzip flush would
    cut its stream into blocks), and ``close`` ends the stream, then the file."""

    def __init__(self, compressor: IO[bytes], raw: IO[bytes]) -> None:
        super().__init__()
        self._compressor = compressor
        self._raw = raw

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return self._compressor.write(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if self.closed:
            return
        try:
            self._compressor.close()
        finally:
            try:
                self._raw.close()
            finally:
                super().close()


class _ZstdReader(io.RawIOBase):
    """A zstd file's decompressed bytes, every frame of it; a damaged stream is an
    ``OSError`` naming the file, as a damaged gzip stream is."""

    def __init__(self, raw: IO[bytes]) -> None:
        import zstandard

        super().__init__()
        self._error = zstandard.ZstdError
        self._reader = zstandard.ZstdDecompressor().stream_reader(
            raw, read_across_frames=True, closefd=False
        )

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            count: int = self._reader.readinto(buffer)
            return count
        except self._error as error:
            raise OSError(f"the zstd stream is damaged: {error}") from None

    def close(self) -> None:
        self._reader.close()  # type: ignore[no-untyped-call]
        super().close()
