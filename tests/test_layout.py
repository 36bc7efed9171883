"""The folders are the layers (docs/architecture.md, "Layout"): every import inside
simplemr points down the list of layers, never up, so a change in a lower layer
never needs to know about a higher one."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "simplemr"

#: From the top down; a module belongs to the first entry its dotted name starts with.
LAYERS = [
    ("the command line, mrjob's API, examples", ["cli", "mrjob", "examples", "__main__"]),
    ("the user API", ["__init__", "api", "jobclass", "compat", "loading", "textfiles"]),
    ("the driver", ["engine", "executors", "signals", "observe"]),
    ("the job and its tasks", ["job", "shipping", "shuffle"]),
    ("storage and the core", ["io", "core", "memory", "counters", "errors", "events"]),
]

#: Imports that run the other way on purpose, at call time (each says so in the code).
UPWARD_ON_PURPOSE = {("jobclass", "cli")}


def layer_of(module: str) -> int:
    first = module.split(".")[0]
    for number, (_, names) in enumerate(LAYERS):
        if first in names:
            return number
    raise AssertionError(f"simplemr.{module} belongs to no layer: add it to LAYERS")


def modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts.pop()
        found.append((".".join(parts), path))
    return found


MODULES = {name for name, _ in modules()}


def imported(module: str, path: Path) -> set[str]:
    """The simplemr modules ``module`` imports, as names below the package."""
    package = module.split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - (node.level - 1)]
            if node.module:
                names.add(".".join([*base, *node.module.split(".")]))
            else:  # "from . import x, y": modules of the package, or names in it
                for alias in node.names:
                    name = ".".join([*base, alias.name])
                    names.add(name if name in MODULES else ".".join(base) or "__init__")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("simplemr."):
            names.add(node.module.removeprefix("simplemr."))
        elif isinstance(node, ast.Import):
            names.update(
                alias.name.removeprefix("simplemr.")
                for alias in node.names
                if alias.name.startswith("simplemr.")
            )
    return names


def test_every_module_has_a_layer() -> None:
    for module, _ in modules():
        layer_of(module)


@pytest.mark.parametrize(("module", "path"), modules(), ids=[name for name, _ in modules()])
def test_imports_point_down(module: str, path: Path) -> None:
    mine = layer_of(module)
    upward = sorted(
        target
        for target in imported(module, path)
        if layer_of(target) < mine
        and (module.split(".")[0], target.split(".")[0]) not in UPWARD_ON_PURPOSE
    )
    assert not upward, f"simplemr.{module} ({LAYERS[mine][0]}) imports {upward} from above"


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "segments.py"
    module.write_text("from ..engine import run_job\nfrom . import table\n")
    assert imported("shuffle.segments", module) == {"engine", "shuffle.table"}
    assert layer_of("engine") < layer_of("shuffle.segments")
