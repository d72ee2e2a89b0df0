"""The Typer app: parse options, call a command, render text or --json, map errors to exits."""

from __future__ import annotations

import os
import shlex
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from codexsnap import __version__
from codexsnap.commands import Confirm
from codexsnap.errors import (
    EXIT_BROKEN_PIPE,
    EXIT_DIFFERENT,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    CodexsnapError,
    HomeNotFoundError,
    NotConfirmedError,
    UnknownRecipeError,
)
from codexsnap.home import (
    CodexHome,
    StoreLocation,
    color_allowed,
    debug_requested,
    find_codex_home,
    find_store_location,
    is_interactive,
)
from codexsnap.recipes import RecipeOptions, all_recipes, get_recipe
from codexsnap.render import (
    dump_json,
    report_json,
    report_text,
    snapshot_json,
    snapshot_line,
    stat_lines,
)
from codexsnap.report import DiffReport
from codexsnap.terminal import history_table, paint_report_line, paint_status, plain_history

if TYPE_CHECKING:
    from codexsnap.commands.rollback import RollbackResult
    from codexsnap.operation import Recovery

app = typer.Typer(
    name="codexsnap",
    help="Repair the Codex home folder safely: snapshot, fix, show, roll back.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

HomeOption = Annotated[
    Path | None,
    typer.Option("--codex-home", help="Codex home folder (default: CODEX_HOME, else ~/.codex)."),
]
StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store", help="Snapshot store (default: CODEXSNAP_STORE, else the user data folder)."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
SecretsOption = Annotated[
    bool, typer.Option("--show-secrets", help="Print tokens, keys and ids in full.")
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
LogsOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--logs",
        metavar="DIR",
        help="remote-control --only-revoked: a folder of Codex desktop logs to read too "
        "(repeatable).",
    ),
]
ForceOption = Annotated[bool, typer.Option("--force", help="Go ahead even while Codex is running.")]


def _fail(error: CodexsnapError) -> NoReturn:
    typer.echo(f"Error: {error.message}", err=True)
    if error.hint:
        typer.echo(f"Hint: {error.hint}", err=True)
    raise typer.Exit(error.exit_code)


@contextmanager
def _handled() -> Iterator[None]:
    """The one place where failures become messages and exit codes."""
    try:
        yield
    except typer.Exit:
        raise
    except BrokenPipeError:
        # The reader went away (`codexsnap history | head`): not an error of ours. Point
        # stdout at the null device so the interpreter's final flush stays quiet.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise typer.Exit(EXIT_BROKEN_PIPE) from None
    except CodexsnapError as error:
        _fail(error)
    except (KeyboardInterrupt, typer.Abort):
        typer.echo(
            "\nInterrupted: no file was left half-written; 'codexsnap history' shows what was"
            " recorded.",
            err=True,
        )
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except Exception as error:  # a bug: say so in one line, never dump locals
        typer.echo(f"Error: internal error: {type(error).__name__}: {error}", err=True)
        if debug_requested():
            traceback.print_exception(error, file=sys.stderr)
        else:
            typer.echo("Hint: set CODEXSNAP_DEBUG=1 for details and report it.", err=True)
        raise typer.Exit(EXIT_INTERNAL) from None


def _locate(home_option: Path | None, store_option: Path | None) -> tuple[CodexHome, StoreLocation]:
    home = find_codex_home(home_option)
    return home, find_store_location(store_option, home)


def _recover_first(
    home: CodexHome, location: StoreLocation, force: bool, dry_run: bool = False
) -> None:
    """Undo what a killed run half-wrote before planning anything new on the home."""
    from codexsnap.commands.recover import recover

    if dry_run:  # a dry run writes nothing, not even a recovery
        _warn_pending(home, location)
        return

    done = recover(home.path, location.path, force=force)
    if done is not None:
        typer.echo(_recovery_text(done), err=True)


def _recovery_text(done: Recovery) -> str:
    count = len(done.restored)
    text = (
        f"Recovered an interrupted {done.operation}: put back {count} "
        f"file{'s' if count != 1 else ''}"
    )
    if done.left_alone:
        text += f"; left {', '.join(done.left_alone)} alone (changed since)"
    if done.snapshot is not None:
        text += f"; the home now matches snapshot {done.snapshot.short_id}"
    return text + "."


def _warn_pending(home: CodexHome, location: StoreLocation) -> None:
    from codexsnap.commands.recover import pending

    if pending(home.path, location.path):
        typer.echo(
            "Warning: an interrupted codexsnap run left changes half-done; run "
            "'codexsnap recover' to undo them.",
            err=True,
        )


