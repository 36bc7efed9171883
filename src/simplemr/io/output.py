"""Writing results to a file or a folder, committed atomically.

    out.tsv    one file, ``key<TAB>value`` lines (non-string parts JSON-encoded)
    out.jsonl  one file, a JSON value per line (a tuple result as a JSON list)
    out.txt    one file, lines in ``line_format``
    out/       a folder: ``part-00000``... (one per partition), then ``_SUCCESS``
    out.parquet/  a folder of ``part-00000.parquet``... (``io/parquet.py``)
    -          standard output

A name ending in ``.gz``, ``.bz2``, ``.xz`` or ``.zst`` is written compressed
(``io/compression.py``): ``out.tsv.gz`` one file, ``out.gz/`` a folder of
``part-00000.gz``...; ``compression=`` says it explicitly (``"none"`` keeps a name
as it is).

A ``.txt`` file, a folder's parts and standard output are TSV unless ``line_format``
says ``"jsonl"``, or ``"value"`` (each pair's value alone, as sorted lines want).
A sorted job's parts are ordered ranges of keys, one after the other (but for a sorted
job class, whose partitions are merged into one: its folder has one part).

Everything is first written under a hidden temporary name beside the target (on the
same filesystem, so the final rename cannot fail with EXDEV), a folder with its
``_SUCCESS`` marker, and renamed into place only when complete. A job that fails
or is interrupted therefore never leaves output that looks complete. Overwriting
is allowed only over a file or a folder of earlier output, never over inputs.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, TextIO

from ..errors import InputError, JobDefinitionError, OutputError
from .compression import SUFFIXES, compressing, without_codec
from .filesystems import filesystem_of, is_url
from .named_outputs import To, check_output_name, write_partition
from .parquet import write_parquet
from .workdir import owner_tag, remove_path, remove_stale

__all__ = [
    "LINE_FORMATS",
    "check_target",
    "format_jsonl",
    "format_tsv",
    "line_format_for",
    "make_folder",
    "output_kind",
    "resolve_line_format",
    "write_results",
]

SUCCESS_MARKER = "_SUCCESS"
#: The folder of a target where tasks write their attempts (``io/commit.py``).
TEMPORARY = "_temporary"
#: How results are written: as lines, ``key<TAB>value``, JSON, or the value alone;
#: or as Parquet files (a folder's parts only).
LINE_FORMATS = ("tsv", "jsonl", "value", "parquet")
_PART = re.compile(
    r"part-\d{5,}(?:" + "|".join(map(re.escape, [*SUFFIXES.values(), ".parquet"])) + ")?"
)


def output_kind(target: str) -> str:
    """Return ``'stdout'``, ``'tsv'``, ``'jsonl'``, ``'txt'`` or ``'folder'`` for a
    target path (``out.tsv.gz`` is a TSV file)."""
    if target == "-":
        return "stdout"
    suffix = os.path.splitext(without_codec(target.rstrip("/")))[1].lower()
    return {".tsv": "tsv", ".jsonl": "jsonl", ".txt": "txt"}.get(suffix, "folder")


#: What would break a line of tab-separated output in two, or a field in two.
_BREAKS = re.compile("[\t\n\r]")


def _text(part: Any) -> str:
    return part if isinstance(part, str) else json.dumps(part, ensure_ascii=False, default=repr)


def _field(part: Any) -> str:
    """A field of a ``key<TAB>value`` line: JSON for a string holding a tab or a line
    break too, so that a pair stays one line of two fields."""
    if isinstance(part, str) and _BREAKS.search(part) is None:
        return part
    return json.dumps(part, ensure_ascii=False, default=repr)


def format_tsv(result: Any) -> str:
    """``key<TAB>value`` for a pair (each field as ``_field`` writes it), else the
    result alone: a string as it is (a line of the job's own making), anything else
    as JSON."""
    if isinstance(result, tuple) and len(result) == 2:
        return f"{_field(result[0])}\t{_field(result[1])}"
    return _text(result)


def format_value(result: Any) -> str:
    """The value of a ``(key, value)`` pair alone (a result that is no pair, whole)."""
    if isinstance(result, tuple) and len(result) == 2:
        return _text(result[1])
    return _text(result)


def format_jsonl(result: Any) -> str:
    """One JSON value: a tuple becomes a list, anything JSON cannot say its repr."""
    value = list(result) if isinstance(result, tuple) else result
    return json.dumps(value, ensure_ascii=False, default=repr)


def looks_like_output(names: Iterable[str]) -> bool:
    """Whether a folder of these names (relative paths, ``/`` between folders) holds
    only earlier output: parts, ``_SUCCESS``, the ``_temporary`` folder of jobs that
    wrote there from their tasks, and named outputs' folders of parts."""
    return all(_of_output(name.split("/")) for name in names)


def _is_temporary(name: str) -> bool:
    return name.split("/")[0] == TEMPORARY


def _of_output(parts: list[str]) -> bool:
    if parts[0] == TEMPORARY or parts == [SUCCESS_MARKER]:
        return True
    if len(parts) == 1:
        return _PART.fullmatch(parts[0]) is not None
    if len(parts) != 2 or _PART.fullmatch(parts[1]) is None:
        return False
    try:
        check_output_name(parts[0])
    except ValueError:
        return False
    return True


def _existing_ancestor(folder: str) -> str:
    """``folder``, or the nearest folder above it that exists (where the job would
    create the rest, as Hadoop and Spark do)."""
    while not os.path.lexists(folder) and os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)
    return folder


