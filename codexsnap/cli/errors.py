"""The one choke point where failures become messages and exit codes, applied to every run.

Every command runs inside `handled()`: the Typer app's commands through `HandledGroup`
(cli/app.py), the lean start's through `start.main` (cli/start.py), so no adapter catches
anything itself, and the same mapping holds for the console script, `python -m codexsnap`
and `CliRunner`. Nothing here imports typer: the lean start must not pay for it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

from codexsnap.cli.console import echo
from codexsnap.cli.start import forget_unhandled_interrupt
from codexsnap.errors import EXIT_BROKEN_PIPE, EXIT_INTERNAL, CodexsnapError
from codexsnap.home import debug_requested
from codexsnap.transaction.outcome import forget_commits, outcome_of


class CommandExit(Exception):
    """End the command with this exit code, its message (if any) already printed."""

    def __init__(self, code: int = 0) -> None:
        super().__init__(code)
        self.code = code


def fail(error: CodexsnapError) -> NoReturn:
    echo(f"Error: {error.message}", err=True)
    if error.hint:
        echo(f"Hint: {error.hint}", err=True)
    raise CommandExit(error.exit_code)


@contextmanager
def handled(
    passthrough: tuple[type[BaseException], ...] = (),
    interrupts: tuple[type[BaseException], ...] = (),
) -> Iterator[None]:
    """Map what a command raises to a message on stderr and a `CommandExit`.

    ``passthrough``: the framework's own exits and usage errors (a bad option value...),
    which carry their exit code and message already; an internal-error line would hide
    them. ``interrupts``: what the framework raises for Ctrl-C at a prompt (click's Abort).
    """
    forget_commits()
    exits: tuple[type[BaseException], ...] = (CommandExit, *passthrough)
    interrupted: tuple[type[BaseException], ...] = (KeyboardInterrupt, *interrupts)
    try:
        yield
    except exits:
        raise
    except BrokenPipeError:
        # The reader went away (`codexsnap history | head`): not an error of ours. Point
        # stdout at the null device so the interpreter's final flush stays quiet.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise CommandExit(EXIT_BROKEN_PIPE) from None
    except CodexsnapError as error:
        fail(error)
    except interrupted as interrupt:
        _interrupted(interrupt)
    except Exception as error:  # a bug: say so in one line, never dump locals
        # Not even a KeyboardInterrupt Python 3.11 wrapped in a RuntimeError (one raised in
        # a descriptor's __set_name__): the transaction's put-back does not see it as one,
        # so "nothing written" could be false here; the error line and 70 are not.
        echo(f"Error: internal error: {type(error).__name__}: {error}", err=True)
        if debug_requested():
            import traceback

            traceback.print_exception(error, file=sys.stderr)
        else:
            echo("Hint: set CODEXSNAP_DEBUG=1 for details and report it.", err=True)
        raise CommandExit(EXIT_INTERNAL) from None


def _interrupted(interrupt: BaseException) -> NoReturn:
    # The transaction knows what it left (nothing, put back, applied, half-recorded): its
    # sentence is the last line, and a change that committed exits 0.
    outcome = outcome_of(interrupt)
    echo(f"\n{outcome.sentence()}", err=True)
    forget_unhandled_interrupt()
    raise CommandExit(outcome.exit_code) from None
