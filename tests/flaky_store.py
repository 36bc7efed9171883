"""A flaky object store for tests: ``flaky://`` paths are local files whose first
opening for reading fails with an ``OSError``, as a store that drops a connection
does; each later opening works. Importing this module registers the scheme (a
worker does, when it unpickles a function of this module)."""

from __future__ import annotations

import errno
import os
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

SCHEME = "flaky"


class FlakyFileSystem(LocalFileSystem):
    protocol = (SCHEME,)

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        path = str(path)
        if path.startswith(f"{SCHEME}://"):
            path = path[len(SCHEME) + 3 :]
        return super()._strip_protocol(path)

    def unstrip_protocol(self, name: str) -> str:
        return f"{SCHEME}://{self._strip_protocol(name)}"

    def _open(self, path: Any, mode: str = "rb", **kwargs: Any) -> Any:
        if "r" in mode and failing_first(self._strip_protocol(path)):
            raise OSError(errno.ECONNRESET, "the store dropped the connection")
        return super()._open(path, mode, **kwargs)


def failing_first(path: str) -> bool:
    """True the first time it is asked about ``path`` (in any process), then False."""
    folder, name = os.path.split(path)
    try:
        os.close(os.open(os.path.join(folder, f".{name}.opened"), os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        return False
    return True


def words(line: str) -> list[tuple[str, int]]:
    """A mapper whose module, unpickled in a worker, registers the scheme there."""
    return [(word, 1) for word in line.split()]


fsspec.register_implementation(SCHEME, FlakyFileSystem, clobber=True)
