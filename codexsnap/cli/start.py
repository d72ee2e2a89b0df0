"""The console script's start: as little as can be before the command runs.

`main` imports the command line inside its own Ctrl-C guard (a Ctrl-C while modules load is
one true line and exit 130, not a traceback), runs the command, and keeps the exit code the
command chose. What it runs comes from cli/lean.py: `history` and `snapshot` without typer
when their arguments are plain, else the Typer app. This module imports nothing of its own
but `signal` and `sys`, so that guard covers nearly every import a run makes.
"""

from __future__ import annotations

import signal
import sys

from codexsnap.errors import EXIT_INTERRUPTED


def main() -> None:
    """Console-script entry point."""
    try:
        from codexsnap.cli.lean import prepare

        run = prepare(sys.argv[1:])
    except (KeyboardInterrupt, RuntimeError) as stopped:
        # Ctrl-C while the modules load: no command code has run, so nothing is written;
        # one line and 130, not a traceback through the import machinery. (A Ctrl-C inside
        # a descriptor's __set_name__ reaches here wrapped in a RuntimeError.)
        if isinstance(stopped, RuntimeError) and not isinstance(
            stopped.__cause__, KeyboardInterrupt
        ):
            raise
        sys.stderr.write(f"\n{INTERRUPTED_AT_START}\n")
        forget_unhandled_interrupt()
        _done()
        sys.exit(EXIT_INTERRUPTED)
    try:
        run()  # click ends its runs with sys.exit; the lean ones end below
    finally:
        _done()


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


def _done() -> None:
    """The command is over and its last line printed: from here on Ctrl-C is ignored.

    Else a Ctrl-C in the last milliseconds, while the interpreter shuts down, kills it by
    SIGINT (exit -2): a code that tells a script the run was cut short when the line above
    says what it did.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
