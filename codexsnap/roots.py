"""The folders a snapshot holds: the Codex home, and the SQLite home when it lies outside it.

Codex may keep its databases outside its home (WSL: ``CODEX_HOME=/mnt/c/Users/<u>/.codex``
with ``CODEX_SQLITE_HOME=/home/<u>/.codex/sqlite``, openai/codex #35674, #32476; or a
``sqlite_home`` in config.toml). Those databases are a second root of the same snapshot,
under the reserved manifest prefix ``@sqlite/`` (``@sqlite/state_5.sqlite``), rather than a
second files tree with its own manifest: every reader of a manifest (show, diff, history's
counts, check, prune, export) then handles them unchanged, one tree still means one state,
and snapshots taken before (which have no such path) read exactly as they did. Codex never
writes a name starting with ``@`` in its home, and the scope leaves out a home's own
``@sqlite`` entry (scope.py), so a manifest path under the prefix always means the second
root. A SQLite home inside the Codex home (the desktop app's ``sqlite/``) is no second
root: the walk of the home already holds it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from codexsnap.errors import ConfigError, UsageError
from codexsnap.home import CODEX_DATABASES, DESKTOP_DATABASES

if TYPE_CHECKING:
    from codexsnap.scope import HomeEntry, Scope

SQLITE_ROOT = "@sqlite"
SQLITE_PREFIX = SQLITE_ROOT + "/"
# The Linux desktop app's Electron profile (~/.config/Codex): never part of a snapshot, only
# named by a recipe that removes its stale single-instance files (desktop-singleton).
PROFILE_PREFIX = "@codex-profile/"


def outside_sqlite_home(home: Path, sqlite_home: Path) -> Path | None:
    """The SQLite home as a second root: only when it lies outside the Codex home."""
    if sqlite_home == home or home in sqlite_home.parents:
        return None  # the home's own walk holds it: never captured twice
    return sqlite_home


def in_sqlite_root(relpath: str) -> bool:
    """True for a manifest path of the second root (``@sqlite/<name>``)."""
    return relpath.startswith(SQLITE_PREFIX) and relpath != SQLITE_PREFIX


def split_root(home: Path, relpath: str, sqlite_home: Path | None) -> tuple[Path, str]:
    """The folder a manifest path lives in, and the path inside that folder."""
    if relpath.startswith(PROFILE_PREFIX) and relpath != PROFILE_PREFIX:
        from codexsnap.home import desktop_profile_folder

        return desktop_profile_folder(), relpath[len(PROFILE_PREFIX) :]
    if not in_sqlite_root(relpath):
        return home, relpath
    if sqlite_home is None:
        # Never home / "@sqlite": that would write databases where Codex does not read them.
        raise UsageError(
            f"{relpath} belongs to a SQLite home outside the Codex home, and none is set",
            hint="Give --codex-sqlite-home PATH (or set CODEX_SQLITE_HOME) as when the "
            "snapshot was taken.",
        )
    return sqlite_home, relpath[len(SQLITE_PREFIX) :]


def live_path(home: Path, relpath: str, sqlite_home: Path | None) -> Path:
    """Where a manifest path lives now."""
    root, inner = split_root(home, relpath, sqlite_home)
    return root / inner


def root_relative(sqlite_home: Path | None, given: Path) -> str | None:
    """An absolute path inside the outside SQLite home as a manifest path, else None."""
    if sqlite_home is None:
        return None
    try:
        inner = given.relative_to(sqlite_home).as_posix()
    except ValueError:
        return None
    return SQLITE_PREFIX + inner if inner not in ("", ".") else SQLITE_ROOT


def walk_roots(
    home: Path, scope: Scope, outside: dict[str, list[int]] | None = None
) -> Iterator[HomeEntry]:
    """Every entry a snapshot holds: the home's, then an outside SQLite home's databases.

    ``outside`` receives the home's files left out of scope (``walk_scope``)."""
    from codexsnap.scope import walk_scope  # scope.py imports this module's names

    yield from walk_scope(home, scope, outside)
    if scope.sqlite_home is not None:
        yield from walk_sqlite_home(scope.sqlite_home, scope)


def walk_sqlite_home(folder: Path, scope: Scope) -> Iterator[HomeEntry]:
    """The databases at the top of an outside SQLite home, as ``@sqlite/<name>`` entries.

    Only databases: the folder may be any folder (``sqlite_home = "~"``), and Codex keeps
    nothing else there. Not recursive, and links are not followed, for the same reason.
    """
    from codexsnap.scope import HomeEntry  # scope.py imports this module's names
    from codexsnap.sqlite_copy import is_sqlite_file  # sqlite3: not for commands that only read

    known = frozenset(CODEX_DATABASES + DESKTOP_DATABASES)
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return  # no database yet: Codex creates the folder on its first start
    except PermissionError:
        raise ConfigError(
            f"the SQLite home {folder} cannot be read, so its databases cannot be snapshotted",
            hint="Run codexsnap as the owner of that folder.",
        ) from None
    for entry in entries:
        relpath = SQLITE_PREFIX + entry.name
        try:
            st = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue
        if not stat.S_ISREG(st.st_mode) or not scope.includes(relpath):
            continue
        path = Path(entry.path)
        if entry.name not in known and not is_sqlite_file(path):
            continue
        yield HomeEntry(
            relpath=relpath,
            where=str(path),
            is_symlink=False,
            mode=stat.S_IMODE(st.st_mode),
            size=st.st_size,
            mtime_ns=st.st_mtime_ns,
            inode=st.st_ino,
            ctime_ns=st.st_ctime_ns,
        )