def check_target(
    target: str, overwrite: bool, inputs: Iterable[str] = (), folders: Iterable[str] = ()
) -> None:
    """Refuse, before any work starts, a target that cannot or should not be written:
    its folder cannot be made (missing folders above it are made as it is
    written), it exists (unless ``overwrite``, and then only over a
    file, or a folder of earlier output), it is or holds one of the files or folders
    ``inputs``, or it lies inside one of the input ``folders`` (the next run would
    read it back as input). Local paths are compared by real path, URLs as written;
    the rules are the same on both (``_check_apart``, ``_check_existing``)."""
    if target == "-":
        return
    if target.startswith("file://"):
        target = target[len("file://") :]
    elif is_url(target):
        _check_apart(target, inputs, folders, url=True)
        _check_existing(target, _url_existing(target), overwrite, "URL")
        return
    parent = _existing_ancestor(os.path.dirname(os.path.abspath(target)))
    if not os.path.isdir(parent):
        raise JobDefinitionError(f"cannot write {target!r}: {parent!r} is a file, not a folder")
    if not os.access(parent, os.W_OK):
        raise JobDefinitionError(f"cannot write {target!r}: {parent!r} is not writable")
    # Where nothing is, no input is (thousands of real paths cost a second).
    sources = inputs if os.path.lexists(target) else ()
    _check_apart(target, sources, folders, url=False)
    _check_existing(target, _local_existing(target), overwrite, "path")


def _check_apart(target: str, inputs: Iterable[str], folders: Iterable[str], url: bool) -> None:
    """Refuse an output that is or holds one of the ``inputs``, or lies inside one of
    the input ``folders``: URLs compared with URLs as written, local paths with local
    paths by real path."""
    separator = "/" if url else os.sep
    normal = _without_slash if url else os.path.realpath
    place = normal(target)
    for path in inputs:
        if is_url(path) == url:
            source = normal(path)
            if source == place or source.startswith(place + separator):
                raise JobDefinitionError(f"the output {target!r} would replace the input {path!r}")
    for folder in folders:
        if is_url(folder) == url and place.startswith(normal(folder) + separator):
            raise JobDefinitionError(
                f"the output {target!r} lies inside the input folder {folder!r}, so the "
                "next run would read it as input; write it elsewhere"
            )


def _without_slash(url: str) -> str:
    return url.rstrip("/")


@dataclass(frozen=True)
class _Existing:
    """What is at an output's place: nothing, a file, or a folder and its names."""

    kind: str  # "nothing", "file" or "folder"
    names: tuple[str, ...] = ()


