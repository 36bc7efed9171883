"""``mrjob.compat``: jobconf variables under their Hadoop 1 and Hadoop 2 names.

A task reads its configuration from environment variables named like the jobconf
with ``.`` as ``_`` (``mapreduce_map_input_file``); ``jobconf_from_env`` tries the
name given, then its other spelling (``map.input.file``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

__all__ = [
    "jobconf_from_dict",
    "jobconf_from_env",
    "map_version",
    "translate_jobconf",
    "translate_jobconf_dict",
    "translate_jobconf_for_all_versions",
    "uses_yarn",
    "version_gte",
]

#: (Hadoop 1 name, Hadoop 2 name) of the variables jobs read most.
_RENAMED = (
    ("map.input.file", "mapreduce.map.input.file"),
    ("map.input.length", "mapreduce.map.input.length"),
    ("map.input.start", "mapreduce.map.input.start"),
    ("mapred.job.id", "mapreduce.job.id"),
    ("mapred.tip.id", "mapreduce.task.id"),
    ("mapred.task.id", "mapreduce.task.attempt.id"),
    ("mapred.task.is.map", "mapreduce.task.ismap"),
    ("mapred.task.partition", "mapreduce.task.partition"),
    ("mapred.output.dir", "mapreduce.output.fileoutputformat.outputdir"),
    ("mapred.work.output.dir", "mapreduce.task.output.dir"),
    ("job.local.dir", "mapreduce.job.local.dir"),
    ("mapred.cache.files", "mapreduce.job.cache.files"),
    ("mapred.cache.archives", "mapreduce.job.cache.archives"),
    ("mapred.cache.localFiles", "mapreduce.job.cache.local.files"),
    ("mapred.cache.localArchives", "mapreduce.job.cache.local.archives"),
    ("mapred.map.tasks", "mapreduce.job.maps"),
    ("mapred.reduce.tasks", "mapreduce.job.reduces"),
    ("mapred.job.name", "mapreduce.job.name"),
    ("mapred.output.compress", "mapreduce.output.fileoutputformat.compress"),
    ("mapred.output.key.comparator.class", "mapreduce.job.output.key.comparator.class"),
    ("mapred.text.key.partitioner.options", "mapreduce.partition.keypartitioner.options"),
    ("mapred.text.key.comparator.options", "mapreduce.partition.keycomparator.options"),
    ("user.name", "mapreduce.job.user.name"),
)
_VERSIONS: dict[str, dict[str, str]] = {}
for _old, _new in _RENAMED:
    _VERSIONS[_old] = _VERSIONS[_new] = {"1.0": _old, "2.0": _new}


def jobconf_from_env(variable: str, default: Any = None) -> Any:
    """The value of the jobconf ``variable`` in this task, or ``default``."""
    for name in (variable, *translate_jobconf_for_all_versions(variable)):
        value = os.environ.get(name.replace(".", "_"))
        if value is not None:
            return value
    return default


def jobconf_from_dict(jobconf: Mapping[str, Any], name: str, default: Any = None) -> Any:
    """The value of ``name`` in ``jobconf``, under either of its names, or ``default``."""
    for variant in (name, *translate_jobconf_for_all_versions(name)):
        if variant in jobconf:
            return jobconf[variant]
    return default


def map_version(version: str, version_map: Mapping[str, Any]) -> Any:
    """The value of ``version_map`` for the highest version at most ``version``."""
    if not version_map:
        raise ValueError("empty version_map")
    known = sorted(version_map, key=_version_key)
    chosen = known[0]
    for candidate in known:
        if _version_key(candidate) <= _version_key(version):
            chosen = candidate
    return version_map[chosen]


def translate_jobconf(variable: str, version: str) -> str:
    """``variable`` as Hadoop ``version`` names it."""
    versions = _VERSIONS.get(variable)
    return variable if versions is None else map_version(version, versions)


def translate_jobconf_for_all_versions(variable: str) -> list[str]:
    """Every name of ``variable``, in order."""
    return sorted(set(_VERSIONS.get(variable, {variable: variable}).values()))


def translate_jobconf_dict(
    jobconf: Mapping[str, Any], hadoop_version: str | None = None
) -> dict[str, Any]:
    """``jobconf`` with each name also under its other spelling (or only as
    ``hadoop_version`` names it); names given keep their values."""
    translated: dict[str, Any] = {}
    for name, value in jobconf.items():
        names = (
            translate_jobconf_for_all_versions(name)
            if hadoop_version is None
            else [translate_jobconf(name, hadoop_version)]
        )
        for variant in names:
            translated.setdefault(variant, value)
    translated.update({name: value for name, value in jobconf.items() if hadoop_version is None})
    return translated


def uses_yarn(version: str) -> bool:
    """Whether Hadoop ``version`` runs on YARN (2.0 and later)."""
    return version_gte(version, "2")


def version_gte(version: str, cmp_version_str: str) -> bool:
    """Whether ``version`` is at least ``cmp_version_str``."""
    return _version_key(version) >= _version_key(cmp_version_str)


def _version_key(version: str) -> tuple[int, ...]:
    parts = []
    for part in str(version).split("."):
        digits = "".join(char for char in part if char.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)
