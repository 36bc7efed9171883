"""The fastest single-process Python we could write: the word count kernel of
simplemr's example job over 4 MiB blocks, with no framework; the index as one dict."""

from __future__ import annotations

from collections import Counter, defaultdict

from contender import main
from rules import file_places, summary

from simplemr.examples.wordcount import count_bytes

BLOCK = 4 * 1024 * 1024


def word_counts(files: list[str]) -> Counter:
    totals: Counter = Counter()
    for path in files:
        with open(path, "rb") as file:
            carry = b""
            while data := file.read(BLOCK):
                data = carry + data
                cut = max(data.rfind(b"\n"), data.rfind(b"\r", 0, len(data) - 1))
                if cut < 0:
                    carry = data
                    continue
                carry = data[cut + 1 :]
                totals.update(count_bytes(data[: cut + 1]))
            if carry:
                totals.update(count_bytes(carry))
    return totals


def run(job: str, files: list[str]):
    if job == "wordcount":
        return word_counts(files).items()
    places: defaultdict[str, list] = defaultdict(list)
    for path in files:
        for word, place in file_places(path):
            places[word].append(place)
    return (summary(word, found) for word, found in places.items())


if __name__ == "__main__":
    main(run, {})
