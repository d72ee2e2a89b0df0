"""Commands about snapshots: history, show, diff, snapshot, prune, pin, unpin, note."""

from __future__ import annotations

import typer

from codexsnap.cli.console import echo_report, history_table, plain_history
from codexsnap.cli.locate import echo_recovery, locate, warn_pending
from codexsnap.cli.options import (
    AllOption,
    DryRunOption,
    GcOption,
    HomeOption,
    JsonOption,
    KeepLastOption,
    KeepWithinOption,
    LimitOption,
    NewIdArgument,
    NoteTextArgument,
    OldIdArgument,
    PinMessageOption,
    RestoreOption,
    SecretsOption,
    SnapshotIdArgument,
    SnapshotMessageOption,
    StatOption,
    StoreOption,
)
from codexsnap.cli.text import plural
from codexsnap.errors import EXIT_DIFFERENT
from codexsnap.home import color_allowed
from codexsnap.render import (
    dump_json,
    report_json,
    report_text,
    snapshot_json,
    snapshot_line,
    stat_lines,
)


def history(
    limit: LimitOption = None,
    include_pruned: AllOption = False,
    json_output: JsonOption = False,
    codex_home: HomeOption = None,
    store: StoreOption = None,
) -> None:
    """List the snapshots of this Codex home, newest first, with pins and notes.

    Example: codexsnap history -n 10
    """
    from codexsnap.commands.history import history as run_history

    home, location = locate(codex_home, store)
    warn_pending(home, location)
    snapshots = run_history(home.path, location.path, limit, include_pruned)
    if json_output:
        typer.echo(dump_json([snapshot_json(s) for s in snapshots]), nl=False)
        return
    if not snapshots:
        typer.echo(f"No snapshots yet for {home.path} (store: {location.path}).")
        return
    if color_allowed():
        history_table(snapshots)
    else:
        plain_history(snapshots)


def show(
    snapshot_id: SnapshotIdArgument,
    json_output: JsonOption = False,
    show_secrets: SecretsOption = False,
    codex_home: HomeOption = None,
    store: StoreOption = None,
) -> None:
    """Show what a snapshot changed compared with the snapshot before it.

    Example: codexsnap show 1a2b3c4d
    """
    from codexsnap.commands.show import show as run_show

    home, location = locate(codex_home, store)
    warn_pending(home, location)
    result = run_show(home.path, location.path, snapshot_id, show_secrets=show_secrets)
    if json_output:
        typer.echo(
            dump_json(
                {
                    **snapshot_json(result.snapshot),
                    "files_total": result.files_total,
                    **report_json(result.report),
                }
            ),
            nl=False,
        )
        return
    typer.echo(snapshot_line(result.snapshot))
    if result.report.empty:
        typer.echo("No file changed.")
    echo_report(result.report)


def diff(
    old_id: OldIdArgument = None,
    new_id: NewIdArgument = None,
    stat: StatOption = False,
    json_output: JsonOption = False,
    show_secrets: SecretsOption = False,
    codex_home: HomeOption = None,
    store: StoreOption = None,
) -> None:
    """Compare the live home with a snapshot, or two snapshots; exit 1 when they differ.

    Example: codexsnap diff --stat
    """
    from codexsnap.commands.diff import diff as run_diff

    home, location = locate(codex_home, store)
    warn_pending(home, location)
    result = run_diff(home.path, location.path, old_id, new_id, show_secrets=show_secrets)
    if json_output:
        typer.echo(
            dump_json(
                {
                    "old": result.old.id,
                    "new": result.new.id if result.new else None,
                    "different": not result.report.empty,
                    **report_json(result.report),
                }
            ),
            nl=False,
        )
    else:
        against = result.new.short_id if result.new else "the live home"
        typer.echo(f"{result.old.short_id} -> {against}:")
        if result.report.empty:
            typer.echo("No difference in the snapshot scope.")
        lines = stat_lines(result.report) if stat else report_text(result.report)
        for line in lines:
            typer.echo(line)
    if not result.report.empty:
        raise typer.Exit(EXIT_DIFFERENT)