def _location_flags(home: CodexHome, store: StoreLocation) -> str:
    flags = ""
    if home.source != "default":
        flags += f" --codex-home {shlex.quote(str(home.path))}"
    if store.source != "default":
        flags += f" --store {shlex.quote(str(store.path))}"
    return flags


def _log_folders(extra: list[Path] | None) -> list[Path]:
    from codexsnap.home import default_log_folders

    return [*default_log_folders(), *(extra or [])]


def _check_recipe_options(recipe_name: str, options: RecipeOptions) -> None:
    recipe = get_recipe(recipe_name)
    for name, on in vars(options).items():
        if on and name not in recipe.options:
            raise UnknownRecipeError(
                f"--{name.replace('_', '-')} does not apply to the {recipe.name} recipe",
                hint="Run 'codexsnap recipes' to see each recipe's options.",
            )


def _asked(yes: bool, json_output: bool) -> bool:
    """True when the confirmation prompt (which shows the report) was put to a person."""
    return not yes and not json_output and is_interactive()


def _confirmer(yes: bool, json_output: bool) -> Confirm:
    def confirm(report: DiffReport) -> bool:
        if yes:
            return True
        if json_output or not is_interactive():
            raise NotConfirmedError(
                "not changing anything without confirmation (no terminal to ask on)",
                hint="Add --yes to go ahead, or --dry-run to only see the report.",
            )
        for line in report_text(report):
            typer.echo(line, err=True)
        return typer.confirm("Apply these changes?", default=False, err=True)

    return confirm


def _echo_report(report: DiffReport) -> None:
    colored = color_allowed()
    for line in report_text(report):
        typer.echo(paint_report_line(line) if colored else line)


