"""Consistent copies of live SQLite databases, including rows that live only in ``-wal``."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path

SQLITE_MAGIC = b"SQLite format 3\x00"


def is_sqlite_file(path: Path) -> bool:
    """True when the file starts with SQLite's header."""
    try:
        with path.open("rb") as handle:
            return handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def sidecars(path: Path) -> tuple[Path, Path]:
    """The ``-wal`` and ``-shm`` files that belong to a database."""
    return path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")


def journal_of(path: Path) -> Path:
    """The rollback journal of a database not in WAL mode."""
    return path.with_name(path.name + "-journal")


def backup_database(source: Path, destination: Path) -> None:
    """Write a consistent copy of ``source`` to ``destination`` with SQLite's backup API."""
    wal, shm = sidecars(source)
    if wal.exists() and shm.exists():
        # A live WAL database: SQLite's locks make the backup consistent even while Codex
        # writes. Read-only, so nothing in the home changes.
        _backup(f"{source.resolve().as_uri()}?mode=ro", destination)
        return
    # No live WAL: opening the database would create -wal/-shm in the home, so copy the
    # files aside and back up from the copy instead. A hot -journal (a writer died mid-
    # transaction) is copied too: SQLite rolls it back in the copy, never in the home.
    with tempfile.TemporaryDirectory(dir=destination.parent) as scratch:
        copy = Path(scratch) / "db.sqlite"
        shutil.copyfile(source, copy)
        for sidecar in (wal, journal_of(source)):
            if sidecar.exists():
                shutil.copyfile(
                    sidecar, Path(scratch) / f"db.sqlite{sidecar.name[len(source.name) :]}"
                )
        _backup(copy.as_uri(), destination)


def _backup(uri: str, destination: Path) -> None:
    source_db = sqlite3.connect(uri, uri=True, timeout=5.0)
    try:
        target_db = sqlite3.connect(destination)
        try:
            source_db.backup(target_db)
        finally:
            target_db.close()
    finally:
        source_db.close()


def is_busy(path: Path) -> bool:
    """True when another process holds a write transaction on the database.

    Probed with a short ``BEGIN IMMEDIATE``: replacing a database under an open writer would
    lose its writes and break its -wal, so restores refuse instead.
    """
    if not path.exists():
        return False
    if journal_of(path).exists():
        return True  # a transaction in progress, or a dead writer's: opening would replay it
    if not sidecars(path)[0].exists():
        return False  # no -wal: no connection in WAL mode has it open for writing
    db = sqlite3.connect(path, timeout=0.2, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        db.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as exc:
        return "locked" in str(exc) or "busy" in str(exc)
    except sqlite3.DatabaseError:
        return False  # not a readable database: replacing it is what the user asked for
    finally:
        db.close()