def snapshot(
    message: SnapshotMessageOption = "",
    json_output: JsonOption = False,
    codex_home: HomeOption = None,
    store: StoreOption = None,
) -> None:
    """Take a snapshot of the Codex home now (none is made when nothing changed).

    Example: codexsnap snapshot -m "before trying the new plugin"
    """
    from codexsnap.commands.snapshot import snapshot as run_snapshot

    home, location = locate(codex_home, store)
    taken = run_snapshot(home.path, location.path, message)
    echo_recovery(taken.recovery)
    if json_output:
        typer.echo(dump_json({**snapshot_json(taken.snapshot), "created": taken.created}), nl=False)
        return
    if taken.created:
        count = taken.snapshot.files_changed
        typer.echo(
            f"Snapshot {taken.snapshot.short_id}: {count} file{'s' if count != 1 else ''} "
            + (
                "(the first snapshot of this home)."
                if taken.snapshot.parent is None
                else "changed since the last one."
            )
        )
    else:
        typer.echo(
            f"Nothing changed since snapshot {taken.snapshot.short_id}; no new snapshot made."
        )


def prune(
    keep_last: KeepLastOption = None,
    keep_within: KeepWithinOption = None,
    gc: GcOption = False,
    restore: RestoreOption = False,
    dry_run: DryRunOption = False,
    json_output: JsonOption = False,
    codex_home: HomeOption = None,
    store: StoreOption = None,
) -> None:
    """Forget snapshots no rule keeps; pinned ones and the last change's pair always stay.

    Pruned snapshots stay recoverable (history --all, rollback, prune --restore) until
    prune --gc deletes them and their data.
    Example: codexsnap prune --keep-last 50 --keep-within 30d
    """
    from codexsnap.commands.prune import prune as run_prune

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
    if json_output:
        typer.echo(
            dump_json(
                {
                    "dry_run": result.dry_run,
                    "pruned": [snapshot_json(s) for s in result.marked],
                    "kept": result.kept,
                    "collected": result.collected,
                    "restored": result.restored,
                }
            ),
            nl=False,
        )
        return
    if restore:
        typer.echo(
            f"{'Would bring' if dry_run else 'Brought'} back "
            f"{plural(result.restored, 'pruned snapshot')}."
        )
        return
    for snap in result.marked:
        typer.echo(snapshot_line(snap))
    verb = "Would prune" if dry_run else "Pruned"
    if result.marked or not gc:
        typer.echo(f"{verb} {plural(len(result.marked), 'snapshot')}; {result.kept} kept.")
    if result.collected:
        typer.echo(f"Deleted {plural(result.collected, 'pruned snapshot')} from disk for good.")
    elif gc:
        typer.echo("No pruned snapshot to delete.")
    elif result.marked and not dry_run:
        typer.echo("They stay recoverable until 'codexsnap prune --gc'.")


def pin(
    snapshot_id: SnapshotIdArgument,
    message: PinMessageOption = "",
    codex_home: HomeOption = None,
    store: StoreOption = None,
) -> None:
    """Keep a snapshot whatever prune's policy says.

    Example: codexsnap pin 1a2b3c4d -m "last known good"
    """
    from codexsnap.commands.marks import pin as run_pin

    home, location = locate(codex_home, store)
    snap = run_pin(home.path, location.path, snapshot_id, message)
    typer.echo(f"Pinned {snap.short_id}.")


def unpin(
    snapshot_id: SnapshotIdArgument,
    codex_home: HomeOption = None,
    store: StoreOption = None,
) -> None:
    """Let prune's policy decide about a snapshot again.

    Example: codexsnap unpin 1a2b3c4d
    """
    from codexsnap.commands.marks import unpin as run_unpin

    home, location = locate(codex_home, store)
    snap = run_unpin(home.path, location.path, snapshot_id)
    typer.echo(f"Unpinned {snap.short_id}.")


def note(
    snapshot_id: SnapshotIdArgument,
    text: NoteTextArgument,
    codex_home: HomeOption = None,
    store: StoreOption = None,
) -> None:
    """Attach a note to a snapshot; history shows it.

    Example: codexsnap note 1a2b3c4d "projects still there here"
    """
    from codexsnap.commands.marks import note as run_note

    home, location = locate(codex_home, store)
    snap = run_note(home.path, location.path, snapshot_id, text)
    typer.echo(
        f"Noted {snap.short_id}." if text.strip() else f"Removed the note of {snap.short_id}."
    )
