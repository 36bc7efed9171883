"""The command-line options of an mrjob job: mrjob's own, and simplemr's engine options.

mrjob's switches that simplemr honours are parsed as mrjob parses them; those that
only mean something to Hadoop, EMR or Spark are parsed too, so a command line
written for mrjob still parses, and ``runner.py`` refuses or warns about them.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

__all__ = [
    "IGNORED_SWITCHES",
    "REFUSED_SWITCHES",
    "RUNNERS",
    "add_mrjob_args",
    "engine_namespace",
    "option_tokens",
]

#: Where simplemr's engine options go in ``job.options``, so that none meets a job's
#: own option of the same name (``--stats``, ``--workers``): the job's wins the name.
ENGINE_DEST = "simplemr_"

#: mrjob's runners; ``inline`` and ``local`` run on simplemr, the rest are refused.
RUNNERS = ("inline", "local", "hadoop", "emr", "dataproc", "spark")
#: Switches that change nothing here, by destination: a warning says so.
IGNORED_SWITCHES = {
    "python_bin": "--python-bin",
    "task_python_bin": "--task-python-bin",
    "sort_bin": "--sort-bin",
    "sh_bin": "--sh-bin",
    "cleanup": "--cleanup",
    "owner": "--owner",
    "label": "--label",
}
#: Switches whose effect simplemr cannot give: the job is refused.
REFUSED_SWITCHES = {
    "setup": "--setup",
    "libjars": "--libjars",
    "max_output_files": "--max-output-files",
    "hadoop_bin": "--hadoop-bin",
    "spark_master": "--spark-master",
}


class _CommaItems(argparse.Action):
    """``--files a,b --files c``: every item, in order."""

    def __call__(
        self, parser: Any, namespace: argparse.Namespace, values: Any, option: Any = None
    ) -> None:
        items = list(getattr(namespace, self.dest, None) or [])
        items.extend(item for item in str(values).split(",") if item)
        setattr(namespace, self.dest, items)


class _KeyValue(argparse.Action):
    """``--jobconf KEY=VALUE``, repeated: a dict."""

    def __call__(
        self, parser: Any, namespace: argparse.Namespace, values: Any, option: Any = None
    ) -> None:
        key, equals, value = str(values).partition("=")
        if not equals or not key:
            parser.error(f"{option} takes KEY=VALUE, not {values!r}")
        pairs = dict(getattr(namespace, self.dest, None) or {})
        pairs[key] = value
        setattr(namespace, self.dest, pairs)


def add_mrjob_args(parser: argparse.ArgumentParser) -> None:
    """Add mrjob's switches, simplemr's engine options and the input paths to ``parser``."""
    from ..launch.common import add_engine_options

    parser.add_argument("args", nargs="*", help="input files, globs or folders; - for stdin")
    parser.add_argument("-h", "--help", action="help", help="show this help and exit")
    runner = parser.add_argument_group("mrjob's options")
    runner.add_argument(
        "-r", "--runner", choices=RUNNERS, help="inline or local: run on simplemr's engine"
    )
    runner.add_argument("-o", "--output-dir", help="write part files to this folder")
    runner.add_argument(
        "--cat-output", dest="cat_output", action="store_true", default=None,
        help="print the output even with --output-dir",
    )  # fmt: skip
    runner.add_argument(
        "--no-output", dest="cat_output", action="store_false", help="do not print the output"
    )
    runner.add_argument(
        "-D", "--jobconf", action=_KeyValue, default={}, metavar="KEY=VALUE",
        help="a jobconf variable for every task (jobconf_from_env reads it)",
    )  # fmt: skip
    runner.add_argument(
        "--cmdenv", action=_KeyValue, default={}, metavar="KEY=VALUE",
        help="an environment variable for every task",
    )  # fmt: skip
    for name, what in (("files", "file"), ("dirs", "folder"), ("archives", "archive")):
        runner.add_argument(
            f"--{name}", dest=f"upload_{name}", action=_CommaItems, default=[],
            metavar="PATH[#NAME],...", help=f"a {what} to put in each task's working folder",
        )  # fmt: skip
    runner.add_argument("--num-cores", type=int, help="worker processes (as --workers)")
    runner.add_argument(
        "-c", "--conf-path", dest="conf_paths", action="append", help="not read by simplemr"
    )
    runner.add_argument("--no-conf", dest="conf_paths", action="store_const", const=[])
    runner.add_argument("-q", "--quiet", action="store_true", help="print no counters")
    runner.add_argument(
        "-v", dest=ENGINE_DEST + "verbose", action="store_true", help="as --verbose"
    )
    runner.add_argument("--local-tmp-dir", help="as --tmp-dir")
    runner.add_argument(
        "--step-output-dir", metavar="DIR", help="keep the results of every step but the last here"
    )
    runner.add_argument(
        "--strict-protocols", dest="strict_protocols", action="store_true", default=True
    )
    runner.add_argument("--no-strict-protocols", dest="strict_protocols", action="store_false")
    for dest, switch in {**IGNORED_SWITCHES, **REFUSED_SWITCHES}.items():
        runner.add_argument(switch, dest=dest, action="append", help=argparse.SUPPRESS)
    # How mrjob's runners start one task of a step: ``--mapper --step-num 0``.
    for task in ("mapper", "combiner", "reducer", "spark"):
        parser.add_argument(
            f"--{task}", dest=f"run_{task}", action="store_true", help=argparse.SUPPRESS
        )
    parser.add_argument("--step-num", type=int, default=0, help=argparse.SUPPRESS)
    engine = _Prefixed(parser.add_argument_group("simplemr's options"))
    add_engine_options(engine, skip_mode=True)  # type: ignore[arg-type]


class _Prefixed:
    """A parser or group whose options get destinations starting with ``ENGINE_DEST``."""

    def __init__(self, target: Any) -> None:
        self.target = target

    def add_argument(self, *names: str, **options: Any) -> argparse.Action:
        long = next(name for name in names if name.startswith("--"))
        options.setdefault("dest", ENGINE_DEST + long[2:].replace("-", "_"))
        return self.target.add_argument(*names, **options)  # type: ignore[no-any-return]


def engine_namespace(options: argparse.Namespace) -> argparse.Namespace:
    """simplemr's engine options of a job's ``options``, under their own names
    (``workers``, ``stats``), as the rest of the command line reads them."""
    from ..launch.common import add_engine_options

    defaults = argparse.ArgumentParser(add_help=False)
    add_engine_options(defaults, skip_mode=True)  # an option a job took keeps its default
    engine = defaults.parse_args([])
    for name, value in vars(options).items():
        if name.startswith(ENGINE_DEST):
            setattr(engine, name[len(ENGINE_DEST) :], value)
    return engine


def option_tokens(
    parser: argparse.ArgumentParser, args: Sequence[str]
) -> list[tuple[str | None, list[str]]]:
    """``args`` cut into ``(dest, tokens)``, one per option given with its values,
    and ``(None, [token])`` per positional argument, the way ``parser`` reads them."""
    actions = parser._option_string_actions  # argparse offers no public table
    cut: list[tuple[str | None, list[str]]] = []
    tokens = list(args)
    position = 0
    while position < len(tokens):
        token = tokens[position]
        position += 1
        if token == "--":
            cut.extend((None, [rest]) for rest in tokens[position:])
            break
        name, equals, _ = token.partition("=")
        action = actions.get(name if equals else token) or _abbreviated(name, actions)
        if action is None and token.startswith("-") and len(token) > 2 and token[:2] in actions:
            action, equals = actions[token[:2]], "="  # -Dkey=value
        if action is None or not token.startswith("-"):
            cut.append((None, [token]))
            continue
        wanted = _values_wanted(action)
        taken = [token]
        if not equals:
            while wanted and position < len(tokens) and not _is_option(tokens[position], actions):
                taken.append(tokens[position])
                position += 1
                wanted -= 1
        cut.append((action.dest, taken))
    return cut


def _abbreviated(name: str, actions: dict[str, argparse.Action]) -> argparse.Action | None:
    """The option ``--thresh`` stands for, as argparse reads an unambiguous prefix."""
    if not name.startswith("--"):
        return None
    found = {actions[option] for option in actions if option.startswith(name)}
    return found.pop() if len(found) == 1 else None


def _values_wanted(action: argparse.Action) -> int:
    if action.nargs == 0 or isinstance(
        action, (argparse._StoreConstAction, argparse._CountAction, argparse._HelpAction)
    ):
        return 0
    if action.nargs is None or action.nargs == "?":
        return 1
    if isinstance(action.nargs, int):
        return action.nargs
    return 1 << 30  # "*" and "+": up to the next option


def _is_option(token: str, actions: dict[str, argparse.Action]) -> bool:
    name = token.partition("=")[0]
    return (
        token.startswith("-")
        and token != "-"
        and (name in actions or token[:2] in actions or _abbreviated(name, actions) is not None)
    )