def _local_existing(target: str) -> _Existing:
    if not os.path.lexists(target):
        return _Existing("nothing")
    if not os.path.isdir(target):
        return _Existing("file")
    names = []
    for name in os.listdir(target):  # and one level down: named outputs' parts
        inner = os.path.join(target, name)
        if name == TEMPORARY or not os.path.isdir(inner) or os.path.islink(inner):
            names.append(name)
        else:
            names.extend(f"{name}/{part}" for part in os.listdir(inner) or [""])
    return _Existing("folder", tuple(names))


def _url_existing(target: str) -> _Existing:
    try:
        filesystem, inner = filesystem_of(target, "write")
        inner = inner.rstrip("/")
        if not filesystem.exists(inner):
            _check_bucket(filesystem, inner, target)
            return _Existing("nothing")
        if not filesystem.isdir(inner):
            return _Existing("file")
        listed = filesystem.find(inner)
    except InputError as error:
        raise JobDefinitionError(str(error)) from None
    except OSError as error:
        raise JobDefinitionError(f"cannot write {target!r}: {error}") from None
    return _Existing("folder", tuple(path[len(inner) :].strip("/") for path in listed))


def _check_existing(target: str, existing: _Existing, overwrite: bool, named_by: str) -> None:
    """Refuse to write over what is at the output's place: a folder where a file is
    asked for and the other way round, anything without ``overwrite``, and, even
    with it, a folder holding more than earlier output."""
    wants_folder = output_kind(target) == "folder"
    if existing.kind == "nothing":
        return
    if existing.kind == "folder" and not wants_folder:
        raise JobDefinitionError(f"the output {target!r} is a folder; name a file, or a folder")
    if existing.kind == "file" and wants_folder:
        raise JobDefinitionError(
            f"the output {target!r} is a file; a folder output needs a folder {named_by} "
            "(or end the name with .tsv, .jsonl or .txt for one file)"
        )
    if existing.kind == "folder" and all(_is_temporary(n) for n in existing.names):
        return  # nothing, or the attempts of jobs still writing there: no output yet
    if not overwrite:
        raise JobDefinitionError(
            f"the output {target!r} already exists; choose another or pass overwrite=True"
        )
    if existing.kind == "folder" and not looks_like_output(existing.names):
        raise JobDefinitionError(
            f"the folder {target!r} holds more than part files and {SUCCESS_MARKER}; "
            "it will not be overwritten: remove it yourself, or choose another output"
        )


def _check_bucket(filesystem: Any, inner: str, target: str) -> None:
    """Refuse a target in an object store's bucket that is not there, which would
    otherwise fail only when the first reduce task writes, after the whole map phase.
    Any filesystem that names a bucket (``split_path``, as s3fs and gcsfs do) is
    checked; on the others a missing folder is created as the output is written."""
    split_path = getattr(filesystem, "split_path", None)
    if split_path is None:
        return
    bucket = split_path(inner)[0]
    if bucket and not filesystem.exists(bucket):
        raise JobDefinitionError(
            f"cannot write {target!r}: the bucket {bucket!r} does not exist, or these "
            "credentials cannot see it; create it first, or check the storage options"
        )


def resolve_line_format(target: str, line_format: str | None) -> str:
    """The line format results go to ``target`` in: its suffix's, else ``line_format``
    (TSV by default); a conflict between the two is an error."""
    if line_format is not None and line_format not in LINE_FORMATS:
        raise JobDefinitionError(
            f"unknown output format {line_format!r}; choose one of {', '.join(LINE_FORMATS)}"
        )
    kind = named_format(target) or output_kind(target)
    if kind in LINE_FORMATS:
        if line_format not in (None, kind):
            raise JobDefinitionError(
                f"the output {target!r} is named as {kind}, but {line_format} was asked for"
            )
        return kind
    if line_format == "parquet" and kind != "folder":
        raise JobDefinitionError(
            f"Parquet results go to a folder of part files, not to {target!r}: name a "
            "folder, such as out.parquet"
        )
    return line_format or "tsv"


