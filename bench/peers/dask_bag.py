"""dask.bag, the idiomatic way: ``read_text`` with a blocksize + ``frequencies`` for
the word count; ``from_sequence`` of the files + ``groupby`` for the index. On a
LocalCluster of 2 worker processes (``distributed``) or on dask's multiprocessing
scheduler (``processes``), by the SCHEDULER environment variable."""

from __future__ import annotations

import os

import dask
import dask.bag as db
from contender import main
from rules import file_places, line_words, summary


def places_list(path: str) -> list:
    return list(file_places(path))


def run(job: str, files: list[str]):
    if job == "wordcount":
        bag = db.read_text(files, blocksize="64MiB", errors="replace")
        return bag.map(line_words).flatten().frequencies().compute()
    places = db.from_sequence(files, npartitions=min(len(files), 32)).map(places_list).flatten()
    grouped = places.groupby(lambda pair: pair[0])
    return grouped.map(lambda item: summary(item[0], (p for _, p in item[1]))).compute()


if __name__ == "__main__":
    if os.environ.get("SCHEDULER", "distributed") == "distributed":
        from distributed import Client, LocalCluster

        with (
            LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster,
            Client(cluster),
        ):
            main(run, {"dask": dask.__version__, "scheduler": "distributed, 2 processes"})
    else:
        with dask.config.set(scheduler="processes", num_workers=2):
            main(run, {"dask": dask.__version__, "scheduler": "multiprocessing, 2 processes"})
