"""The Typer app: parse options, call a command, render text or --json, map errors to exits.

This module holds what every command shares; the commands live in repair.py,
restore.py and snapshots.py, grouped by what a user is doing.
"""

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
from codexsnap.cli.terminal import paint_report_line
from codexsnap.commands import Confirm
from codexsnap.errors import (
    EXIT_BROKEN_PIPE,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    CodexsnapError,
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
from codexsnap.recipes import RecipeOptions, get_recipe
from codexsnap.render import report_text
from codexsnap.report import DiffReport

if TYPE_CHECKING:
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


def fail(error: CodexsnapError) -> NoReturn:
    typer.echo(f"Error: {error.message}", err=True)
    if error.hint:
        typer.echo(f"Hint: {error.hint}", err=True)
    raise typer.Exit(error.exit_code)


@contextmanager
def handled() -> Iterator[None]:
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
        fail(error)
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


def locate(home_option: Path | None, store_option: Path | None) -> tuple[CodexHome, StoreLocation]:
    home = find_codex_home(home_option)
    return home, find_store_location(store_option, home)


def recover_first(
    home: CodexHome, location: StoreLocation, force: bool, dry_run: bool = False
) -> None:
    """Undo what a killed run half-wrote before planning anything new on the home."""
    from codexsnap.commands.recover import recover

    if dry_run:  # a dry run writes nothing, not even a recovery
        warn_pending(home, location)
        return

    done = recover(home.path, location.path, force=force)
    if done is not None:
        typer.echo(recovery_text(done), err=True)


def recovery_text(done: Recovery) -> str:
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


def warn_pending(home: CodexHome, location: StoreLocation) -> None:
    from codexsnap.commands.recover import pending

    if pending(home.path, location.path):
        typer.echo(
            "Warning: an interrupted codexsnap run left changes half-done; run "
            "'codexsnap recover' to undo them.",
            err=True,
        )


def location_flags(home: CodexHome, store: StoreLocation) -> str:
    flags = ""
    if home.source != "default":
        flags += f" --codex-home {shlex.quote(str(home.path))}"
    if store.source != "default":
        flags += f" --store {shlex.quote(str(store.path))}"
    return flags


def log_folders(extra: list[Path] | None) -> list[Path]:
    from codexsnap.home import default_log_folders

    return [*default_log_folders(), *(extra or [])]


def check_recipe_options(recipe_name: str, options: RecipeOptions) -> None:
    recipe = get_recipe(recipe_name)
    for name, on in vars(options).items():
        if on and name not in recipe.options:
            raise UnknownRecipeError(
                f"--{name.replace('_', '-')} does not apply to the {recipe.name} recipe",
                hint="Run 'codexsnap recipes' to see each recipe's options.",
            )


def asked(yes: bool, json_output: bool) -> bool:
    """True when the confirmation prompt (which shows the report) was put to a person."""
    return not yes and not json_output and is_interactive()


def confirmer(yes: bool, json_output: bool) -> Confirm:
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


def echo_report(report: DiffReport) -> None:
    colored = color_allowed()
    for line in report_text(report):
        typer.echo(paint_report_line(line) if colored else line)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


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


# Registering the commands: their modules use the app and helpers defined above.
from codexsnap.cli import repair, restore, snapshots  # noqa: E402, F401


def main() -> None:
    """Console-script entry point."""
    from codexsnap.cli.terminal import Progress
    from codexsnap.progress import set_listener

    set_listener(Progress())
    for stream in (sys.stdout, sys.stderr):
        # File names that are not valid UTF-8 must print as escapes, never crash a report.
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    app()