def line_format_for(target: str, asked: str | None, default: str) -> str:
    """The line format of ``target``: its name's, else ``asked``, else ``default``
    (a job class's ``OUTPUT_FORMAT``); a name and an asked format that disagree are
    an error."""
    named = named_format(target) is not None
    return resolve_line_format(target, asked if asked is not None or named else default)


def named_format(target: str) -> str | None:
    """The format ``target``'s name says (``.tsv``, ``.jsonl``; ``.parquet``, a folder of
    Parquet parts, as Spark writes ``out.parquet/``), or None."""
    kind = output_kind(target)
    if kind in LINE_FORMATS:
        return kind
    if kind == "folder" and target.rstrip("/").lower().endswith(".parquet"):
        return "parquet"
    return None


def renderer(kind: str) -> Callable[[Any], str]:
    """The function that writes a result as a line (without its ending) in ``kind``."""
    return {"jsonl": format_jsonl, "value": format_value}.get(kind, format_tsv)


def write_lines(file: IO[str], results: Iterable[Any], kind: str) -> int:
    """Write each result as a line in ``kind``; return how many. A result sent to a
    named output (``To``) has no place in one file: ``OutputError``."""
    render = renderer(kind)
    count = 0
    for result in results:
        if type(result) is To:
            raise OutputError(
                f"a result was sent to the output {result.name!r}, but named outputs need a "
                "folder output, and this one is a file or standard output"
            )
        file.write(render(result))
        file.write("\n")
        count += 1
    return count


def write_part_files(
    open_binary: Callable[[str], IO[bytes]],
    partition: int,
    results: Iterable[Any],
    kind: str,
    codec: str | None,
    schema: Any = None,
) -> tuple[str, int]:
    """Write partition ``partition``'s results as its part of a folder, in files that
    ``open_binary(name)`` opens (a name relative to the folder): lines in ``kind`` (and
    the parts of named outputs, ``named_outputs.write_partition``) compressed in
    ``codec``, or one Parquet file (``schema``, or the first results'). Return the
    part's name and how many results."""
    part = part_name(partition, part_suffix(kind, codec))
    if kind == "parquet":
        return part, write_parquet(open_binary, part, results, schema)

    def open_text(name: str) -> IO[str]:
        return results_text(open_binary(name), kind, codec)

    return part, write_partition(open_text, part, results, renderer(kind))


def local_opener(folder: str) -> Callable[[str], IO[bytes]]:
    """``open_binary`` for ``write_part_files`` in the local ``folder``."""

    def open_binary(name: str) -> IO[bytes]:
        path = os.path.join(folder, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return open(path, "wb")

    return open_binary


def staging_path(target: str, role: str) -> str:
    """A hidden name beside ``target``, on its filesystem, owned by this process."""
    folder, name = os.path.split(os.path.abspath(target))
    return os.path.join(folder, f".{name}.simplemr-{role}-{owner_tag()}")


def open_results(path: str, line_format: str, codec: str | None = None) -> TextIO:
    """Open a results file of this machine to write (``results_text``)."""
    return results_text(open(path, "wb"), line_format, codec)


def results_text(binary: IO[bytes], line_format: str, codec: str | None = None) -> io.TextIOWrapper:
    """Results written as text over ``binary``, wherever it goes (a file, an object
    store, standard output), compressed in ``codec`` if one is given: UTF-8, ``\\n``;
    a key or value holding undecodable bytes (a file name that is not UTF-8, kept by
    Python as lone surrogates) is written back as those bytes, or in JSON lines as
    the ``\\udcXX`` escapes JSON can carry."""
    errors = "backslashreplace" if line_format == "jsonl" else "surrogateescape"
    if codec is not None:
        binary = compressing(binary, codec)
    return io.TextIOWrapper(binary, encoding="utf-8", errors=errors, newline="\n")


def part_name(partition: int, suffix: str = "") -> str:
    """The name of partition ``partition``'s file (from 0): ``part-00000``, and
    ``suffix`` (``part_suffix``)."""
    return f"part-{partition:05d}{suffix}"


def part_suffix(kind: str, codec: str | None) -> str:
    """What the name of a part in ``kind`` ends in: ``.parquet``, or its codec's."""
    if kind == "parquet":
        return ".parquet"
    return SUFFIXES[codec] if codec else ""


@contextlib.contextmanager
def _standard_output(line_format: str) -> Iterator[TextIO]:
    """Standard output as a results file (``open_results``): UTF-8 whatever the
    locale's encoding, which may not hold every key (an ASCII ``LANG=C``). A text
    stream without bytes under it (a caller's ``StringIO``) is written as it is."""
    stdout = sys.stdout
    binary = getattr(stdout, "buffer", None)
    if binary is None:
        yield stdout
        stdout.flush()
        return
    stdout.flush()
    file = results_text(binary, line_format)
    try:
        yield file
    finally:
        file.flush()
        file.detach()  # standard output stays open


def _commit_new(temporary: str, target: str) -> None:
    """Move ``temporary`` to ``target`` only if nothing is there: another job may have
    committed the same output since this one checked. A file is hard-linked into place
    (which fails if the name exists); a folder is renamed, which fails over a folder
    that holds anything."""
    try:
        if os.path.isdir(temporary):
            os.rename(temporary, target)
        else:
            try:
                os.link(temporary, target)
            except FileExistsError:
                raise
            except OSError:  # a filesystem without hard links
                if os.path.lexists(target):
                    raise FileExistsError(errno.EEXIST, "exists", target) from None
                os.replace(temporary, target)
                return
            os.unlink(temporary)
    except OSError as error:
        if error.errno not in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR):
            raise
        raise OutputError(
            f"the output {target!r} was written by someone else while this job ran; "
            "this job's results were not written: choose another output"
        ) from None


