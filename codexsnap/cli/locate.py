"""The home and store a command works on, from its options; what the command recovered."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from codexsnap.cli.text import recovery_text
from codexsnap.home import CodexHome, StoreLocation, find_codex_home, find_store_location

if TYPE_CHECKING:
    from codexsnap.transaction.recovery import Recovery

PENDING_WARNING = (
    "Warning: an interrupted codexsnap run left changes half-done; run "
    "'codexsnap recover' to undo them."
)


def locate(home_option: Path | None, store_option: Path | None) -> tuple[CodexHome, StoreLocation]:
    home = find_codex_home(home_option)
    return home, find_store_location(store_option, home)


def echo_recovery(done: Recovery | None, pending: bool = False) -> None:
    """Say what the command recovered before planning, or that a dry run left a recovery."""
    if done is not None:
        typer.echo(recovery_text(done), err=True)
    if pending:
        typer.echo(PENDING_WARNING, err=True)


def warn_pending(home: CodexHome, location: StoreLocation) -> None:
    from codexsnap.commands.recover import pending

    if pending(home.path, location.path):
        typer.echo(PENDING_WARNING, err=True)


def log_folders(extra: list[Path] | None) -> list[Path]:
    from codexsnap.home import default_log_folders

    return [*default_log_folders(), *(extra or [])]
