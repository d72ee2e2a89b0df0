"""The home and store a command works on, from its options; the notices of a recovery."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from codexsnap.cli.console import echo
from codexsnap.cli.text import PENDING_WARNING
from codexsnap.home import CodexHome, StoreLocation, find_codex_home, find_store_location

if TYPE_CHECKING:
    from codexsnap.transaction.recovery import Recovery


def locate(home_option: Path | None, store_option: Path | None) -> tuple[CodexHome, StoreLocation]:
    from codexsnap.scratch import use_store

    home = find_codex_home(home_option)
    location = find_store_location(store_option, home)
    use_store(location.path)  # temporary copies go to the store's tmp/ once it exists
    return home, location


def sqlite_root(home: CodexHome, option: Path | None) -> tuple[Path | None, str]:
    """The SQLite home when it lies outside the Codex home (a second root of snapshots), and
    the flag that names it again in the commands codexsnap prints.

    The explicit option wins, then config.toml's ``sqlite_home``, then CODEX_SQLITE_HOME,
    as Codex reads the last two.
    """
    import shlex

    from codexsnap.home import resolve_sqlite_home
    from codexsnap.roots import outside_sqlite_home

    path, source = resolve_sqlite_home(home, option)
    outside = outside_sqlite_home(home.path, path)
    repeat = outside is not None and source in ("--codex-sqlite-home", "CODEX_SQLITE_HOME")
    return outside, f" --codex-sqlite-home {shlex.quote(str(outside))}" if repeat else ""


def announce_recovery(done: Recovery) -> None:
    """On stderr, the moment a killed run was undone: the command may still fail after it,
    and its error must not be the only thing the user learns (their home changed)."""
    from codexsnap.cli.text import recovery_text

    echo(recovery_text(done), err=True)


def warn_pending(home: CodexHome, location: StoreLocation) -> None:
    from codexsnap.store.location import journal_pending  # not the transaction: start-up time

    if journal_pending(home.path, location.path):
        echo(PENDING_WARNING, err=True)


def log_folders(extra: list[Path] | None) -> list[Path]:
    from codexsnap.home import default_log_folders

    return [*default_log_folders(), *(extra or [])]
