"""``mrjob.step``: the steps a job's ``steps()`` returns.

``MRStep`` is what simplemr runs. ``JarStep`` and the Spark steps can be made (a job
file that defines one still loads) but only Hadoop or Spark can run them, so a job
that has one is refused when it starts, naming the step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .util import cmd_line

__all__ = [
    "GENERIC_ARGS",
    "INPUT",
    "OUTPUT",
    "JarStep",
    "MRStep",
    "SparkJarStep",
    "SparkScriptStep",
    "SparkStep",
    "StepFailedException",
]

INPUT = "<input>"
OUTPUT = "<output>"
GENERIC_ARGS = "<generic args>"

MAPPER_FUNCS = (
    "mapper", "mapper_init", "mapper_final", "mapper_cmd", "mapper_pre_filter", "mapper_raw",
)  # fmt: skip
COMBINER_FUNCS = (
    "combiner", "combiner_init", "combiner_final", "combiner_cmd", "combiner_pre_filter",
)  # fmt: skip
REDUCER_FUNCS = (
    "reducer", "reducer_init", "reducer_final", "reducer_cmd", "reducer_pre_filter",
)  # fmt: skip
STEP_FUNCS = MAPPER_FUNCS + COMBINER_FUNCS + REDUCER_FUNCS


def _identity_mapper(key: Any, value: Any) -> Any:
    yield key, value


def _identity_reducer(key: Any, values: Any) -> Any:
    for value in values:
        yield key, value


class StepFailedException(Exception):
    """A step of the job failed; ``str()`` counts steps from 1 ("Step 2 of 3 failed")."""

    def __init__(
        self,
        reason: str | None = None,
        step_num: int | None = None,
        num_steps: int | None = None,
        step_desc: str | None = None,
        last_step_num: int | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.step_num = step_num
        self.num_steps = num_steps
        self.step_desc = step_desc
        self.last_step_num = None if last_step_num == step_num else last_step_num

    def __str__(self) -> str:
        if self.step_desc:
            what = self.step_desc
        elif self.step_num is None:
            what = "Step"
        else:
            what = f"Step {self.step_num + 1}"
            if self.last_step_num is not None:
                what = f"Steps {self.step_num + 1}-{self.last_step_num + 1}"
            if self.num_steps:
                what += f" of {self.num_steps}"
        return f"{what} failed: {self.reason}" if self.reason else f"{what} failed"


class MRStep:
    """A streaming step: its mapper, combiner and reducer (functions, shell commands
    or pre-filters) and their ``*_init``/``*_final`` hooks, and ``jobconf``."""

    def __init__(self, **kwargs: Any) -> None:
        unexpected = sorted(set(kwargs) - set(STEP_FUNCS) - {"jobconf"})
        if unexpected:
            raise TypeError(f"MRStep() got an unexpected keyword argument {unexpected[0]!r}")
        if not set(kwargs) & set(STEP_FUNCS):
            raise ValueError("Step has no mappers and no reducers")
        self.has_explicit_mapper = any(kwargs.get(name) for name in MAPPER_FUNCS)
        self.has_explicit_combiner = any(kwargs.get(name) for name in COMBINER_FUNCS)
        self.has_explicit_reducer = any(kwargs.get(name) for name in REDUCER_FUNCS)
        self._steps: dict[str, Any] = dict.fromkeys((*STEP_FUNCS, "jobconf"))
        self._steps.update(kwargs)
        self._check_conflict("mapper_cmd", MAPPER_FUNCS)
        self._check_conflict("mapper_raw", ("mapper", "mapper_pre_filter"))
        self._check_conflict("combiner_cmd", COMBINER_FUNCS)
        self._check_conflict("reducer_cmd", REDUCER_FUNCS)

    def _check_conflict(self, name: str, others: tuple[str, ...]) -> None:
        if self._steps[name]:
            for other in others:
                if other != name and self._steps[other]:
                    raise ValueError(f"Can't specify both {name} and {other}")

    def __repr__(self) -> str:
        given = ", ".join(f"{k}={v!r}" for k, v in self._steps.items() if v is not None)
        return f"MRStep({given})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MRStep) and self._steps == other._steps

    __hash__ = None  # type: ignore[assignment]

    def __getitem__(self, key: str) -> Any:
        """The function for ``key``; the identity where mrjob would run one."""
        if key == "mapper" and self._steps["mapper"] is None:
            return _identity_mapper
        if key == "reducer" and self._steps["reducer"] is None and self.has_explicit_reducer:
            return _identity_reducer
        if key == "combiner" and self._steps["combiner"] is None and self.has_explicit_combiner:
            return _identity_reducer
        return self._steps[key]

    def command(self, kind: str) -> str | None:
        """The ``*_cmd`` of ``kind`` (mapper, combiner, reducer) as a command line."""
        command = self._steps[f"{kind}_cmd"]
        if command is None or isinstance(command, str):
            return command
        return cmd_line(command)

    def pre_filter(self, kind: str) -> str | None:
        """The ``*_pre_filter`` of ``kind``, a shell command its input goes through."""
        return self._steps.get(f"{kind}_pre_filter")

    def description(self, step_num: int = 0) -> dict[str, Any]:
        """What mrjob's runners read of the step."""
        described: dict[str, Any] = {"type": "streaming"}
        kinds = []
        if step_num == 0 or self.has_explicit_mapper or self.has_explicit_combiner:
            kinds.append("mapper")
        if self.has_explicit_combiner:
            kinds.append("combiner")
        if self.has_explicit_reducer:
            kinds.append("reducer")
        for kind in kinds:
            command = self.command(kind)
            if command is not None and self.pre_filter(kind):
                raise ValueError(f"Cannot specify both {kind}_cmd and {kind}_pre_filter")
            if command is not None:
                described[kind] = {"type": "command", "command": command}
            else:
                described[kind] = {"type": "script"}
                if self.pre_filter(kind):
                    described[kind]["pre_filter"] = self.pre_filter(kind)
        if self._steps["mapper_raw"]:
            described["input_manifest"] = True
        if self._steps["jobconf"]:
            described["jobconf"] = self._steps["jobconf"]
        return described


