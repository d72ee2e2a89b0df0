"""Commands about snapshots: history, show, diff, snapshot, prune, pin, unpin, note."""

from __future__ import annotations

import typer

from codexsnap.cli import json_output, lean, text
from codexsnap.cli.console import echo_json, echo_text
from codexsnap.cli.locate import locate, sqlite_root, warn_pending
from codexsnap.cli.options import (
    AllOption,
    DetailsOption,
    DryRunOption,
    GcOption,
    HomeOption,
    JsonOption,
    KeepLastOption,
    KeepWithinOption,
    LimitOption,
    NewIdArgument,
    NoteTextArgument,
    OldHomeArgument,
    OldIdArgument,
    PinMessageOption,
    RestoreOption,
    SecretsOption,
    SnapshotIdArgument,
    SnapshotMessageOption,
    SqliteHomeOption,
    StatOption,
    StoreOption,
)
from codexsnap.errors import EXIT_DIFFERENT


def history(
    limit: LimitOption = None,
    include_pruned: AllOption = False,
    as_json: JsonOption = False,
    codex_home: HomeOption = None,
    codex_sqlite_home: SqliteHomeOption = None,
    store: StoreOption = None,
) -> None:
    """List the snapshots of this Codex home, newest first, with pins and notes.

    Example: codexsnap history -n 10
    """
    lean.history(limit, include_pruned, as_json, codex_home, codex_sqlite_home, store)


def adopt(
    old_path: OldHomeArgument,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
    codex_home: HomeOption = None,
    codex_sqlite_home: SqliteHomeOption = None,
    store: StoreOption = None,
) -> None:
    """Take over the history a moved Codex home left under its old path.

    The old path's history stays as it was; a snapshot records the adoption.
    Example: codexsnap adopt ~/old-codex-home
    """
    from codexsnap.commands.adopt import adopt as run_adopt

    del codex_sqlite_home  # taken by every command, so one set of flags works everywhere
    home, location = locate(codex_home, store)
    result = run_adopt(home.path, location.path, old_path, dry_run=dry_run)
    if as_json:
        return echo_json(json_output.adopt_json(result))
    echo_text(text.adopt_text(result, home.path))


def show(
    snapshot_id: SnapshotIdArgument,
    details: DetailsOption = False,
    as_json: JsonOption = False,
    show_secrets: SecretsOption = False,
    codex_home: HomeOption = None,
    codex_sqlite_home: SqliteHomeOption = None,
    store: StoreOption = None,
) -> None:
    """Show what a snapshot changed compared with the snapshot before it.

    Example: codexsnap show 1a2b3c4d
    """
    from codexsnap.commands.show import show as run_show

    home, location = locate(codex_home, store)
    warn_pending(home, location)
    del codex_sqlite_home  # a snapshot's files are read from the store
    result = run_show(
        home.path, location.path, snapshot_id, show_secrets=show_secrets, details=details
    )
    if as_json:
        return echo_json(json_output.show_json(result))
    echo_text(text.show_text(result))


def diff(
    old_id: OldIdArgument = None,
    new_id: NewIdArgument = None,
    stat: StatOption = False,
    as_json: JsonOption = False,
    show_secrets: SecretsOption = False,
    codex_home: HomeOption = None,
    codex_sqlite_home: SqliteHomeOption = None,
    store: StoreOption = None,
) -> None:
    """Compare the live home with a snapshot, or two snapshots; exit 1 when they differ.

    Example: codexsnap diff --stat
    """
    from codexsnap.commands.diff import diff as run_diff

    home, location = locate(codex_home, store)
    warn_pending(home, location)
    sqlite, _ = sqlite_root(home, codex_sqlite_home)
    result = run_diff(
        home.path, location.path, old_id, new_id, show_secrets=show_secrets, sqlite_home=sqlite
    )
    if as_json:
        echo_json(json_output.diff_json(result))
    else:
        echo_text(text.diff_text(result, stat))
    if not result.report.empty:
        raise typer.Exit(EXIT_DIFFERENT)


def snapshot(
    message: SnapshotMessageOption = "",
    as_json: JsonOption = False,
    codex_home: HomeOption = None,
    codex_sqlite_home: SqliteHomeOption = None,
    store: StoreOption = None,
) -> None:
    """Take a snapshot of the Codex home now (none is made when nothing changed).

    Example: codexsnap snapshot -m "before trying the new plugin"
    """
    lean.snapshot(message, as_json, codex_home, codex_sqlite_home, store)


def prune(
    keep_last: KeepLastOption = None,
    keep_within: KeepWithinOption = None,
    gc: GcOption = False,
    restore: RestoreOption = False,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
    codex_home: HomeOption = None,
    codex_sqlite_home: SqliteHomeOption = None,
    store: StoreOption = None,
) -> None:
    """Forget snapshots no rule keeps; pinned ones and the last change's pair always stay.

    Pruned snapshots stay recoverable (history --all, rollback, prune --restore) until
    prune --gc deletes them and their data.
    Example: codexsnap prune --keep-last 50 --keep-within 30d
    """
    from codexsnap.commands.prune import prune as run_prune

    del codex_sqlite_home  # taken by every command, so one set of flags works everywhere
    home, location = locate(codex_home, store)
    result = run_prune(
        home.path,
        location.path,
        keep_last=keep_last,
        keep_within=keep_within,
        dry_run=dry_run,
        gc=gc,
        restore=restore,
    )
    if as_json:
        return echo_json(json_output.prune_json(result))
    echo_text(text.prune_text(result, gc, restore))


def pin(
    snapshot_id: SnapshotIdArgument,
    message: PinMessageOption = "",
    codex_home: HomeOption = None,
    codex_sqlite_home: SqliteHomeOption = None,
    store: StoreOption = None,
) -> None:
    """Keep a snapshot whatever prune's policy says.

    Example: codexsnap pin 1a2b3c4d -m "last known good"
    """
    from codexsnap.commands.marks import pin as run_pin

    del codex_sqlite_home  # taken by every command, so one set of flags works everywhere
    home, location = locate(codex_home, store)
    snap = run_pin(home.path, location.path, snapshot_id, message)
    typer.echo(f"Pinned {snap.short_id}.")


def unpin(
    snapshot_id: SnapshotIdArgument,
    codex_home: HomeOption = None,
    codex_sqlite_home: SqliteHomeOption = None,
    store: StoreOption = None,
) -> None:
    """Let prune's policy decide about a snapshot again.

    Example: codexsnap unpin 1a2b3c4d
    """
    from codexsnap.commands.marks import unpin as run_unpin

    del codex_sqlite_home  # taken by every command, so one set of flags works everywhere
    home, location = locate(codex_home, store)
    snap, was_pinned = run_unpin(home.path, location.path, snapshot_id)
    typer.echo(
        f"Unpinned {snap.short_id}."
        if was_pinned
        else f"Snapshot {snap.short_id} was not pinned; nothing changed."
    )


def note(
    snapshot_id: SnapshotIdArgument,
    text: NoteTextArgument,
    codex_home: HomeOption = None,
    codex_sqlite_home: SqliteHomeOption = None,
    store: StoreOption = None,
) -> None:
    """Attach a note to a snapshot; history shows it.

    Example: codexsnap note 1a2b3c4d "projects still there here"
    """
    from codexsnap.commands.marks import note as run_note

    del codex_sqlite_home  # taken by every command, so one set of flags works everywhere
    home, location = locate(codex_home, store)
    snap = run_note(home.path, location.path, snapshot_id, text)
    typer.echo(
        f"Noted {snap.short_id}." if text.strip() else f"Removed the note of {snap.short_id}."
    )
