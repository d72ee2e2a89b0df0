"""The command line: parse options, call `codexsnap.commands`, render text or --json.

app.py holds the Typer app and registers every command; errors.py is the one place where
failures become exit codes; options.py the option types; console.py the terminal; text.py
plain-text pieces; repair.py, restore.py and snapshots.py the command adapters.
"""

from __future__ import annotations

from codexsnap.cli.app import app, main

__all__ = ["app", "main"]
