"""The one choke point where failures become messages and exit codes, applied to the whole app.

Every command runs inside `HandledGroup.invoke`, so no adapter catches anything itself, and
the same mapping holds for the console script, `python -m codexsnap` and `CliRunner`.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
import typer.core

from codexsnap.errors import EXIT_BROKEN_PIPE, EXIT_INTERNAL, CodexsnapError
from codexsnap.home import debug_requested
from codexsnap.transaction.outcome import forget_commits, outcome_of


def fail(error: CodexsnapError) -> NoReturn:
    typer.echo(f"Error: {error.message}", err=True)
    if error.hint:
        typer.echo(f"Hint: {error.hint}", err=True)
    raise typer.Exit(error.exit_code)


@contextmanager
def handled() -> Iterator[None]:
    """Map what a command raises to a message on stderr and an exit code."""
    forget_commits()
    try:
        yield
    except (typer.Exit, typer.TyperException):
        # The framework's own exits and usage errors (a bad option value...) carry their
        # exit code and message already; an internal-error line would hide them.
        raise
    except BrokenPipeError:
        # The reader went away (`codexsnap history | head`): not an error of ours. Point
        # stdout at the null device so the interpreter's final flush stays quiet.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise typer.Exit(EXIT_BROKEN_PIPE) from None
    except CodexsnapError as error:
        fail(error)
    except (KeyboardInterrupt, typer.Abort) as interrupt:
        # The transaction knows what it left (nothing, put back, applied, half-recorded):
        # its sentence is the last line, and a change that committed exits 0.
        outcome = outcome_of(interrupt)
        typer.echo(f"\n{outcome.sentence()}", err=True)
        raise typer.Exit(outcome.exit_code) from None
    except Exception as error:  # a bug: say so in one line, never dump locals
        typer.echo(f"Error: internal error: {type(error).__name__}: {error}", err=True)
        if debug_requested():
            traceback.print_exception(error, file=sys.stderr)
        else:
            typer.echo("Hint: set CODEXSNAP_DEBUG=1 for details and report it.", err=True)
        raise typer.Exit(EXIT_INTERNAL) from None


class HandledGroup(typer.core.TyperGroup):
    """The app's command group: every subcommand it dispatches runs inside `handled()`."""

    # Any: the vendored click's Context, which typer does not export.
    def invoke(self, ctx: Any) -> Any:
        # Wrapping the group's dispatch, not each command, is what makes it "once": a command
        # added to the app cannot forget it, and a nested `app([...])` (demo) gets it too.
        with handled():
            return super().invoke(ctx)