@app.command()
def fix(
    recipe: Annotated[str, typer.Argument(help="Recipe to run.")] = "remote-control",
    clean: Annotated[
        bool,
        typer.Option(
            "--clean", help="Also forget the selected remote host and remote auto-connect settings."
        ),
    ] = False,
    reset: Annotated[
        bool,
        typer.Option(
            "--reset",
            help="Remove both global-state files from the home; Codex starts from empty "
            "state (their content stays in the before snapshot).",
        ),
    ] = False,
    only_revoked: Annotated[
        bool,
        typer.Option(
            "--only-revoked",
            help="remote-control: remove only the enrollments the logs show revoked.",
        ),
    ] = False,
    with_db: Annotated[
        bool,
        typer.Option(
            "--with-db", help="pairing-reset: also clear remote_control_enrollments rows."
        ),
    ] = False,
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

    with _handled():
        home, location = _locate(codex_home, store)
        _recover_first(home, location, force, dry_run)
        options = RecipeOptions(
            clean=clean, reset=reset, only_revoked=only_revoked, with_db=with_db
        )
        _check_recipe_options(recipe, options)
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
            confirm=_confirmer(yes, json_output),
            log_folders=_log_folders(logs) if only_revoked else [],
        )
        flags = _location_flags(home, location)
        # Undo what the fix wrote, and only that: Codex may have written other files since.
        written = "".join(f" --path {shlex.quote(f.path)}" for f in result.report.files)
        undo = (
            f"codexsnap rollback {result.snapshot_before.short_id}{written}{flags}"
            if result.snapshot_before
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
                        "snapshot_after": result.snapshot_after.id
                        if result.snapshot_after
                        else None,
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
        typer.echo(f"{'Would change' if dry_run else 'Changed'} ({result.recipe}, {home.path}):")
        if dry_run or not _asked(yes, json_output):  # else the prompt showed it already
            _echo_report(result.report)
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
            typer.echo(
                f"\nChanges made outside codexsnap were saved first as {result.drift.short_id}."
            )
        typer.echo(f"\nSnapshot before: {result.snapshot_before.short_id}")
        typer.echo(f"Snapshot after:  {result.snapshot_after.short_id}")
        typer.echo("\nNext steps:")
        for number, step in enumerate(result.next_steps, start=1):
            typer.echo(f"  {number}. {step}")
        typer.echo(f"\nTo undo: {undo}\n   (same as: codexsnap undo{flags})")


@app.command()
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
    from codexsnap.doctor import with_flags

    with _handled():
        home, location = _locate(codex_home, store)
        result = run_doctor(home, location.path, logs or [])
        location_flags = _location_flags(home, location)
        logs_flags = "".join(f" --logs {shlex.quote(str(folder))}" for folder in logs or [])
        cures = [
            with_flags(check.cure, location_flags, logs_flags) if check.cure else None
            for check in result.checks
        ]
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
            counts = f"{_plural(result.problems, 'problem')}, {_plural(result.warnings, 'warning')}"
            if result.healthy:
                typer.echo(f"\nHealthy: {counts}.")
            else:
                typer.echo(f"\n{counts}: apply the cures above, then run 'codexsnap doctor' again.")
        if not result.healthy:
            raise typer.Exit(EXIT_DIFFERENT)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


@app.command()
def recipes(json_output: JsonOption = False) -> None:
    """List the repair recipes, what each cures, its options and the issues it cites."""
    with _handled():
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
            typer.echo(
                f"{'':<22} options: {options or '-'}; cites openai/codex {', '.join(r.cites)}"
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
    """List the snapshots of this Codex home, newest first, with pins and notes."""
    from codexsnap.commands.history import history as run_history

    with _handled():
        home, location = _locate(codex_home, store)
        _warn_pending(home, location)
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
def rollback(
    snapshot_id: Annotated[
        str, typer.Argument(metavar="ID", help="Snapshot id or a unique prefix of 4+ characters.")
    ],
    path: Annotated[
        list[str] | None,
        typer.Option(
            "--path",
            metavar="FILE",
            help="Restore only this file or folder, relative to the home (repeatable).",
        ),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            metavar="KEY",
            help="With one --path to a JSON file: restore only this key (a/b for nested).",
        ),
    ] = None,
    to_dir: Annotated[
        Path | None,
        typer.Option(
            "--to-dir",
            metavar="DIR",
            help="Write the snapshot's files into this new folder instead; the home is untouched.",
        ),
    ] = None,
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

    with _handled():
        home, location = _locate(codex_home, store)
        if to_dir is not None:
            count = export_snapshot(home.path, location.path, snapshot_id, to_dir)
            if json_output:
                typer.echo(dump_json({"to_dir": str(to_dir.resolve()), "files": count}), nl=False)
            else:
                typer.echo(f"Wrote {_plural(count, 'file')} of {snapshot_id} into {to_dir}.")
            return
        _recover_first(home, location, force, dry_run)
        result = run_rollback(
            home.path,
            location.path,
            snapshot_id,
            dry_run=dry_run,
            force=force,
            show_secrets=show_secrets,
            confirm=_confirmer(yes, json_output),
            paths=[home_relative(home.path, p) for p in path or []],
            key=key,
        )
        _render_rollback(result, home, location, dry_run, yes, json_output)


@app.command()
def undo(
    dry_run: DryRunOption = False,
    yes: YesOption = False,
    force: ForceOption = False,
    json_output: JsonOption = False,
    show_secrets: SecretsOption = False,
    codex_home: HomeOption = None,
    store: StoreOption = None,
) -> None:
    """Roll back the last fix or rollback; run it again to undo the undo."""
    from codexsnap.commands.undo import undo as run_undo

    with _handled():
        home, location = _locate(codex_home, store)
        _recover_first(home, location, force, dry_run)
        result = run_undo(
            home.path,
            location.path,
            dry_run=dry_run,
            force=force,
            show_secrets=show_secrets,
            confirm=_confirmer(yes, json_output),
        )
        _render_rollback(result, home, location, dry_run, yes, json_output)


def _render_rollback(
    result: RollbackResult,
    home: CodexHome,
    location: StoreLocation,
    dry_run: bool,
    yes: bool,
    json_output: bool,
) -> None:
    flags = _location_flags(home, location)
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
    if dry_run or not _asked(yes, json_output):  # else the prompt showed it already
        _echo_report(result.report)
    if dry_run:
        typer.echo("\nDry run: nothing was written.")
        return
    if result.drift:
        typer.echo(f"\nChanges made outside codexsnap were saved first as {result.drift.short_id}.")
    typer.echo(f"\nTo undo this rollback: {undo}\n   (same as: codexsnap undo{flags})")


@app.command()
def show(
    snapshot_id: Annotated[str, typer.Argument(metavar="ID", help="Snapshot id or prefix.")],
    json_output: JsonOption = False,
    show_secrets: SecretsOption = False,
    codex_home: HomeOption = None,
    store: StoreOption = None,
) -> None:
    """Show what a snapshot changed compared with the snapshot before it."""
    from codexsnap.commands.show import show as run_show

    with _handled():
        home, location = _locate(codex_home, store)
        _warn_pending(home, location)
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
        _echo_report(result.report)


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

    with _handled():
        home, location = _locate(codex_home, store)
        _warn_pending(home, location)
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
    """Take a snapshot of the Codex home now (none is made when nothing changed)."""
    from codexsnap.commands.snapshot import snapshot as run_snapshot

    with _handled():
        home, location = _locate(codex_home, store)
        _recover_first(home, location, force=False)
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
                "changed since the last one."
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

    with _handled():
        home, location = _locate(codex_home, store)
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
                f"{_plural(result.restored, 'pruned snapshot')}."
            )
            return
        for snap in result.marked:
            typer.echo(snapshot_line(snap))
        verb = "Would prune" if dry_run else "Pruned"
        typer.echo(f"{verb} {_plural(len(result.marked), 'snapshot')}; {result.kept} kept.")
        if result.collected:
            typer.echo(f"Deleted {_plural(result.collected, 'pruned snapshot')} from disk.")
        elif result.marked and not dry_run:
            typer.echo("They stay recoverable until 'codexsnap prune --gc'.")


@app.command()
def pin(
    snapshot_id: Annotated[str, typer.Argument(metavar="ID", help="Snapshot id or prefix.")],
    message: Annotated[str, typer.Option("--message", "-m", help="Why it is kept.")] = "",
    codex_home: HomeOption = None,
    store: StoreOption = None,
) -> None:
    """Keep a snapshot whatever prune's policy says."""
    from codexsnap.commands.marks import pin as run_pin

    with _handled():
        home, location = _locate(codex_home, store)
        snap = run_pin(home.path, location.path, snapshot_id, message)
        typer.echo(f"Pinned {snap.short_id}.")


@app.command()
def unpin(
    snapshot_id: Annotated[str, typer.Argument(metavar="ID", help="Snapshot id or prefix.")],
    codex_home: HomeOption = None,
    store: StoreOption = None,
) -> None:
    """Let prune's policy decide about a snapshot again."""
    from codexsnap.commands.marks import unpin as run_unpin

    with _handled():
        home, location = _locate(codex_home, store)
        snap = run_unpin(home.path, location.path, snapshot_id)
        typer.echo(f"Unpinned {snap.short_id}.")


@app.command()
def note(
    snapshot_id: Annotated[str, typer.Argument(metavar="ID", help="Snapshot id or prefix.")],
    text: Annotated[str, typer.Argument(metavar="TEXT", help="The note; empty removes it.")],
    codex_home: HomeOption = None,
    store: StoreOption = None,
) -> None:
    """Attach a note to a snapshot; history shows it."""
    from codexsnap.commands.marks import note as run_note

    with _handled():
        home, location = _locate(codex_home, store)
        snap = run_note(home.path, location.path, snapshot_id, text)
        typer.echo(
            f"Noted {snap.short_id}." if text.strip() else f"Removed the note of {snap.short_id}."
        )


@app.command()
def check(
    json_output: JsonOption = False,
    store: StoreOption = None,
    codex_home: HomeOption = None,
) -> None:
    """Verify the store (git fsck, manifests, stored databases); exit 1 when damaged.

    Damaged snapshots are quarantined: kept, listed, and refused by rollback.
    """
    from codexsnap.commands.check import check as run_check

    with _handled():
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


@app.command()
def demo(
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the demo folder to explore it afterwards.")
    ] = False,
) -> None:
    """Try codexsnap on a realistic broken Codex home in a temporary folder; yours is untouched.

    It runs doctor, fix, history and undo on that copy, as you would on your own home.
    """
    import shutil
    import tempfile

    from codexsnap.commands.demo import STEPS, prepare_demo

    with _handled():
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


@app.command()
def recover(
    force: ForceOption = False,
    codex_home: HomeOption = None,
    store: StoreOption = None,
) -> None:
    """Undo the half-done writes of a codexsnap run that was killed (fix/rollback do it too)."""
    from codexsnap.commands.recover import recover as run_recover

    with _handled():
        home, location = _locate(codex_home, store)
        done = run_recover(home.path, location.path, force=force, wait=True)
        typer.echo(_recovery_text(done) if done else "Nothing to recover.")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"codexsnap {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Repair the Codex home folder safely: snapshot, fix, show, roll back."""


def main() -> None:
    """Console-script entry point."""
    from codexsnap.progress import set_listener
    from codexsnap.terminal import Progress

    set_listener(Progress())
    app()
