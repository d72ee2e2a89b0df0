"""Commands that diagnose and repair: fix, doctor, recipes, demo."""

from __future__ import annotations

import shlex
from pathlib import Path

import typer

from codexsnap.cli import json_output, text
from codexsnap.cli.console import (
    asked,
    confirmer,
    echo_json,
    echo_pending,
    echo_text,
    echo_warnings,
    status_painter,
)
from codexsnap.cli.locate import announce_recovery, locate, log_folders, sqlite_root
from codexsnap.cli.options import (
    BundleDryRunOption,
    BundleOutOption,
    CleanOption,
    DatabaseArgument,
    DoctorLogsOption,
    DryRunOption,
    ForceOption,
    FromOption,
    HomeOption,
    JsonOption,
    KeepOption,
    LogsOption,
    OnlyRevokedOption,
    ProjectOption,
    RecipeArgument,
    ReplaceBakOption,
    ResetOption,
    SecretsOption,
    SqliteHomeOption,
    StoreOption,
    ThreadsOption,
    WithDbOption,
    YesOption,
)
from codexsnap.errors import EXIT_DIFFERENT, EXIT_INTERRUPTED, UnknownRecipeError, UsageError


def fix(
    recipe: RecipeArgument = "remote-control",
    database: DatabaseArgument = None,
    clean: CleanOption = False,
    reset: ResetOption = False,
    only_revoked: OnlyRevokedOption = False,
    with_db: WithDbOption = False,
    replace_bak: ReplaceBakOption = False,
    threads: ThreadsOption = False,
    project: ProjectOption = None,
    source: FromOption = None,
    logs: LogsOption = None,
    dry_run: DryRunOption = False,
    yes: YesOption = False,
    force: ForceOption = False,
    as_json: JsonOption = False,
    show_secrets: SecretsOption = False,
    codex_home: HomeOption = None,
    codex_sqlite_home: SqliteHomeOption = None,
    store: StoreOption = None,
) -> None:
    """Repair the Codex home with a recipe (default: remote-control), snapshotting around it.

    Example: codexsnap fix --dry-run, then codexsnap fix.
    """
    from codexsnap.commands.fix import fix as run_fix
    from codexsnap.recipes import RecipeOptions  # with the recipes, when one runs

    home, location = locate(codex_home, store)
    sqlite, sqlite_flag = sqlite_root(home, codex_sqlite_home)
    flags = text.location_flags(home, location) + sqlite_flag
    options = RecipeOptions(
        clean=clean,
        reset=reset,
        only_revoked=only_revoked,
        with_db=with_db,
        replace_bak=replace_bak,
        threads=threads,
        project=project,
        source=source,
        database=database,
    )
    if logs and not only_revoked:
        raise UnknownRecipeError(
            "--logs is read only with --only-revoked", hint="Add --only-revoked, or drop --logs."
        )
    result = run_fix(
        home.path,
        location.path,
        recipe,
        options,
        dry_run=dry_run,
        force=force,
        show_secrets=show_secrets,
        confirm=confirmer(yes, as_json, home.path, flags),
        log_folders=log_folders(logs) if only_revoked else [],
        sqlite_home=sqlite,
        on_recovery=announce_recovery,
    )
    echo_pending(result.recovery_pending)
    echo_warnings(result.warnings)
    if as_json:
        return echo_json(json_output.fix_json(result, text.fix_undo(result, flags)))
    shown = asked(yes, as_json)
    echo_text(text.fix_text(result, home.path, options, logs or [], flags, shown))


def doctor(
    logs: DoctorLogsOption = None,
    as_json: JsonOption = False,
    codex_home: HomeOption = None,
    codex_sqlite_home: SqliteHomeOption = None,
    store: StoreOption = None,
) -> None:
    """Check the home, the store and the desktop logs, changing nothing; exit 1 on a problem.

    Example: codexsnap doctor --logs ~/Downloads/codex-logs
    """
    from codexsnap.commands.doctor import doctor as run_doctor

    home, location = locate(codex_home, store)
    result = run_doctor(home, location.path, logs or [], sqlite_option=codex_sqlite_home)
    flags = text.location_flags(home, location) + sqlite_root(home, codex_sqlite_home)[1]
    cures = text.cure_lines(result.checks, flags, logs or [])
    if as_json:
        echo_json(json_output.doctor_json(home, location.path, result, cures))
    else:
        echo_text(text.doctor_text(home, result, cures, status_painter()))
    if not result.healthy:
        raise typer.Exit(EXIT_DIFFERENT)


