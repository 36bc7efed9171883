"""The classic SimpleMapReduce recipe (bench/recipe.py), 2 workers: its own word count
functions; the index with per-file lists of places."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from contender import main
from recipe import RecipeMapReduce, count_words, file_to_words
from rules import file_places, summary


def places_list(path: str) -> list:
    return list(file_places(path))


def summary_of(item: tuple) -> tuple:
    return summary(*item)


def run(job: str, files: list[str]):
    if job == "wordcount":
        return RecipeMapReduce(file_to_words, count_words, 2)(files)
    return RecipeMapReduce(places_list, summary_of, 2)(files)


if __name__ == "__main__":
    main(run, {})
