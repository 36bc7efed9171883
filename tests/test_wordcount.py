"""Word count: the fast bulk mapper follows the recipe's rules exactly."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from conftest import SAMPLE
from hypothesis import example, given
from hypothesis import strategies as st

import simplemr
from simplemr.examples import wordcount
from simplemr.io import textfiles
from simplemr.io.textfiles import TextBlock

pieces = st.sampled_from(
    [
        "Word", "the", "AND", "it's", "e-mail", "x", "Straße", "ÉCOLE", "naïve", "İstanbul",
        "ǅ", "42", "a1", " ", "  ", "\t", "\u00a0", "\u3000", "\x1c", ".", "..", " ..", "\t..",
        "\u2003..", "!", "?", ":", "(", "_", "é", "K", "ﬁ", "\ufffd",
    ]
)  # fmt: skip
lines = st.lists(st.lists(pieces, max_size=12).map("".join), max_size=30)


def slow_count(lines: list[str]) -> Counter[str]:
    total: Counter[str] = Counter()
    for line in lines:
        total.update(wordcount.count_line(line))
    return total


@given(lines)
def test_bulk_mapper_equals_the_line_by_line_rules(block: list[str]) -> None:
    assert Counter(dict(wordcount.map_lines(block))) == slow_count(block)


raw_pieces = st.sampled_from(
    [b"\xff", b"\xc3", b"\xe2\x80", b"\r", b"\n", b"\r\n", b"\xef\xbb\xbf", b"\xc2\xa0.."]
)
raw_texts = st.lists(
    st.one_of(pieces.map(lambda piece: piece.encode("utf-8")), raw_pieces), max_size=60
).map(b"".join)


def reference_counts(path: Path, encoding: str, errors: str) -> Counter[str]:
    """The slow reference over what Python's text mode reads from the file."""
    with open(path, encoding=encoding, errors=errors, newline=None) as file:
        return slow_count([line.rstrip("\n") for line in file])


def blocks_counts(path: Path, encoding: str, errors: str, split_size: int) -> Counter[str]:
    total: Counter[str] = Counter()
    files = simplemr.text_files(path, encoding=encoding, errors=errors, split_size=split_size)
    for split in files.splits(2):
        for block in split.blocks({}):
            assert isinstance(block, TextBlock)
            total.update(dict(wordcount.map_lines(block)))
    return total


@given(
    data=raw_texts,
    split_size=st.integers(1, 30),
    block_size=st.integers(1, 40),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "cp1252"]),
    errors=st.sampled_from(["replace", "ignore", "surrogateescape"]),
)
@example(b"\xff.. foo\n", 100, 100, "utf-8", "ignore")
@example(b".\xff. foo\n", 100, 100, "utf-8", "ignore")
@example(b"\x81.. foo\n", 100, 100, "cp1252", "ignore")
@example(b"\xef\xbb\xbf.. foo\nbar\n", 100, 100, "utf-8-sig", "replace")
def test_byte_level_counting_equals_the_rules_at_any_cut(
    tmp_path_factory, data: bytes, split_size: int, block_size: int, encoding: str, errors: str
) -> None:
    path = tmp_path_factory.mktemp("wc") / "text.txt"
    path.write_bytes(data)
    saved, textfiles.BLOCK_SIZE = textfiles.BLOCK_SIZE, block_size  # reads cross blocks too
    try:
        counted = blocks_counts(path, encoding, errors, split_size)
    finally:
        textfiles.BLOCK_SIZE = saved
    assert counted == reference_counts(path, encoding, errors)


def task_counts(path: Path, encoding: str, errors: str, split_size: int) -> Counter[str]:
    """What the word count's map tasks hand on, their raw tokens held across blocks."""
    total: Counter[str] = Counter()
    step = wordcount.job(executor="inline").job.steps[0]
    files = simplemr.text_files(path, encoding=encoding, errors=errors, split_size=split_size)
    for split in files.splits(2):
        functions = step.map_task()
        for block in split.blocks({}):
            total.update(dict(functions.mapper(block)))
        assert functions.mapper_final is not None
        total.update(dict(functions.mapper_final()))
    return total


