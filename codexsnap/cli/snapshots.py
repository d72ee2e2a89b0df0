"""Commands about snapshots: history, show, diff, snapshot, prune, pin, unpin, note."""

from __future__ import annotations

from typing import Annotated

import typer

from codexsnap.cli import (
    DryRunOption,
    HomeOption,
    JsonOption,
    SecretsOption,
    StoreOption,
    app,
    echo_report,
    handled,
    locate,
    plural,
    recover_first,
    warn_pending,
)
from codexsnap.cli.terminal import history_table, plain_history
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


@app.command()
def history(
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", min=1, help="Show at most N snapshots.")
    ] = None,
    include_pruned: Annotated[
        bool, typer.Option("--all", help="Also list pruned snapshots (until prune --gc).")
    ] = False,
    json_output: JsonOption = False,
    codex_home: HomeOption = None,
    store: StoreOption = None,
) -> None:
    """List the snapshots of this Codex home, newest first, with pins and notes.

    Example: codexsnap history -n 10
    """
    from codexsnap.commands.history import history as run_history

    with handled():
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


@app.command()
def show(
    snapshot_id: Annotated[str, typer.Argument(metavar="ID", help="Snapshot id or prefix.")],
    json_output: JsonOption = False,
    show_secrets: SecretsOption = False,
    codex_home: HomeOption = None,
    store: StoreOption = None,
) -> None:
    """Show what a snapshot changed compared with the snapshot before it.

    Example: codexsnap show 1a2b3c4d
    """
    from codexsnap.commands.show import show as run_show

    with handled():
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


@app.command()
def diff(
    old_id: Annotated[
        str | None, typer.Argument(metavar="ID", help="Snapshot to compare (default: the latest).")
    ] = None,
    new_id: Annotated[
        str | None,
        typer.Argument(metavar="ID2", help="Second snapshot (default: the live home)."),
    ] = None,
    stat: Annotated[bool, typer.Option("--stat", help="One line per file.")] = False,
    json_output: JsonOption = False,
    show_secrets: SecretsOption = False,
    codex_home: HomeOption = None,
    store: StoreOption = None,
) -> None:
    """Compare the live home with a snapshot, or two snapshots; exit 1 when they differ.

    Example: codexsnap diff --stat
    """
    from codexsnap.commands.diff import diff as run_diff

    with handled():
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


@app.command()
def snapshot(
    message: Annotated[
        str,
        typer.Option(
            "--message",
            "-m",
            help="A note kept with it; with a note, a snapshot is made even if nothing changed.",
        ),
    ] = "",
    json_output: JsonOption = False,
    codex_home: HomeOption = None,
    store: StoreOption = None,
) -> None:
    """Take a snapshot of the Codex home now (none is made when nothing changed).

    Example: codexsnap snapshot -m "before trying the new plugin"
    """
    from codexsnap.commands.snapshot import snapshot as run_snapshot

    with handled():
        home, location = locate(codex_home, store)
        recover_first(home, location, force=False)
        taken = run_snapshot(home.path, location.path, message)
        if json_output:
            typer.echo(
                dump_json({**snapshot_json(taken.snapshot), "created": taken.created}), nl=False
            )
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


@app.command()
def prune(
    keep_last: Annotated[
        int | None, typer.Option("--keep-last", min=1, metavar="N", help="Keep the newest N.")
    ] = None,
    keep_within: Annotated[
        str | None,
        typer.Option(
            "--keep-within", metavar="AGE", help="Keep those newer than AGE (12h, 30d, 4w)."
        ),
    ] = None,
    gc: Annotated[
        bool, typer.Option("--gc", help="Delete pruned snapshots from disk for good.")
    ] = False,
    restore: Annotated[
        bool, typer.Option("--restore", help="Bring back every pruned snapshot (before --gc).")
    ] = False,
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

    with handled():
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


@app.command()
def pin(
    snapshot_id: Annotated[str, typer.Argument(metavar="ID", help="Snapshot id or prefix.")],
    message: Annotated[str, typer.Option("--message", "-m", help="Why it is kept.")] = "",
    codex_home: HomeOption = None,
    store: StoreOption = None,
) -> None:
    """Keep a snapshot whatever prune's policy says.

    Example: codexsnap pin 1a2b3c4d -m "last known good"
    """
    from codexsnap.commands.marks import pin as run_pin

    with handled():
        home, location = locate(codex_home, store)
        snap = run_pin(home.path, location.path, snapshot_id, message)
        typer.echo(f"Pinned {snap.short_id}.")


@app.command()
def unpin(
    snapshot_id: Annotated[str, typer.Argument(metavar="ID", help="Snapshot id or prefix.")],
    codex_home: HomeOption = None,
    store: StoreOption = None,
) -> None:
    """Let prune's policy decide about a snapshot again.

    Example: codexsnap unpin 1a2b3c4d
    """
    from codexsnap.commands.marks import unpin as run_unpin

    with handled():
        home, location = locate(codex_home, store)
        snap = run_unpin(home.path, location.path, snapshot_id)
        typer.echo(f"Unpinned {snap.short_id}.")


@app.command()
def note(
    snapshot_id: Annotated[str, typer.Argument(metavar="ID", help="Snapshot id or prefix.")],
    text: Annotated[str, typer.Argument(metavar="TEXT", help="The note; empty removes it.")],
    codex_home: HomeOption = None,
    store: StoreOption = None,
) -> None:
    """Attach a note to a snapshot; history shows it.

    Example: codexsnap note 1a2b3c4d "projects still there here"
    """
    from codexsnap.commands.marks import note as run_note

    with handled():
        home, location = locate(codex_home, store)
        snap = run_note(home.path, location.path, snapshot_id, text)
        typer.echo(
            f"Noted {snap.short_id}." if text.strip() else f"Removed the note of {snap.short_id}."
        )
