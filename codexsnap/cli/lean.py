"""`history`, `snapshot` and `rollback` without typer: their own small parser, and bodies.

typer and its click cost about 60 ms of a run that, for `history -n 1000`, spends 20 ms in
git, and 100-130 ms of a one-file rollback (docs/performance.md). These commands, the ones
scripts and the watcher call over and over, take only a few options, so `parse` takes
their plain forms (``--opt value``, ``--opt=value``, ``-n5``, flags, a repeated ``--path``,
rollback's one argument, in any order, the last of a repeated option winning, as click
does) and `prepare` calls the bodies below, the same ones the Typer adapters in
snapshots.py and restore.py call, so both ways in print the same. Anything else (help, a
mistake, a value that looks like an option, completion, every other command, a rollback
that may ask at a terminal: its prompt and a Ctrl-C there are click's) goes to the Typer
app, so help texts, usage errors and their exit codes stay click's.
``tests/test_start.py`` holds the two parsers to the same answers.
"""

from __future__ import annotations

import codecs
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from codexsnap.cli import json_output, text
from codexsnap.cli.console import echo, echo_history, echo_json, echo_text
from codexsnap.cli.locate import announce_recovery, locate, sqlite_root, warn_pending

if TYPE_CHECKING:
    from codexsnap.commands.rollback import RollbackResult
    from codexsnap.home import CodexHome, StoreLocation

Kind = Literal["flag", "count", "text", "path", "many"]  # "many": repeatable text, a tuple


class Option(NamedTuple):
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
    "rollback": (
        (
            Option(("--path",), "path", "many"),
            Option(("--key",), "key", "text"),
            Option(("--to-dir",), "to_dir", "path"),
            Option(("--dry-run",), "dry_run", "flag"),
            Option(("--yes", "-y"), "yes", "flag"),
            Option(("--force",), "force", "flag"),
            Option(("--json",), "as_json", "flag"),
            Option(("--show-secrets",), "show_secrets", "flag"),
            *_PATHS,
        ),
        {
            "path": (),
            "key": None,
            "to_dir": None,
            "dry_run": False,
            "yes": False,
            "force": False,
            "as_json": False,
            "show_secrets": False,
        },
    ),
}
# The one argument a command takes (click's "Missing argument" when it is not given).
ARGUMENTS = {"rollback": "snapshot_id"}


def parse(args: Sequence[str]) -> tuple[str, dict[str, Any]] | None:
    """The command and its parameters, or None when the Typer app must answer."""
    if not args or args[0] not in COMMANDS:
        return None
    command, rest = args[0], list(args[1:])
    options, defaults = COMMANDS[command]
    by_name = {name: option for option in options for name in option.names}
    params: dict[str, Any] = {"codex_home": None, "codex_sqlite_home": None, "store": None}
    params.update(defaults)
    argument = ARGUMENTS.get(command)
    while rest:
        token = rest.pop(0)
        if argument is not None and token and not token.startswith("-"):
            if argument in params:
                return None  # a second argument: click's "Got unexpected extra argument"
            params[argument] = token
            continue
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
        if option.kind == "many":
            converted = (*params[option.dest], converted)
        params[option.dest] = converted
    if argument is not None and argument not in params:
        return None  # click says what is missing
    if command == "rollback" and not (params["yes"] or params["dry_run"] or params["to_dir"]):
        return None  # it may ask at a terminal: the prompt and its Ctrl-C are click's
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


def prepare(args: list[str]) -> Callable[[], None]:
    """Every import the run needs, and the call that runs it."""
    from codexsnap.cli.console import Progress
    from codexsnap.progress import set_listener

    # A closed stdout or stderr (`codexsnap history >&-`) is None to Python: what would go
    # there goes nowhere, and the exit code still tells.
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115
    set_listener(Progress())
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:
            continue
        # File names that are not valid UTF-8 must print as escapes, never crash a report;
        # an ASCII stream (PYTHONIOENCODING=ascii, an old locale) would turn every accent
        # into an escape and --json into invalid JSON: UTF-8 there, as click's echo did.
        ascii_only = codecs.lookup(getattr(stream, "encoding", None) or "utf-8").name == "ascii"
        reconfigure(errors="backslashreplace", **({"encoding": "utf-8"} if ascii_only else {}))
    completing = any(k.startswith("_") and k.endswith("_COMPLETE") for k in os.environ)
    parsed = None if completing else parse(args)
    if parsed is None:
        from codexsnap.cli.app import app_for

        return app_for(args)
    from codexsnap.cli.errors import CommandExit, handled
    from codexsnap.cli.start import command_over, command_started

    command, params = parsed
    bodies: dict[str, Callable[..., None]] = {
        "history": history,
        "snapshot": snapshot,
        "rollback": rollback,
    }
    body = bodies[command]

    def run() -> None:
        code = 0
        try:
            with handled():
                command_started()
                body(**params)
                command_over()
        except CommandExit as done:
            code = done.code
        finally:
            command_over()  # after an error too: its line is out
        sys.exit(code)

    return run


