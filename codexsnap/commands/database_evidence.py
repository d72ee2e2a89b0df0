"""What ``quarantine-db`` needs read: which database NAME means, its files, its good copies."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from codexsnap.codex_files import DB_SIDECARS, codex_copy_of
from codexsnap.errors import UsageError
from codexsnap.recipes import Candidate
from codexsnap.scratch import scratch_folder


@dataclass(frozen=True)
class DatabaseFiles:
    """A database of the home, its sidecars and Codex's own copies of it."""

    relpath: str
    files: tuple[str, ...]  # the database and the sidecars present, relative to the home
    recovery_copies: tuple[str, ...]  # newest first


def resolve_database(home: Path, name: str) -> str:
    """The database NAME means, relative to the home.

    A bare name (``state_5``) is looked for in the live SQLite home first, then in
    ``sqlite/`` and the top level, as Codex keeps one layout per kind of install; a file name
    or path (``state_5.sqlite``, ``sqlite/logs_2.sqlite``) is that file of the home.
    """
    from codexsnap.home import CodexHome, find_sqlite_home

    if not name or name.startswith("/") or ".." in Path(name).parts:
        raise UsageError(
            f"{name!r} is no database of the home",
            hint="Name it as state_5, logs_2, or a path inside the home (sqlite/state_5.sqlite).",
        )
    if "/" in name or name.endswith((".sqlite", ".db")):
        return name  # a file of the home, as doctor names one outside the live layout
    filename = f"{name}.sqlite"
    live = find_sqlite_home(CodexHome(home, "--codex-home")).database(filename)
    places = [live, home / "sqlite" / filename, home / filename]
    for place in places:
        try:
            relpath = place.resolve().relative_to(home.resolve()).as_posix()
        except ValueError:
            continue  # a SQLite home outside the Codex home: not moved from there
        if (home / relpath).is_file():
            return relpath
    return (home / filename).relative_to(home).as_posix()


def database_files(home: Path, relpath: str) -> DatabaseFiles:
    """The files that go with the database, and Codex's recovery copies beside it."""
    path = home / relpath
    files = tuple(
        f"{relpath}{suffix}"
        for suffix in ("", *DB_SIDECARS)
        if (home / f"{relpath}{suffix}").is_file()
        and not (home / f"{relpath}{suffix}").is_symlink()
    )
    try:
        names = [entry.name for entry in path.parent.iterdir()]
    except OSError:
        names = []
    stamped = [(stamp, n) for n in names if (stamp := codex_copy_of(n, path.name))]
    folder = relpath.rsplit("/", 1)[0] + "/" if "/" in relpath else ""
    copies = tuple(f"{folder}{n}" for _, n in sorted(stamped, reverse=True))
    return DatabaseFiles(relpath, files, copies)


def passes_quick_check(data: bytes) -> bool:
    """True when these bytes are a SQLite database ``PRAGMA quick_check`` calls ok."""
    with scratch_folder() as scratch:
        path = scratch / "candidate.sqlite"
        path.write_bytes(data)
        try:
            db = sqlite3.connect(path)
            try:
                return bool(db.execute("PRAGMA quick_check").fetchall() == [("ok",)])
            finally:
                db.close()
        except sqlite3.DatabaseError:
            return False


def snapshot_copy(home: Path, store_root: Path, relpath: str) -> Candidate | None:
    """The newest snapshot holding a copy of the database that passes ``quick_check``."""
    from codexsnap.commands.snapshot_search import label, stored_files

    for snapshot, data in stored_files(home, store_root, relpath):
        if passes_quick_check(data):
            return Candidate(snapshot.id, label(snapshot), data)
    return None
