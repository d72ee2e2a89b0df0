"""The console script's start: as little as can be before the command runs.

`main` holds Ctrl-C back (POSIX) from its first line until the command's own code runs
inside the error choke point (`command_started`, called by cli/lean.py and cli/app.py),
where a Ctrl-C pressed meanwhile lands and is told truly; where it cannot be held back
(Windows), one while the modules load is caught here as the same one line and 130. After
the command, Ctrl-C is ignored (`command_over`), so the exit code is the one the command
chose. What runs comes from cli/lean.py: `history` and `snapshot` without typer when their
arguments are plain, else the Typer app. This module imports nothing of its own but
`signal` and `sys`.
"""

from __future__ import annotations

import signal
import sys

from codexsnap.errors import EXIT_INTERRUPTED


def main() -> None:
    """Console-script entry point."""
    global _RUNNING
    _RUNNING = True
    _hold_interrupts()
    try:
        from codexsnap.cli.lean import prepare

        run = prepare(sys.argv[1:])
    except (KeyboardInterrupt, RuntimeError) as stopped:
        # Where Ctrl-C cannot be held back (Windows): one while the modules load finds no
        # command code run, so nothing is written; one line and 130, not a traceback through
        # the import machinery. (A Ctrl-C inside a descriptor's __set_name__ reaches here
        # wrapped in a RuntimeError; typer's Exit and Abort cannot: nothing runs them yet.)
        if isinstance(stopped, RuntimeError) and not isinstance(
            stopped.__cause__, KeyboardInterrupt
        ):
            raise
        sys.stderr.write(f"\n{INTERRUPTED_AT_START}\n")
        forget_unhandled_interrupt()
        command_over()
        sys.exit(EXIT_INTERRUPTED)
    try:
        run()  # click ends its runs with sys.exit; the lean ones end below
    finally:
        command_over()


# True once `main` runs this process's command (not under CliRunner or another program
# that imports the app): only then are the process's signal settings ours to change.
_RUNNING = False


def _hold_interrupts() -> None:
    """Hold Ctrl-C back until the command runs inside handled() (POSIX).

    Before it, the imports and typer's parsing; a Ctrl-C there was a traceback, or typer's
    silent exit 130. Held back, it is raised the moment `command_started` lets it through,
    where the error choke point tells what it left. Nothing is started before that moment,
    so no child inherits the mask.
    """
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def command_started() -> None:
    """Inside handled(), as the command starts: a Ctrl-C held back since `main` lands now."""
    if _RUNNING and hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


# The words of transaction/outcome.py's NOTHING_WRITTEN sentence (tests/test_start.py holds
# them equal), spelled here so that saying them after a Ctrl-C during the imports imports
# nothing more.
INTERRUPTED_AT_START = "Interrupted: nothing written; the Codex home is as it was."


def forget_unhandled_interrupt() -> None:
    """Keep CPython from turning the exit code of a handled Ctrl-C into death by SIGINT.

    A Ctrl-C that lands inside code run from a string (``exec``/``eval``: dataclasses and
    namedtuple build their methods so, while a lazy import runs) makes CPython note an
    "unhandled KeyboardInterrupt" (``_Py_UnhandledKeyboardInterrupt``, set by pythonrun.c's
    ``run_eval_code_obj``), which ``Py_RunMain`` may act on at exit by killing the process
    with SIGINT whatever ``sys.exit`` said: exit -2 instead of the 130 the last line stands
    for (23 of 300 Ctrl-Cs timed into a snapshot's start here; none with this reset).
    Running a string resets the note, so the exit code is the one chosen.
    """
    exec("")  # a constant empty string: the reset is the point


def command_over() -> None:
    """The command's work is over and its last line printed: from here Ctrl-C is ignored.

    Else a Ctrl-C in the last milliseconds, while the Typer app or the interpreter winds
    down, turned the exit code of a finished run into 130 (typer) or -2 (death by SIGINT),
    codes that tell a script the run was cut short when the line above says what it did.
    """
    if _RUNNING:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
