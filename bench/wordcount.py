"""Benchmark: word count, simplemr against the classic recipe and a single process.

    python bench/wordcount.py --sizes 100 1000 --repeat 3

For each size the corpus is built twice from real text: as many files and as one
file. Contenders, each in a fresh process, on the same files in one run:

- ``simplemr-1`` / ``simplemr-2``: ``simplemr.examples.wordcount`` with 1 and 2 workers;
- ``recipe``: the classic SimpleMapReduce (``Pool.map`` of per-file lists of
  ``(word, 1)``, grouped in the parent, ``Pool.map`` to sum) with 2 workers, under a
  memory limit: it keeps every pair in memory and this machine has no swap;
- ``single``: the fastest single-process Python of the rules we could write, sharing
  nothing with simplemr (below): one ``Counter`` of raw tokens for the whole input.

Every contender's full counts must be equal; the table says so.
"""

from __future__ import annotations

import argparse
import json
import string
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
from recipe import RecipeMapReduce, count_words, file_to_words

CONTENDERS = ["single", "recipe", "simplemr-1", "simplemr-2"]


# --- the single-process baseline -----------------------------------------------------
# The fastest single process of the rules we know how to write, sharing nothing with
# simplemr: 16 MiB chunks cut after a line ending; the lines holding ".." found with
# bytes.find and only those decoded and judged; punctuation blanked with
# bytes.translate; bytes.split() feeding one Counter for the whole input; the rules on
# letters, case and stop words applied once, to the distinct tokens, at the end.

CHUNK = 16 * 1024 * 1024
STOP_WORDS = frozenset(
    ["a", "an", "and", "are", "as", "be", "by", "for", "if", "in", "is", "it", "of", "or",
     "py", "rst", "that", "the", "to", "with"]
)  # fmt: skip
# Punctuation, and the ASCII separators str.split() splits on but bytes.split() does not.
_SEPARATORS = string.punctuation.encode() + bytes(range(0x1C, 0x20))
_TO_SPACE = bytes.maketrans(_SEPARATORS, b" " * len(_SEPARATORS))


def _blank_comments(data: bytes) -> bytes:
    """``data`` without its lines whose ``lstrip()`` starts with ``..``."""
    has_cr = b"\r" in data
    kept, keep_from, search = [], 0, 0
    while (found := data.find(b"..", search)) >= 0:
        start = data.rfind(b"\n", 0, found) + 1
        end = data.find(b"\n", found)
        end = len(data) if end < 0 else end
        if has_cr:
            start = max(start, data.rfind(b"\r", start, found) + 1)
            cr = data.find(b"\r", found, end)
            end = end if cr < 0 else cr
        if data[start:end].decode("utf-8", "replace").lstrip().startswith(".."):
            kept.append(data[keep_from:start])
            keep_from = end
        search = end
    kept.append(data[keep_from:])
    return b"".join(kept)


def single_process(files: list[str]) -> dict[str, int]:
    raw: Counter = Counter()
    for path in files:
        with open(path, "rb") as file:
            carry = b""
            while True:
                chunk = file.read(CHUNK)
                data = carry + chunk
                if chunk:
                    cut = data.rfind(b"\n")
                    if cut < 0:
                        cut = data.rfind(b"\r", 0, len(data) - 1)
                    if cut < 0:
                        carry = data
                        continue
                    data, carry = data[: cut + 1], data[cut + 1 :]
                if b".." in data:
                    data = _blank_comments(data)
                raw.update(data.translate(_TO_SPACE).split())
                if not chunk:
                    break
    totals: dict[str, int] = {}
    for token, count in raw.items():
        words = [token.lower().decode()] if token.isalpha() else (
            token.decode("utf-8", "replace").lower().split()
        )  # fmt: skip
        for word in words:
            if word.isalpha() and word not in STOP_WORDS:
                totals[word] = totals.get(word, 0) + count
    return totals


def run_contender(name: str, data: Path) -> None:
    files = harness.corpus_files(data)
    if name == "single":
        rows = single_process(files).items()
    elif name == "recipe":
        rows = RecipeMapReduce(file_to_words, count_words, 2)(files)
    else:
        import simplemr
        from simplemr.examples import wordcount

        job = wordcount.job(workers=int(name.split("-")[1]))
        with job.stream(simplemr.text_files(files)) as results:
            rows = list(results)
    print(json.dumps({"digest": harness.digest_of(rows)}))


def main() -> None:
    def shapes(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--shapes", nargs="+", default=["files", "single", "docs"],
            choices=["files", "single", "docs"],
        )  # fmt: skip

    args = harness.parse_arguments(__doc__, CONTENDERS, [100], recipe_gib=16, extra=shapes)
    if args.contender:
        run_contender(args.contender, args.data)
        return
    print(f"Word count on {harness.machine()}, {time.strftime('%Y-%m-%d')}\n")
    for size in args.sizes:
        for shape in args.shapes:
            source = harness.build_docs_source() if shape == "docs" else args.source
            data = harness.build_corpus(size, source, single_file=shape == "single")
            total = harness.corpus_bytes(data)
            rows = harness.run_contenders(
                __file__, args.contenders, data, args.timeout, args.recipe_memory << 30, args.repeat
            )
            reference = next(
                (row.digest for row in rows if row.ok and row.contender == "single"), None
            )
            files = len(harness.corpus_files(data))
            print(f"### {total / 1e6:.0f} MB in {files} file{'s' if files > 1 else ''}\n")
            print(harness.table(rows, total, reference) + "\n", flush=True)
            record = {"size_mb": size, "shape": shape, "rows": [harness.asdict(r) for r in rows]}
            harness.save(harness.HERE / "results" / "wordcount.jsonl", record)


if __name__ == "__main__":
    main()
