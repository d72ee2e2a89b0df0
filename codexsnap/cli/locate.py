"""The home and store a command works on, from its options, and recovery before writing."""

from __future__ import annotations

from pathlib import Path

import typer

from codexsnap.cli.text import recovery_text
from codexsnap.home import CodexHome, StoreLocation, find_codex_home, find_store_location


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


def warn_pending(home: CodexHome, location: StoreLocation) -> None:
    from codexsnap.commands.recover import pending

    if pending(home.path, location.path):
        typer.echo(
            "Warning: an interrupted codexsnap run left changes half-done; run "
            "'codexsnap recover' to undo them.",
            err=True,
        )


def log_folders(extra: list[Path] | None) -> list[Path]:
    from codexsnap.home import default_log_folders

    return [*default_log_folders(), *(extra or [])]
