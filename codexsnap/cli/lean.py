"""The bodies of `history` and `snapshot`, free of typer: the lean start (cli/start.py) runs
them straight from its own parser, the Typer adapters in snapshots.py call them too, so both
ways in share one body and print the same."""

from __future__ import annotations

from pathlib import Path

from codexsnap.cli import json_output, text
from codexsnap.cli.console import echo, echo_history, echo_json, echo_text
from codexsnap.cli.locate import announce_recovery, locate, sqlite_root, warn_pending


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