def put_in_place(temporary: str, target: str, overwrite: bool) -> None:
    """Move a finished ``temporary`` file or folder to ``target``, in one rename; an
    earlier folder being overwritten is first moved aside, and deleted only once the
    new one is in place."""
    if os.path.isdir(temporary) and overwrite and os.path.isdir(target):
        old = staging_path(target, "old")
        os.rename(target, old)
        os.rename(temporary, target)
        remove_path(old)
    elif overwrite:
        os.replace(temporary, target)
    else:
        _commit_new(temporary, target)


def make_folder(folder: str) -> None:
    """Make ``folder`` and any missing folder above it, as Hadoop and Spark do for an
    output (``check_target`` checked that they can be made)."""
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        raise OutputError(f"cannot make the folder {folder!r}: {error.strerror}") from error


def write_results(
    partitions: Iterable[Iterable[Any]],
    target: str,
    overwrite: bool = False,
    line_format: str | None = None,
    codec: str | None = None,
    schema: Any = None,
) -> None:
    """Write each partition's results to ``target`` (see the module docstring), in
    ``codec`` if one is given (``compression.output_codec`` chose it); Parquet parts
    with ``schema``, or the first results'.

    The last step is one rename. An earlier folder being overwritten is first
    moved aside, and deleted only once the new one is in place.
    """
    kind = output_kind(target)
    line_format = resolve_line_format(target, line_format)
    if kind == "stdout":
        if sys.stdout is None:
            raise OutputError("cannot write the results to standard output: it is closed")
        with _standard_output(line_format) as file:
            for results in partitions:
                write_lines(file, results, line_format)
        return
    temporary = staging_path(target, "new")
    folder, name = os.path.split(os.path.abspath(target))
    make_folder(folder)
    remove_stale(folder, f".{name}.simplemr-")  # what a killed job left for this target
    remove_path(temporary)
    try:
        if kind == "folder":
            os.mkdir(temporary)
            opener = local_opener(temporary)
            for number, results in enumerate(partitions):
                write_part_files(opener, number, results, line_format, codec, schema)
            open(os.path.join(temporary, SUCCESS_MARKER), "w").close()
        else:
            with open_results(temporary, line_format, codec) as file:
                for results in partitions:
                    write_lines(file, results, line_format)
        put_in_place(temporary, target, overwrite)
    except OSError as error:
        remove_path(temporary)
        raise OutputError(
            f"cannot write the output {target!r}: {error.strerror or error}"
        ) from error
    except BaseException:
        remove_path(temporary)
        raise
