"""The Typer app alone: every command registered here, so any import of it sees them all.

The adapters are plain functions in repair.py, restore.py and snapshots.py; registering them
here rather than with decorators there means that a fresh copy of this module (the one
`typer codexsnap.cli.app utils docs` loads) still holds every command.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Annotated, Any

import typer
import typer.core

from codexsnap import __version__
from codexsnap.cli import repair, restore, snapshots, watching
from codexsnap.cli.errors import CommandExit, handled
from codexsnap.cli.help import HELP_WIDTH, HelpfulCommand
from codexsnap.cli.start import command_over, command_started

# The order of `codexsnap --help`: by what a user does (diagnose and repair, restore, snapshots).
COMMANDS = (
    repair.fix,
    repair.doctor,
    repair.recipes,
    repair.bundle,
    repair.demo,
    restore.rollback,
    restore.undo,
    restore.recover,
    restore.check,
    snapshots.history,
    snapshots.show,
    snapshots.diff,
    snapshots.snapshot,
    snapshots.prune,
    snapshots.pin,
    snapshots.unpin,
    snapshots.note,
    watching.watch,
    watching.protect,
    watching.unprotect,
    snapshots.adopt,
)


class HandledGroup(typer.core.TyperGroup):
    """The app's command group: every subcommand it dispatches runs inside `handled()`."""

    # Commands running now: a nested `app([...])` (demo) is not a start or an end.
    _running = 0

    # Any: the vendored click's Context, which typer does not export.
    def invoke(self, ctx: Any) -> Any:
        # Wrapping the group's dispatch, not each command, is what makes it "once": a command
        # added to the app cannot forget it, and a nested `app([...])` (demo) gets it too.
        outermost = HandledGroup._running == 0
        HandledGroup._running += 1
        try:
            with handled((typer.Exit, typer.TyperException), (typer.Abort,)):
                if outermost:
                    command_started()  # a Ctrl-C held back during parsing lands in here
                result = super().invoke(ctx)
                if outermost:
                    command_over()
                return result
        except CommandExit as done:
            # click's own exit: the console script exits with it, `app(...,
            # standalone_mode=False)` returns it, CliRunner records it.
            raise typer.Exit(done.code) from None
        finally:
            HandledGroup._running -= 1
            if outermost:
                command_over()  # its message is out (an error, an exit code of its own)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"codexsnap {__version__}")
        raise typer.Exit()


def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Repair the Codex home folder safely: snapshot, fix, show, roll back."""


def build(commands: Sequence[Callable[..., None]]) -> typer.Typer:
    """A Typer app holding ``commands`` (and the --version option)."""
    built = typer.Typer(
        name="codexsnap",
        cls=HandledGroup,
        help="Repair the Codex home folder safely: snapshot, fix, show, roll back.",
        no_args_is_help=True,
        add_completion=True,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"max_content_width": HELP_WIDTH},
    )
    for command in commands:
        built.command(cls=HelpfulCommand)(command)
    built.callback()(_main)
    return built


app = build(COMMANDS)


def app_for(args: Sequence[str]) -> typer.Typer:
    """The app a run needs: only the command it names, when it names one first.

    Typer turns every registered command into a click command at each start, reading its
    signature and options: for `codexsnap history` that was 20 commands built for nothing,
    a tenth of its run. Anything else (no command, an option first, a mistyped name that
    deserves "did you mean", shell completion, which lists the commands) gets the full app.
    """
    if not args or any(k.startswith("_") and k.endswith("_COMPLETE") for k in os.environ):
        return app
    chosen = [c for c in COMMANDS if c.__name__.replace("_", "-") == args[0]]
    return build(chosen) if chosen else app