class _OtherStep:
    """A step that only Hadoop or Spark can run: kept, described, refused at run time."""

    KIND = ""
    ARGS: tuple[str, ...] = ()
    REQUIRED: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        given = dict(zip(self.ARGS, args, strict=False))
        given.update(kwargs)
        unexpected = sorted(set(given) - set(self.ARGS) - {"jobconf"})
        if unexpected:
            raise TypeError(
                f"{type(self).__name__}() got an unexpected keyword argument {unexpected[0]!r}"
            )
        for name in self.REQUIRED:
            if given.get(name) is None:
                raise TypeError(f"{type(self).__name__}() needs {name}")
        for name in (*self.ARGS, "jobconf"):
            setattr(self, name, given.get(name))

    def __repr__(self) -> str:
        given = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.ARGS)
        return f"{type(self).__name__}({given})"

    def description(self, step_num: int = 0) -> dict[str, Any]:
        described = {name: getattr(self, name) for name in self.ARGS}
        described["type"] = self.KIND
        return described


class JarStep(_OtherStep):
    """A step that runs a Java jar on Hadoop."""

    KIND = "jar"
    ARGS = ("jar", "args", "main_class")
    REQUIRED = ("jar",)


class SparkStep(_OtherStep):
    """A step that runs the job's ``spark()`` method on Spark."""

    KIND = "spark"
    ARGS = ("spark", "spark_args")
    REQUIRED = ("spark",)
    spark: Callable[[str, str], Any]


class SparkJarStep(_OtherStep):
    """A step that runs a Java or Scala jar on Spark."""

    KIND = "spark_jar"
    ARGS = ("jar", "main_class", "args", "spark_args")
    REQUIRED = ("jar", "main_class")


class SparkScriptStep(_OtherStep):
    """A step that runs a Python script on Spark."""

    KIND = "spark_script"
    ARGS = ("script", "args", "spark_args")
    REQUIRED = ("script",)
