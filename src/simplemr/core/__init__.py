"""Which implementation of the engine's hot loops runs: compiled, or plain Python.

``_speedups`` (C, built by ``pip install`` where a compiler is found) is used when
it imports; ``SIMPLEMR_PURE=1`` in the environment forces the plain Python of
``core/pure.py`` and ``core/partition.py``, which are also the reference the compiled
twin is tested against. Both give the same results, the same partition for
every key included, so workers with either core may share a job.
"""

from __future__ import annotations

import os
import warnings
from types import ModuleType
from typing import TYPE_CHECKING

from . import codec, partition, pure
from .pure import MapCursor

__all__ = ["NAME", "MapCursor", "compiled", "crowded", "decode_batch", "encode_batch", "encode_run",
           "line_endings", "map_records", "merge_items", "partition_of", "reduce_groups", "spread",
           "stable_hash",
           "utf8_valid"]  # fmt: skip


def _compiled() -> ModuleType | None:
    if os.environ.get("SIMPLEMR_PURE", "") not in ("", "0"):
        return None
    try:
        from . import _speedups  # type: ignore[attr-defined]
    except ImportError:
        return None
    try:
        _speedups.configure(
            partition.key_bytes, pure.pair, pure.pairs_of, partition.canonical_key, pure.MapCursor
        )
    except TypeError:  # built from another version of this package's sources
        warnings.warn(
            f"simplemr's compiled core ({_speedups.__file__}) is from another version: "
            "running the pure-Python core. Rebuild it: pip install -e . (or reinstall)",
            stacklevel=2,
        )
        return None
    return _speedups  # type: ignore[no-any-return]


#: The compiled module in use, or None.
compiled = _compiled()
#: Which core runs, as ``simplemr --version`` says it.
NAME = "compiled core (C)" if compiled is not None else "pure-Python core"

if TYPE_CHECKING:  # both cores have the pure one's signatures
    from .codec import decode_batch, encode_batch, encode_run
    from .partition import partition_of, stable_hash
    from .pure import (
        crowded,
        line_endings,
        map_records,
        merge_items,
        reduce_groups,
        spread,
        utf8_valid,
    )
else:
    _source = compiled if compiled is not None else pure
    crowded = _source.crowded
    line_endings = _source.line_endings
    map_records = _source.map_records
    merge_items = _source.merge_items
    reduce_groups = _source.reduce_groups
    spread = _source.spread
    utf8_valid = _source.utf8_valid
    encode_batch = (compiled or codec).encode_batch
    decode_batch = (compiled or codec).decode_batch
    encode_run = (compiled or codec).encode_run
    stable_hash = compiled.stable_hash if compiled is not None else partition.stable_hash
    partition_of = compiled.partition_of if compiled is not None else partition.partition_of