@given(
    data=raw_texts,
    split_size=st.integers(1, 60),
    held=st.integers(1, 6),
    encoding=st.sampled_from(["utf-8", "latin-1"]),
    errors=st.sampled_from(["replace", "ignore"]),
)
def test_tokens_held_across_blocks_count_as_the_rules(
    tmp_path_factory, data: bytes, split_size: int, held: int, encoding: str, errors: str
) -> None:
    path = tmp_path_factory.mktemp("wc") / "text.txt"
    path.write_bytes(data * 3)
    saved = textfiles.BLOCK_SIZE, wordcount.RAW_TOKENS_HELD
    textfiles.BLOCK_SIZE, wordcount.RAW_TOKENS_HELD = 7, held  # many blocks, many hand-ons
    try:
        counted = task_counts(path, encoding, errors, split_size)
    finally:
        textfiles.BLOCK_SIZE, wordcount.RAW_TOKENS_HELD = saved
    assert counted == reference_counts(path, encoding, errors)


@given(st.lists(st.sampled_from(["x", "x.", " ", "\t", "é", "\u2003", "..", "\r", "\n"])))
def test_comment_lines_are_found_without_decoding_every_line(pieces: list[str]) -> None:
    data = "".join(pieces).encode()
    kept = wordcount._without_comment_lines(data, "utf-8", "replace").decode()
    lines = _lines(data.decode())
    expected = [line for line in lines if not wordcount.is_comment(line)]
    assert [line for line in _lines(kept) if line] == [line for line in expected if line]


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def test_rules_by_example() -> None:
    block = [
        ".. a comment line with words",
        "   .. an indented comment",
        "Hello, hello! HELLO? It's e-mail 42 a1 the",
        "naïve  café",
    ]
    assert dict(wordcount.map_lines(block)) == {
        "hello": 3, "s": 1, "e": 1, "mail": 1, "naïve": 1, "café": 1,
    }  # fmt: skip


def test_top_words_order_and_format() -> None:
    counts = [("pear", 2), ("apple", 2), ("fig", 5), ("kiwi", 1)]
    top = wordcount.top_words(counts, 3)
    assert top == [("fig", 5), ("apple", 2), ("pear", 2)]
    assert wordcount.format_top(top, 3) == (
        "\nTOP 3 WORDS BY FREQUENCY\n\nfig   :     5\napple :     2\npear  :     2"
    )


def test_job_on_the_sample_equals_the_slow_reference(tmp_path: Path) -> None:
    files = sorted(SAMPLE.glob("*"))
    expected: Counter[str] = Counter()
    for path in files:
        with open(path, encoding="utf-8") as file:
            expected += slow_count([line.rstrip("\n") for line in file])
    result = wordcount.job(workers=2).run(simplemr.text_files(files, split_size=512))
    assert dict(result.results) == dict(expected)
    assert result.counters["tasks.map"] > 4


@given(
    files=st.lists(raw_texts, min_size=2, max_size=5),
    block_size=st.integers(1, 60),
    errors=st.sampled_from(["replace", "surrogateescape"]),
)
@example([b"a\r", b"\nb"], 100, "replace")  # a lone CR must not pair with the next file's LF
@example([b"", b"WordWordWord\r\rWord"], 15, "replace")  # nor with a LF added after it
@example([b".. x", b"y"], 100, "replace")  # an unended last line stays a line of its own
def test_small_files_packed_into_blocks_count_the_same(
    tmp_path_factory, files: list[bytes], block_size: int, errors: str
) -> None:
    folder = tmp_path_factory.mktemp("packed")
    for number, data in enumerate(files):
        (folder / f"{number}.txt").write_bytes(data)
    saved, textfiles.BLOCK_SIZE = textfiles.BLOCK_SIZE, block_size
    try:
        inputs = simplemr.text_files(folder, errors=errors, split_size=10_000)
        [split] = list(inputs.splits(2))
        total: Counter[str] = Counter()
        lines = 0
        for block in split.blocks({}):
            total.update(dict(wordcount.map_lines(block)))
            lines += len(block)
            assert len(block.lines) == len(block)  # a packed block's count is a sum
    finally:
        textfiles.BLOCK_SIZE = saved
    expected: Counter[str] = Counter()
    expected_lines = 0
    for number in range(len(files)):
        path = folder / f"{number}.txt"
        expected += reference_counts(path, "utf-8", errors)
        with open(path, encoding="utf-8", errors=errors, newline=None) as file:
            expected_lines += sum(1 for _ in file)
    assert total == expected
    assert lines == expected_lines
