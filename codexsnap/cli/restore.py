"""Commands that restore and recover: rollback, undo, recover, check."""

from __future__ import annotations

from typing import Annotated

import typer

from codexsnap.cli import json_output, lean, text
from codexsnap.cli.console import (
    confirmer,
    echo_json,
    echo_text,
)
from codexsnap.cli.locate import announce_recovery, locate, sqlite_root
from codexsnap.cli.options import (
    DryRunOption,
    ForceOption,
    HomeOption,
    JsonOption,
    KeyOption,
    PathOption,
    RollbackIdArgument,
    SecretsOption,
    SqliteHomeOption,
    StoreOption,
    ToDirOption,
    YesOption,
)
from codexsnap.errors import EXIT_DIFFERENT, HomeNotFoundError
from codexsnap.home import CodexHome, find_codex_home, find_store_location


def rollback(
    snapshot_id: RollbackIdArgument,
    path: PathOption = None,
    key: KeyOption = None,
    to_dir: ToDirOption = None,
    dry_run: DryRunOption = False,
    yes: YesOption = False,
    force: ForceOption = False,
    as_json: JsonOption = False,
    show_secrets: SecretsOption = False,
    codex_home: HomeOption = None,
    codex_sqlite_home: SqliteHomeOption = None,
    store: StoreOption = None,
) -> None:
    """Restore the home to a snapshot, byte for byte; the rollback itself can be undone.

    Examples: codexsnap rollback 1a2b3c4d;
    codexsnap rollback 1a2b --key local-projects --path .codex-global-state.json
    """
    lean.rollback(
        snapshot_id,
        tuple(path or ()),
        key,
        to_dir,
        dry_run,
        yes,
        force,
        as_json,
        show_secrets,
        codex_home,
        codex_sqlite_home,
        store,
    )


def undo(
    dry_run: DryRunOption = False,
    yes: YesOption = False,
    force: ForceOption = False,
    as_json: JsonOption = False,
    show_secrets: SecretsOption = False,
    codex_home: HomeOption = None,
    codex_sqlite_home: SqliteHomeOption = None,
    store: StoreOption = None,
) -> None:
    """Put back the files the last fix or rollback wrote; run it again to undo the undo.

    Example: codexsnap undo --dry-run
    """
    from codexsnap.commands.undo import undo as run_undo

    home, location = locate(codex_home, store)
    sqlite, sqlite_flag = sqlite_root(home, codex_sqlite_home)
    flags = text.location_flags(home, location) + sqlite_flag
    result = run_undo(
        home.path,
        location.path,
        dry_run=dry_run,
        force=force,
        show_secrets=show_secrets,
        confirm=confirmer(yes, as_json, home.path, flags),
        sqlite_home=sqlite,
        on_recovery=announce_recovery,
    )
    lean.echo_restored(result, flags, yes, as_json)


def recover(
    force: ForceOption = False,
    codex_home: HomeOption = None,
    codex_sqlite_home: SqliteHomeOption = None,
    store: StoreOption = None,
) -> None:
    """Undo the half-done writes of a killed codexsnap run (fix, rollback, undo and snapshot
    do it first too).

    Example: codexsnap recover
    """
    from codexsnap.commands.recover import recover as run_recover

    home, location = locate(codex_home, store)
    sqlite = sqlite_root(home, codex_sqlite_home)[0]
    done = run_recover(home.path, location.path, force=force, wait=True, sqlite_home=sqlite)
    typer.echo(text.recovery_text(done) if done else "Nothing to recover.")


def check(
    as_json: JsonOption = False,
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="First write back stored files that are missing or corrupt from the Codex "
            "home, where it still holds the same bytes.",
        ),
    ] = False,
    store: StoreOption = None,
    codex_home: HomeOption = None,
    codex_sqlite_home: SqliteHomeOption = None,
) -> None:
    """Verify the store (git fsck, manifests, stored databases); exit 1 when damaged.

    Example: codexsnap check --json

    Damaged snapshots are quarantined: kept, listed, and refused by rollback; a snapshot
    with damaged files still restores its other files.
    """
    from codexsnap.commands.check import check as run_check
    from codexsnap.commands.check import repair as run_repair

    try:
        home: CodexHome | None = find_codex_home(codex_home)
    except HomeNotFoundError:
        home = None  # the store can be checked without the home it serves
    location = find_store_location(store, home)
    del codex_sqlite_home  # taken by every command, so one set of flags works everywhere
    if repair:
        if home is None:
            home = find_codex_home(codex_home)  # raises: repairing needs the home's files
        for path in run_repair(location.path, home.path):
            typer.echo(f"repaired {path} from the Codex home", err=as_json)
    result = run_check(location.path)
    if as_json:
        echo_json(json_output.store_check_json(result))
    else:
        echo_text(text.check_text(result, location.path))
    if result.damaged:
        raise typer.Exit(EXIT_DIFFERENT)
