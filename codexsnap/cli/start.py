"""The console script's start: `history` and `snapshot` run without typer when they can.

typer and its click cost about 60 ms of a run that, for `history -n 1000`, spends 20 ms in
git (docs/performance.md). These two commands, the ones scripts and the watcher call over
and over, take only a few flags, so a small parser takes their plain forms (``--opt value``,
``--opt=value``, ``-n5``, flags, in any order, the last of a repeated option winning, as
click does) and calls the same bodies the Typer adapters call (cli/lean.py). Anything else
(help, a mistake, a value that looks like an option, completion, every other command) goes
to the Typer app, so help texts, usage errors and their exit codes stay click's.
``tests/test_start.py`` holds the two parsers to the same answers.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from codexsnap.errors import EXIT_INTERRUPTED

Kind = Literal["flag", "count", "text", "path"]


@dataclass(frozen=True)
class Option:
    names: tuple[str, ...]
    dest: str
    kind: Kind  # "count": an integer of at least 1, as typer.Option(min=1)


_PATHS = (
    Option(("--codex-home",), "codex_home", "path"),
    Option(("--codex-sqlite-home",), "codex_sqlite_home", "path"),
    Option(("--store",), "store", "path"),
)

# Each command's options and their defaults: what cli/snapshots.py declares to typer.
COMMANDS: dict[str, tuple[tuple[Option, ...], dict[str, Any]]] = {
    "history": (
        (
            Option(("--limit", "-n"), "limit", "count"),
            Option(("--all",), "include_pruned", "flag"),
            Option(("--json",), "as_json", "flag"),
            *_PATHS,
        ),
        {"limit": None, "include_pruned": False, "as_json": False},
    ),
    "snapshot": (
        (
            Option(("--message", "-m"), "message", "text"),
            Option(("--json",), "as_json", "flag"),
            *_PATHS,
        ),
        {"message": "", "as_json": False},
    ),
}


def parse(args: Sequence[str]) -> tuple[str, dict[str, Any]] | None:
    """The command and its parameters, or None when the Typer app must answer."""
    if not args or args[0] not in COMMANDS:
        return None
    command, rest = args[0], list(args[1:])
    options, defaults = COMMANDS[command]
    by_name = {name: option for option in options for name in option.names}
    params: dict[str, Any] = {"codex_home": None, "codex_sqlite_home": None, "store": None}
    params.update(defaults)
    while rest:
        token = rest.pop(0)
        name, value = _split(token, by_name)
        option = by_name.get(name) if name is not None else None
        if option is None:
            return None  # an argument, --help, --, an unknown or abbreviated option
        if option.kind == "flag":
            if value is not None:
                return None  # "--json=x": click's error to give
            params[option.dest] = True
            continue
        if value is None:
            if not rest:
                return None  # "requires an argument"
            value = rest.pop(0)
        converted = _convert(option.kind, value)
        if converted is None:
            return None
        params[option.dest] = converted
    return command, params


def _split(token: str, by_name: dict[str, Option]) -> tuple[str | None, str | None]:
    """``--opt=value`` and ``-nVALUE`` into name and value; a bare name has value None."""
    if token.startswith("--"):
        name, equals, value = token.partition("=")
        return name, value if equals else None
    if token.startswith("-") and len(token) > 1:
        name = token[:2]
        option = by_name.get(name)
        if len(token) > 2 and (option is None or option.kind == "flag"):
            return None, None  # a cluster of short flags: none of ours takes one
        return name, token[2:] or None
    return None, None


def _convert(kind: Kind, value: str) -> Any:
    # A value click might read otherwise (one that looks like an option, an empty path, a
    # number with a sign, spaces or underscores) goes to click, whatever it makes of it.
    if value.startswith("-"):
        return None
    if kind == "count":
        return int(value) if value.isascii() and value.isdigit() and int(value) >= 1 else None
    if kind == "path":
        return Path(value) if value else None
    return value


def main() -> None:
    """Console-script entry point."""
    try:
        run = _prepare(sys.argv[1:])
    except KeyboardInterrupt:
        # Ctrl-C while the modules load: no command code has run, so nothing is written;
        # one line and 130, not a traceback through the import machinery.
        sys.stderr.write(f"\n{INTERRUPTED_AT_START}\n")
        forget_unhandled_interrupt()
        _done()
        sys.exit(EXIT_INTERRUPTED)
    try:
        run()  # click ends its runs with sys.exit; the lean ones end below
    finally:
        _done()


# The words of transaction/outcome.py's NOTHING_WRITTEN sentence (tests/test_start.py holds
# them equal), spelled here so that saying them after a Ctrl-C during the imports imports
# nothing more.
INTERRUPTED_AT_START = "Interrupted: nothing written; the Codex home is as it was."


def _prepare(args: list[str]) -> Callable[[], None]:
    """Every import the run needs, and the call that runs it."""
    from codexsnap.cli.console import Progress
    from codexsnap.progress import set_listener

    set_listener(Progress())
    for stream in (sys.stdout, sys.stderr):
        # File names that are not valid UTF-8 must print as escapes, never crash a report.
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    completing = any(k.startswith("_") and k.endswith("_COMPLETE") for k in os.environ)
    parsed = None if completing else parse(args)
    if parsed is None:
        from codexsnap.cli.app import app_for

        return app_for(args)
    from codexsnap.cli import lean
    from codexsnap.cli.errors import CommandExit, handled

    command, params = parsed
    body = getattr(lean, command)

    def run() -> None:
        code = 0
        try:
            with handled():
                body(**params)
        except CommandExit as done:
            code = done.code
        sys.exit(code)

    return run


def forget_unhandled_interrupt() -> None:
    """Keep CPython from turning the exit code of a handled Ctrl-C into death by SIGINT.

    A Ctrl-C that lands inside code run from a string (``exec``/``eval``: dataclasses and
    namedtuple build their methods so, while a lazy import runs) makes CPython note an
    "unhandled KeyboardInterrupt" (``_Py_UnhandledKeyboardInterrupt``, pythonrun.c's
    ``run_eval_code_obj``), and ``Py_RunMain`` then kills the process with SIGINT at exit
    whatever ``sys.exit`` said: exit -2 instead of the 130 (or 0) the last line stands for.
    Running a string again resets that note, so the exit code is the one chosen here.
    """
    exec("")  # a constant empty string: the reset is the point


def _done() -> None:
    """The command is over and its last line printed: from here on Ctrl-C is ignored.

    Else a Ctrl-C in the last milliseconds, while the interpreter shuts down, kills it by
    SIGINT (exit -2): a code that tells a script the run was cut short when the line above
    says what it did.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
