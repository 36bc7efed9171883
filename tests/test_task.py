"""A task's progress is its own: tasks running in threads of one process (a Dask
worker's) each count into the ``TaskProgress`` they were given, never another's."""

from __future__ import annotations

import threading

from simplemr.shuffle.task import (
    TaskProgress,
    progressed,
    record_spot,
    watch_records,
    watched_by,
)


def test_tasks_in_threads_count_their_progress_apart() -> None:
    both_inside = threading.Barrier(2)
    progresses = [TaskProgress(), TaskProgress()]

    def task(progress: TaskProgress, ticks: int, records: list[int]) -> None:
        with watched_by(progress):
            both_inside.wait()
            followed = watch_records(iter(records))
            for _ in range(ticks):
                progressed()
            both_inside.wait()
            next(followed)

    threads = [
        threading.Thread(target=task, args=(progresses[0], 3, [1, 2, 3])),
        threading.Thread(target=task, args=(progresses[1], 5, [1, 2, 3, 4, 5, 6])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert progresses[0].sample() == (3, 2)
    assert progresses[1].sample() == (5, 5)


def test_a_task_nobody_watches_counts_nowhere() -> None:
    watched = TaskProgress()
    with watched_by(watched):
        progressed()
    progressed()
    record_spot()[0] = iter([1, 2])
    assert watched.sample() == (1, -1)


def test_a_spot_stored_into_is_followed() -> None:
    progress = TaskProgress()
    with watched_by(progress):
        spot = record_spot()
        spot[0] = iter(range(10))
        assert progress.sample() == (0, 10)
    assert progress.sample() == (0, 10)  # the watcher's last view stays until the next task
