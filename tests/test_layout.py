"""The folders are the layers (docs/architecture.md, "Layout"): every import inside
simplemr points down the list of layers, never up, so a change in a lower layer
never needs to know about a higher one; and no modules import each other in a
circle, within a layer either (imports made at call time count too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "simplemr"

#: From the top down; a module belongs to the entry that names the longest start of its
#: dotted name (``mrjob.vocabulary``, data that imports nothing, lies below ``mrjob``).
LAYERS = [
    ("the command line, mrjob's API, examples", ["cli", "mrjob", "examples", "__main__"]),
    (
        "the user API",
        [
            "__init__",
            "api",
            "jobclass",
            "joins",
            "compat",
            "loading",
            "textfiles",
            "launch",
            "mrjob.vocabulary",
        ],
    ),
    ("the driver", ["engine", "resume", "executors", "signals", "observe"]),
    ("the job and its tasks", ["job", "shipping", "shuffle"]),
    (
        "storage and the core",
        ["io", "core", "memory", "cgroups", "counters", "errors", "events", "version"],
    ),
]


def layer_of(module: str) -> int:
    parts = module.split(".")
    for length in range(len(parts), 0, -1):
        start = ".".join(parts[:length])
        for number, (_, names) in enumerate(LAYERS):
            if start in names:
                return number
    raise AssertionError(f"simplemr.{module} belongs to no layer: add it to LAYERS")


def test_the_vocabulary_below_the_mrjob_package_imports_nothing_of_simplemr() -> None:
    path = PACKAGE / "mrjob" / "vocabulary.py"
    assert imported("mrjob.vocabulary", path) == set()
    assert layer_of("mrjob.vocabulary") > layer_of("mrjob.job")


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
    for node in _executed(ast.parse(path.read_text())):
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


_TYPE_CHECKING = {"TYPE_CHECKING", "typing.TYPE_CHECKING"}


def _executed(tree: ast.AST) -> list[ast.AST]:
    """Every node of ``tree`` but those under ``if TYPE_CHECKING:`` (imports for the
    type checker only, which never run)."""
    found = []
    pending = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and ast.unparse(node.test) in _TYPE_CHECKING:
            pending.extend(node.orelse)
            continue
        found.append(node)
        pending.extend(ast.iter_child_nodes(node))
    return found


def import_graph() -> dict[str, set[str]]:
    """Each module, and the modules it imports (a name imported from a module
    counts as that module)."""
    graph = {}
    for module, path in modules():
        targets = set()
        for target in imported(module, path):
            while target not in MODULES and "." in target:
                target = target.rsplit(".", 1)[0]
            if target in MODULES and target != module:
                targets.add(target)
        graph[module] = targets
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Circles of modules that import each other, directly or not, as
    ``[a, b, ..., a]``: the shortest one through each module that is the first of
    its circle (so one at least wherever there is any)."""
    found = []
    for start in sorted(graph):
        path = _path_back(graph, start)
        if path and min(path) == start:
            found.append(path)
    return found


def _path_back(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """A shortest path of imports from ``start`` back to itself, if any."""
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for module in frontier:
            for target in sorted(graph.get(module, ())):
                if target == start:
                    path = [module]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if target not in came_from:
                    came_from[target] = module
                    following.append(target)
        frontier = following
    return None


def test_no_modules_import_each_other_in_a_circle() -> None:
    found = circles(import_graph())
    assert not found, "imports in a circle: " + "; ".join(" -> ".join(c) for c in found)


def test_the_checker_sees_a_circle_and_ignores_imports_for_the_type_checker(
    tmp_path: Path,
) -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert circles({"a": {"b"}, "b": set()}) == []
    module = tmp_path / "jobs.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from ..jobclass import Job\n"
        "def f():\n    from ..api import MapReduce\n"
    )
    assert imported("launch.jobs", module) == {"api"}


def test_every_module_has_a_layer() -> None:
    for module, _ in modules():
        layer_of(module)


@pytest.mark.parametrize(("module", "path"), modules(), ids=[name for name, _ in modules()])
def test_imports_point_down(module: str, path: Path) -> None:
    mine = layer_of(module)
    upward = sorted(target for target in imported(module, path) if layer_of(target) < mine)
    assert not upward, f"simplemr.{module} ({LAYERS[mine][0]}) imports {upward} from above"


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "segments.py"
    module.write_text("from ..engine import run_job\nfrom . import table\n")
    assert imported("shuffle.segments", module) == {"engine", "shuffle.table"}
    assert layer_of("engine") < layer_of("shuffle.segments")
