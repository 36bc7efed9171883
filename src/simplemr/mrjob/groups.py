"""An mrjob counter group's name, as simplemr keeps it and back.

simplemr names a counter ``group.name``: a dot of the group is kept as a one-dot
leader (U+2024), and a group named like one of simplemr's own (``map``, ``input``)
gets a suffix. ``mrjob_group(simplemr_group(g)) == g`` for every group without a
comma (mrjob makes those ``;``) or a one-dot leader.
"""

from __future__ import annotations

from typing import Any

from ..counters import BUILTIN_GROUPS

__all__ = ["mrjob_group", "simplemr_group"]

#: Added to a counter group that has the name of one of simplemr's.
OWN_GROUP_SUFFIX = " (job)"
#: What a ``.`` of a counter group is kept as (ONE DOT LEADER).
GROUP_DOT = "\u2024"


def simplemr_group(group: Any) -> str:
    """The name simplemr keeps mrjob's counter group ``group`` under."""
    name = str(group).replace(",", ";").replace(".", GROUP_DOT)
    return name + OWN_GROUP_SUFFIX if name in BUILTIN_GROUPS else name


def mrjob_group(name: str) -> str:
    """The mrjob counter group that simplemr keeps as ``name``."""
    return name.removesuffix(OWN_GROUP_SUFFIX).replace(GROUP_DOT, ".")
