"""The fastest single-process Python we could write (bench/wordcount.py's baseline: one
Counter of raw tokens for the whole input, sharing nothing with simplemr); the index as one dict."""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from contender import main
from rules import file_places, summary
from wordcount import single_process  # bench/wordcount.py's baseline


def run(job: str, files: list[str]):
    if job == "wordcount":
        return single_process(files).items()
    places: defaultdict[str, list] = defaultdict(list)
    for path in files:
        for word, place in file_places(path):
            places[word].append(place)
    return (summary(word, found) for word, found in places.items())


if __name__ == "__main__":
    main(run, {})