def history(
    limit: int | None,
    include_pruned: bool,
    as_json: bool,
    codex_home: Path | None,
    codex_sqlite_home: Path | None,
    store: Path | None,
) -> None:
    """List the snapshots of this Codex home, newest first (``codexsnap history``)."""
    from codexsnap.commands.history import HistoryEntry, history_entries, other_homes
    from codexsnap.commands.history import history as run_history

    del codex_sqlite_home  # taken by every command, so one set of flags works everywhere
    home, location = locate(codex_home, store)
    warn_pending(home, location)
    if as_json or include_pruned:
        snapshots = run_history(home.path, location.path, limit, include_pruned)
        if as_json:
            return echo_json(json_output.history_json(snapshots))
        entries = [HistoryEntry(s) for s in snapshots]
    else:
        entries = history_entries(home.path, location.path, limit)
    if not entries:
        others = other_homes(home.path, location.path)
        return echo_text(text.no_history_text(home.path, location.path, others))
    echo_history(entries, paired=not include_pruned)


def snapshot(
    message: str,
    as_json: bool,
    codex_home: Path | None,
    codex_sqlite_home: Path | None,
    store: Path | None,
) -> None:
    """Take a snapshot of the Codex home now (``codexsnap snapshot``)."""
    from codexsnap.commands.snapshot import snapshot as run_snapshot

    home, location = locate(codex_home, store)
    sqlite = sqlite_root(home, codex_sqlite_home)[0]
    taken = run_snapshot(home.path, location.path, message, sqlite, on_recovery=announce_recovery)
    if as_json:
        return echo_json(json_output.snapshot_taken_json(taken))
    echo(text.snapshot_text(taken))


def rollback(
    snapshot_id: str,
    path: tuple[str, ...],
    key: str | None,
    to_dir: Path | None,
    dry_run: bool,
    yes: bool,
    force: bool,
    as_json: bool,
    show_secrets: bool,
    codex_home: Path | None,
    codex_sqlite_home: Path | None,
    store: Path | None,
) -> None:
    """Restore the home to a snapshot (``codexsnap rollback``); the Typer adapter is in
    cli/restore.py, which a run that may prompt goes through."""
    from codexsnap.cli.console import confirmer
    from codexsnap.commands.partial import home_relative
    from codexsnap.commands.rollback import rollback as run_rollback

    home, location = locate(codex_home, store)
    if to_dir is not None:
        return _export(home, location, snapshot_id, to_dir, as_json, dry_run or bool(path or key))
    sqlite, sqlite_flag = sqlite_root(home, codex_sqlite_home)
    flags = text.location_flags(home, location) + sqlite_flag
    result = run_rollback(
        home.path,
        location.path,
        snapshot_id,
        dry_run=dry_run,
        force=force,
        show_secrets=show_secrets,
        confirm=confirmer(yes, as_json, home.path, flags),
        paths=[home_relative(home.path, p, sqlite) for p in path],
        key=key,
        sqlite_home=sqlite,
        on_recovery=announce_recovery,
    )
    echo_restored(result, flags, yes, as_json)


def _export(
    home: CodexHome,
    location: StoreLocation,
    snapshot_id: str,
    to_dir: Path,
    as_json: bool,
    restricted: bool,
) -> None:
    """``rollback --to-dir``: the snapshot's files into a new folder, the home untouched."""
    from codexsnap.commands.rollback import export_damage, export_snapshot
    from codexsnap.errors import UsageError

    if restricted:
        raise UsageError(
            "--to-dir writes the whole snapshot elsewhere; it takes no --dry-run, --path or --key",
            hint="Drop those options, or drop --to-dir to restore into the home.",
        )
    exported = export_snapshot(home.path, location.path, snapshot_id, to_dir)
    if as_json:
        echo_json(json_output.export_json(to_dir, exported))
    else:
        echo_text([text.export_text(exported.written, snapshot_id, to_dir)])
    if exported.damaged:  # the files that could not be written, as the last line (exit 8)
        raise export_damage(exported)


def echo_restored(result: RollbackResult, flags: str, yes: bool, as_json: bool) -> None:
    """What a rollback or an undo did, as text or JSON (``flags``: for the undo command)."""
    from codexsnap.cli.console import asked, echo_pending, echo_warnings

    echo_pending(result.recovery_pending)
    echo_warnings(result.warnings)
    if as_json:
        return echo_json(json_output.rollback_json(result, text.rollback_undo(result, flags)))
    echo_text(text.rollback_text(result, flags, asked(yes, as_json)))
