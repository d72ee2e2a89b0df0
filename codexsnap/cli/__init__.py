"""The command line: parse options, call `codexsnap.commands`, render text or --json.

start.py is the console script (`main`), which runs `history` and `snapshot` without typer
when it can; app.py holds the Typer app and registers every command; errors.py is the one
place where failures become exit codes; options.py the option types; console.py the
terminal; text.py plain-text pieces; lean.py the typer-free bodies of history and snapshot;
repair.py, restore.py and snapshots.py the command adapters.

The Typer app is `codexsnap.cli.app.app`: it is not re-exported here, so that importing the
console script does not import typer.
"""

from __future__ import annotations

from codexsnap.cli.start import main

__all__ = ["main"]
