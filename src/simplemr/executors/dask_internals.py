"""The two things the dask executor needs that ``distributed`` has no public API for,
in one place, each saying why and since which version it holds.

``tests/test_dask.py`` checks both against the installed ``distributed`` (the range
``pyproject.toml`` admits is the one the tests ran on), so an upgrade that breaks
either fails there, not in the middle of a job.
"""

from __future__ import annotations

from typing import Any

__all__ = ["desire_keys", "scheduler_state_of"]


def desire_keys(client: Any, keys: list[Any]) -> None:
    """Tell the scheduler that ``client`` wants ``keys``, so that a ``Future`` made from
    a key alone (``Future(key, client)``, in a task on a worker) hears of its data.

    Why private: ``Client`` makes this message for its own futures only; the public
    ``fire_and_forget`` sends the same one but also keeps the keys alive for ever.
    The message has been ``client-desires-keys`` with ``keys`` since distributed
    2.x; checked up to 2026.8.
    """
    client._send_to_scheduler({"op": "client-desires-keys", "keys": keys})


def scheduler_state_of(client: Any, key: Any) -> str | None:
    """The state of ``key`` on the scheduler (``"memory"``, ``"processing"``,
    ``"forgotten"``...), or None if the scheduler has no such task.

    Why private: no public call says whether the scheduler still knows a key (a
    future only waits). ``run_on_scheduler`` is public; what it runs reads
    ``Scheduler.tasks``, a dict of ``TaskState`` with a ``state`` string, as it has
    been since distributed 2.x; checked up to 2026.8.
    """
    return client.run_on_scheduler(_state_of, key)  # type: ignore[no-any-return]


def _state_of(key: Any, dask_scheduler: Any = None) -> str | None:
    """(Run on the scheduler.) The state of ``key``, or None."""
    task = dask_scheduler.tasks.get(key)
    return None if task is None else str(task.state)
