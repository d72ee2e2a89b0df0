"""Commands that restore and recover: rollback, undo, recover, check."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from codexsnap.commands.rollback import RollbackResult

from codexsnap.cli.console import asked, confirmer, echo_report
from codexsnap.cli.locate import echo_recovery, locate
from codexsnap.cli.options import (
    DryRunOption,
    ForceOption,
    HomeOption,
    JsonOption,
    KeyOption,
    PathOption,
    RollbackIdArgument,
    SecretsOption,
    StoreOption,
    ToDirOption,
    YesOption,
)
from codexsnap.cli.text import location_flags, plural, recovery_text
from codexsnap.errors import EXIT_DIFFERENT, HomeNotFoundError, UsageError
from codexsnap.home import CodexHome, StoreLocation, find_codex_home, find_store_location
from codexsnap.render import dump_json


def rollback(
    snapshot_id: RollbackIdArgument,
    path: PathOption = None,
    key: KeyOption = None,
    to_dir: ToDirOption = None,
    dry_run: DryRunOption = False,
    yes: YesOption = False,
    force: ForceOption = False,
    json_output: JsonOption = False,
    show_secrets: SecretsOption = False,
    codex_home: HomeOption = None,
    store: StoreOption = None,
) -> None:
    """Restore the home to a snapshot, byte for byte; the rollback itself can be undone.

    Examples: codexsnap rollback 1a2b3c4d;
    codexsnap rollback 1a2b --key local-projects --path .codex-global-state.json
    """
    from codexsnap.commands.partial import home_relative
    from codexsnap.commands.rollback import export_snapshot
    from codexsnap.commands.rollback import rollback as run_rollback

    home, location = locate(codex_home, store)
    if to_dir is not None:
        if dry_run or path or key:
            raise UsageError(
                "--to-dir writes the whole snapshot elsewhere; it takes no --dry-run, "
                "--path or --key",
                hint="Drop those options, or drop --to-dir to restore into the home.",
            )
        count = export_snapshot(home.path, location.path, snapshot_id, to_dir)
        if json_output:
            typer.echo(dump_json({"to_dir": str(to_dir.resolve()), "files": count}), nl=False)
        else:
            typer.echo(f"Wrote {plural(count, 'file')} of {snapshot_id} into {to_dir}.")
        return
    result = run_rollback(
        home.path,
        location.path,
        snapshot_id,
        dry_run=dry_run,
        force=force,
        show_secrets=show_secrets,
        confirm=confirmer(yes, json_output),
        paths=[home_relative(home.path, p) for p in path or []],
        key=key,
    )
    echo_recovery(result.recovery, result.recovery_pending)
    render_rollback(result, home, location, dry_run, yes, json_output)


def undo(
    dry_run: DryRunOption = False,
    yes: YesOption = False,
    force: ForceOption = False,
    json_output: JsonOption = False,
    show_secrets: SecretsOption = False,
    codex_home: HomeOption = None,
    store: StoreOption = None,
) -> None:
    """Put back the files the last fix or rollback wrote; run it again to undo the undo.

    Example: codexsnap undo --dry-run
    """
    from codexsnap.commands.undo import undo as run_undo

    home, location = locate(codex_home, store)
    result = run_undo(
        home.path,
        location.path,
        dry_run=dry_run,
        force=force,
        show_secrets=show_secrets,
        confirm=confirmer(yes, json_output),
    )
    echo_recovery(result.recovery, result.recovery_pending)
    render_rollback(result, home, location, dry_run, yes, json_output)


def render_rollback(
    result: RollbackResult,
    home: CodexHome,
    location: StoreLocation,
    dry_run: bool,
    yes: bool,
    json_output: bool,
) -> None:
    flags = location_flags(home, location)
    undo = (
        f"codexsnap rollback {result.snapshot_before.short_id}{flags}"
        if result.snapshot_before
        else None
    )
    if json_output:
        typer.echo(
            dump_json(
                {
                    "target": result.target.id,
                    "dry_run": result.dry_run,
                    "changed": result.changed,
                    "snapshot_before": result.snapshot_before.id
                    if result.snapshot_before
                    else None,
                    "snapshot_after": result.snapshot_after.id if result.snapshot_after else None,
                    "drift_snapshot": result.drift.id if result.drift else None,
                    "changes": result.report.to_list(),
                    "undo": undo,
                }
            ),
            nl=False,
        )
        return
    if result.report.empty:
        typer.echo(f"Nothing to do: the home already matches {result.target.short_id}.")
        return
    verb = "Would restore" if dry_run else "Restored"
    typer.echo(f"{verb} {result.target.short_id} ({result.target.summary}):")
    if dry_run or not asked(yes, json_output):  # else the prompt showed it already
        echo_report(result.report)
    if dry_run:
        typer.echo("\nDry run: nothing was written.")
        return
    if result.drift:
        typer.echo(f"\nChanges made outside codexsnap were saved first as {result.drift.short_id}.")
    typer.echo(
        f"\nTo undo this rollback: {undo}\n"
        f"   (or: codexsnap undo{flags}, which puts back only the files this rollback wrote)"
    )


def recover(
    force: ForceOption = False,
    codex_home: HomeOption = None,
    store: StoreOption = None,
) -> None:
    """Undo the half-done writes of a killed codexsnap run (fix, rollback, undo and snapshot
    do it first too).

    Example: codexsnap recover
    """
    from codexsnap.commands.recover import recover as run_recover

    home, location = locate(codex_home, store)
    done = run_recover(home.path, location.path, force=force, wait=True)
    typer.echo(recovery_text(done) if done else "Nothing to recover.")


def check(
    json_output: JsonOption = False,
    store: StoreOption = None,
    codex_home: HomeOption = None,
) -> None:
    """Verify the store (git fsck, manifests, stored databases); exit 1 when damaged.

    Example: codexsnap check --json

    Damaged snapshots are quarantined: kept, listed, and refused by rollback.
    """
    from codexsnap.commands.check import check as run_check

    try:
        home: CodexHome | None = find_codex_home(codex_home)
    except HomeNotFoundError:
        home = None  # the store can be checked without the home it serves
    location = find_store_location(store, home)
    result = run_check(location.path)
    if json_output:
        typer.echo(
            dump_json(
                {
                    "damaged": result.damaged,
                    "snapshots_checked": result.snapshots_checked,
                    "databases_checked": result.databases_checked,
                    "findings": [f.to_dict() for f in result.findings],
                    "quarantined": list(result.quarantined),
                }
            ),
            nl=False,
        )
    else:
        for finding in result.findings:
            where = f"{finding.snapshot[:10]}: " if finding.snapshot else ""
            typer.echo(f"{finding.severity}: {where}{finding.message}")
        for snapshot_id in result.quarantined:
            typer.echo(f"quarantined {snapshot_id[:10]} (kept; rollback refuses it)")
        verdict = "DAMAGED" if result.damaged else "ok"
        typer.echo(
            f"Store {location.path}: {verdict} ({result.snapshots_checked} snapshots, "
            f"{result.databases_checked} databases checked)."
        )
    if result.damaged:
        raise typer.Exit(EXIT_DIFFERENT)