def bundle(
    out: BundleOutOption = None,
    dry_run: BundleDryRunOption = False,
    logs: DoctorLogsOption = None,
    codex_home: HomeOption = None,
    codex_sqlite_home: SqliteHomeOption = None,
    store: StoreOption = None,
) -> None:
    """Write one redacted file to attach to an issue or send to whoever helps you.

    It holds versions, the doctor report, recent history, the scope, the store check, log
    lines around remote-control errors and the databases' layout; never a token, id, e-mail,
    prompt or draft. Read it first with --dry-run.
    Example: codexsnap bundle --out ~/codexsnap-bundle.md
    """
    from datetime import datetime

    from codexsnap.atomic_io import atomic_write
    from codexsnap.cli.bundle_text import bundle_summary, bundle_text
    from codexsnap.commands.bundle import bundle as run_bundle

    home, location = locate(codex_home, store)
    facts = run_bundle(home, location.path, logs or [], sqlite_option=codex_sqlite_home)
    flags = text.location_flags(home, location) + sqlite_root(home, codex_sqlite_home)[1]
    content = bundle_text(facts, home, text.cure_lines(facts.doctor.checks, flags, logs or []))
    if dry_run:
        typer.echo(content, nl=False)
        typer.echo(f"Dry run: nothing was written. It holds {bundle_summary(facts)}.", err=True)
        return
    target = (out or Path(f"codexsnap-bundle-{datetime.now():%Y%m%d-%H%M%S}.md")).expanduser()
    if target.is_dir():
        raise UsageError(f"--out {target} is a folder", hint="Give a file name.")
    atomic_write(target.absolute(), content.encode("utf-8"), 0o600)
    typer.echo(f"Wrote {target} ({len(content.splitlines())} lines): {bundle_summary(facts)}.")
    typer.echo("It is redacted; read it before you send it ('--dry-run' prints it).")


def recipes(as_json: JsonOption = False) -> None:
    """List the repair recipes, what each cures, its options and the issues it cites.

    Example: codexsnap recipes --json
    """
    from codexsnap.recipes import all_recipes

    found = all_recipes().values()
    if as_json:
        return echo_json(json_output.recipes_json(found))
    echo_text(text.recipes_text(found))


def demo(keep: KeepOption = False) -> None:
    """Try codexsnap on a realistic broken Codex home in a temporary folder; yours is untouched.

    It runs doctor, fix, history and undo on that copy, as you would on your own home.

    Example: codexsnap demo --keep
    """
    import shutil
    import tempfile

    from codexsnap.cli.app import app
    from codexsnap.commands.demo import STEPS, prepare_demo
    from codexsnap.home import sealed

    root = Path(tempfile.mkdtemp(prefix="codexsnap-demo-"))
    try:
        place = prepare_demo(root)
        # Sealed off from this machine: no real desktop log folder, no running Codex, and the
        # demo's own databases whatever CODEX_SQLITE_HOME says.
        where = [
            "--codex-home",
            str(place.home),
            "--store",
            str(place.store),
            "--codex-sqlite-home",
            str(place.home / "sqlite"),
        ]
        typer.echo(f"A broken Codex home was built in {place.home}.")
        with sealed(root):
            for number, (title, args) in enumerate(STEPS, start=1):
                typer.echo(f"\n== {number}. {title}\n$ codexsnap {' '.join(args)}\n")
                extra = ["--logs", str(place.logs)] if args[0] == "doctor" else []
                code = app([*args, *where, *extra], standalone_mode=False)
                if code == EXIT_INTERRUPTED:
                    # Ctrl-C in a step: that step said what it left; the demo ends there.
                    raise typer.Exit(EXIT_INTERRUPTED)
        typer.echo("\nYour own Codex home was not touched. On it, start with: codexsnap doctor")
        if keep:
            typer.echo(
                f"\nThe demo stays in {root}; use it with "
                f"--codex-home {shlex.quote(str(place.home))} "
                f"--store {shlex.quote(str(place.store))}"
            )
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
