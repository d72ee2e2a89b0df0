"""Commands that diagnose and repair: fix, doctor, recipes, demo."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from codexsnap.cli.console import asked, confirmer, echo_report, paint_status
from codexsnap.cli.locate import echo_recovery, locate, log_folders
from codexsnap.cli.options import (
    CleanOption,
    DryRunOption,
    ForceOption,
    HomeOption,
    JsonOption,
    KeepOption,
    LogsOption,
    OnlyRevokedOption,
    RecipeArgument,
    ResetOption,
    SecretsOption,
    StoreOption,
    WithDbOption,
    YesOption,
)
from codexsnap.cli.text import location_flags, plural
from codexsnap.errors import EXIT_DIFFERENT, UnknownRecipeError
from codexsnap.home import color_allowed
from codexsnap.recipes import RecipeOptions, all_recipes, get_recipe
from codexsnap.render import dump_json

if TYPE_CHECKING:
    from codexsnap.doctor import Check


def check_recipe_options(recipe_name: str, options: RecipeOptions) -> None:
    recipe = get_recipe(recipe_name)
    for name, on in vars(options).items():
        if on and name not in recipe.options:
            raise UnknownRecipeError(
                f"--{name.replace('_', '-')} does not apply to the {recipe.name} recipe",
                hint="Run 'codexsnap recipes' to see each recipe's options.",
            )


def fix(
    recipe: RecipeArgument = "remote-control",
    clean: CleanOption = False,
    reset: ResetOption = False,
    only_revoked: OnlyRevokedOption = False,
    with_db: WithDbOption = False,
    logs: LogsOption = None,
    dry_run: DryRunOption = False,
    yes: YesOption = False,
    force: ForceOption = False,
    json_output: JsonOption = False,
    show_secrets: SecretsOption = False,
    codex_home: HomeOption = None,
    store: StoreOption = None,
) -> None:
    """Repair the Codex home with a recipe (default: remote-control), snapshotting around it.

    Example: codexsnap fix --dry-run, then codexsnap fix.
    """
    from codexsnap.commands.fix import fix as run_fix

    home, location = locate(codex_home, store)
    options = RecipeOptions(clean=clean, reset=reset, only_revoked=only_revoked, with_db=with_db)
    check_recipe_options(recipe, options)
    if logs and not only_revoked:
        raise UnknownRecipeError(
            "--logs is read only with --only-revoked",
            hint="Add --only-revoked, or drop --logs.",
        )
    result = run_fix(
        home.path,
        location.path,
        recipe,
        options,
        dry_run=dry_run,
        force=force,
        show_secrets=show_secrets,
        confirm=confirmer(yes, json_output),
        log_folders=log_folders(logs) if only_revoked else [],
    )
    echo_recovery(result.recovery, result.recovery_pending)
    flags = location_flags(home, location)
    # Undo what the fix wrote, and only that: Codex may have written other files since.
    written = "".join(f" --path {shlex.quote(p)}" for p in result.restorable)
    undo = (
        f"codexsnap rollback {result.snapshot_before.short_id}{written}{flags}"
        if result.snapshot_before and result.restorable
        else None
    )
    if json_output:
        typer.echo(
            dump_json(
                {
                    "recipe": result.recipe,
                    "home": str(result.home),
                    "dry_run": result.dry_run,
                    "changed": result.changed,
                    "snapshot_before": result.snapshot_before.id
                    if result.snapshot_before
                    else None,
                    "snapshot_after": result.snapshot_after.id if result.snapshot_after else None,
                    "drift_snapshot": result.drift.id if result.drift else None,
                    "changes": result.report.to_list(),
                    "next_steps": list(result.next_steps) if result.changed else [],
                    "undo": undo,
                }
            ),
            nl=False,
        )
        return
    if result.report.empty:
        typer.echo(f"Nothing to fix: {result.recipe} found nothing to change in {home.path}.")
        return
    heading = f"{'Would change' if dry_run else 'Changed'} ({result.recipe}, {home.path})"
    if dry_run or not asked(yes, json_output):
        typer.echo(heading + ":")
        echo_report(result.report)
    else:  # the prompt showed the report already
        typer.echo(f"{heading}: {plural(len(result.report.files), 'file')}.")
    if reset:
        typer.echo(
            "\nNote: --reset removes both global-state files; Codex starts with empty state "
            "(no projects, no drafts). Their content is kept in the snapshot before."
        )
    if dry_run:
        switches = "".join(
            f" --{name.replace('_', '-')}" for name, on in vars(options).items() if on
        )
        switches += "".join(f" --logs {shlex.quote(str(d))}" for d in logs or [])
        typer.echo(
            f"\nDry run: nothing was written. Run 'codexsnap fix {result.recipe}"
            f"{switches}{flags}' to apply."
        )
        return
    assert result.snapshot_before and result.snapshot_after
    if result.drift:
        typer.echo(f"\nChanges made outside codexsnap were saved first as {result.drift.short_id}.")
    typer.echo(f"\nSnapshot before: {result.snapshot_before.short_id}")
    typer.echo(f"Snapshot after:  {result.snapshot_after.short_id}")
    typer.echo("\nNext steps:")
    for number, step in enumerate(result.next_steps, start=1):
        typer.echo(f"  {number}. {step}")
    if undo is None:
        typer.echo(
            "\nOnly runtime files were removed; snapshots never keep them, since Codex "
            "recreates them: there is nothing to undo."
        )
    else:
        typer.echo(f"\nTo undo: {undo}\n   (same as: codexsnap undo{flags})")


def doctor(
    logs: LogsOption = None,
    json_output: JsonOption = False,
    codex_home: HomeOption = None,
    store: StoreOption = None,
) -> None:
    """Check the home, the store and the desktop logs, changing nothing; exit 1 on a problem.

    Example: codexsnap doctor --logs ~/Downloads/codex-logs
    """
    from codexsnap.commands.doctor import doctor as run_doctor

    home, location = locate(codex_home, store)
    result = run_doctor(home, location.path, logs or [])
    cures = cure_lines(result.checks, location_flags(home, location), logs or [])
    if json_output:
        typer.echo(
            dump_json(
                {
                    "home": str(home.path),
                    "home_source": home.source,
                    "store": str(location.path),
                    "log_folders": [str(folder) for folder in result.log_folders],
                    "healthy": result.healthy,
                    "problems": result.problems,
                    "warnings": result.warnings,
                    "checks": [
                        {**check.to_dict(), "cure": cure}
                        for check, cure in zip(result.checks, cures, strict=True)
                    ],
                }
            ),
            nl=False,
        )
    else:
        typer.echo(f"Codex home: {home.path} (from {home.source})")
        colored = color_allowed()
        width = max(len(check.name) for check in result.checks)
        for check, cure in zip(result.checks, cures, strict=True):
            status = paint_status(check.status) if colored else f"{check.status:<7}"
            line = f"{status}  {check.name:<{width}}  {check.evidence}"
            typer.echo(line + (f"\n{'':<{width + 11}}cure: {cure}" if cure else ""))
        counts = f"{plural(result.problems, 'problem')}, {plural(result.warnings, 'warning')}"
        if result.healthy:
            typer.echo(f"\nHealthy: {counts}.")
        else:
            typer.echo(f"\n{counts}: apply the cures above, then run 'codexsnap doctor' again.")
    if not result.healthy:
        raise typer.Exit(EXIT_DIFFERENT)


def cure_lines(checks: Sequence[Check], where_flags: str, logs: Sequence[Path]) -> list[str | None]:
    """Each check's cure as the user types it: with this run's location flags and --logs."""
    from codexsnap.doctor import render_cure

    logs_flags = "".join(f" --logs {shlex.quote(str(folder))}" for folder in logs)
    return [
        None if check.remedy is None else render_cure(check.remedy, where_flags, logs_flags)
        for check in checks
    ]


def recipes(json_output: JsonOption = False) -> None:
    """List the repair recipes, what each cures, its options and the issues it cites.

    Example: codexsnap recipes --json
    """
    found = all_recipes().values()
    if json_output:
        typer.echo(
            dump_json(
                [
                    {
                        "name": r.name,
                        "summary": r.summary,
                        "options": sorted(f"--{o.replace('_', '-')}" for o in r.options),
                        "cites": [f"openai/codex{c}" for c in r.cites],
                    }
                    for r in found
                ]
            ),
            nl=False,
        )
        return
    for r in found:
        options = " ".join(sorted(f"--{o.replace('_', '-')}" for o in r.options))
        typer.echo(f"{r.name:<22} {r.summary}")
        typer.echo(f"{'':<22} options: {options or '-'}; cites openai/codex {', '.join(r.cites)}")


def demo(
    keep: KeepOption = False,
) -> None:
    """Try codexsnap on a realistic broken Codex home in a temporary folder; yours is untouched.

    It runs doctor, fix, history and undo on that copy, as you would on your own home.

    Example: codexsnap demo --keep
    """
    import shutil
    import tempfile

    from codexsnap.cli.app import app
    from codexsnap.commands.demo import STEPS, prepare_demo

    root = Path(tempfile.mkdtemp(prefix="codexsnap-demo-"))
    try:
        place = prepare_demo(root)
        where = ["--codex-home", str(place.home), "--store", str(place.store)]
        typer.echo(f"A broken Codex home was built in {place.home}.")
        for number, (title, args) in enumerate(STEPS, start=1):
            typer.echo(f"\n== {number}. {title}\n$ codexsnap {' '.join(args)}\n")
            extra = ["--logs", str(place.logs)] if args[0] == "doctor" else []
            # --force: the demo home is not the one a running Codex app uses.
            forced = ["--force"] if args[0] in ("fix", "undo") else []
            app([*args, *where, *extra, *forced], standalone_mode=False)
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
