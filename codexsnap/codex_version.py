"""Which Codex a snapshot saw, and databases a rollback would put back ahead of the live app.

Codex migrates ``state_5.sqlite`` with sqlx and refuses to open a database holding a
migration it does not know: "migration N was previously applied but is missing in the
resolved migrations" (openai/codex #30042). So a snapshot taken under a newer Codex must
not be restored under an older one without the user's say-so. Each snapshot notes, in
``codex.json`` beside its manifest, the home's ``version.json`` and the highest migration
of every state database it holds; the check before a rollback reads the migrations from
the stored copy itself, so it works for snapshots older than that note too.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codexsnap.scratch import scratch_folder
from codexsnap.sqlite_copy import backup_database

if TYPE_CHECKING:  # the store imports this module
    from codexsnap.store.manifest import FileRecord

CODEX_NAME = "codex.json"
CODEX_FORMAT = 1
VERSION_FILE = "version.json"  # Codex's update check: {"latest_version": ..., ...}
_VERSION_LIMIT = 16_384  # a bigger version.json is not Codex's: not worth keeping
_STATE_DATABASE = re.compile(r"(?:^|/)state_\d+\.sqlite\Z")


def migrations_in(database: Path) -> frozenset[int] | None:
    """The versions in ``_sqlx_migrations`` of a copy nobody else has open; None without."""
    uri = f"{database.resolve().as_uri()}?mode=ro&immutable=1"
    try:
        db = sqlite3.connect(uri, uri=True)
        try:
            rows = db.execute("SELECT version FROM _sqlx_migrations").fetchall()
        finally:
            db.close()
    except sqlite3.Error:
        return None  # no such table (not a migrated database) or not readable
    return frozenset(int(row[0]) for row in rows if isinstance(row[0], int))


def stored_migrations(data: bytes) -> frozenset[int] | None:
    """The migrations of a database as a snapshot stores it (a consistent copy)."""
    with scratch_folder() as scratch:  # in the store: a killed run leaves no copy outside
        copy = scratch / "db.sqlite"
        copy.write_bytes(data)
        return migrations_in(copy)


def live_migrations(database: Path) -> frozenset[int] | None:
    """The migrations of a live database, read from a consistent copy (None when absent)."""
    if not database.is_file():
        return None
    with scratch_folder() as scratch:  # in the store: a killed run leaves no copy outside
        copy = scratch / "db.sqlite"
        try:
            backup_database(database, copy)
        except (OSError, sqlite3.Error):
            return None  # damaged or busy: nothing tells what the live app knows
        return migrations_in(copy)


def codex_note(
    home: Path,
    records: dict[str, FileRecord],
    read_blob: Callable[[str], bytes],
    previous: bytes | None,
    sqlite_home: Path | None = None,
) -> bytes:
    """``codex.json``: the home's version.json, the SQLite home held, each state database's
    highest migration (read again only for a database whose stored copy changed)."""
    known: dict[str, Any] = {}
    with contextlib.suppress(ValueError, TypeError, AttributeError):
        known = dict(json.loads(previous or b"{}").get("migrations", {}))
    migrations: dict[str, Any] = {}
    for relpath, record in sorted(records.items()):
        if record.kind != "sqlite" or not _STATE_DATABASE.search(relpath):
            continue
        before = known.get(relpath)
        if isinstance(before, dict) and before.get("blob") == record.blob:
            migrations[relpath] = before
            continue
        versions = stored_migrations(read_blob(record.blob))
        migrations[relpath] = {"blob": record.blob, "highest": max(versions or (), default=None)}
    note = {
        "format": CODEX_FORMAT,
        "version_json": _version_json(home),
        "sqlite_home": None if sqlite_home is None else str(sqlite_home),
        "migrations": migrations,
    }
    return json.dumps(note, sort_keys=True).encode()


def _version_json(home: Path) -> Any:
    try:
        raw = (home / VERSION_FILE).read_bytes()
        if len(raw) > _VERSION_LIMIT:
            return None
        return json.loads(raw)
    except (OSError, ValueError):
        return None


def newer_databases(
    restores: Iterable[tuple[str, Path, bytes]],
) -> list[str]:
    """For (path, live file, stored bytes) of each database to restore: why each one the
    live app could not open is refused (it holds migrations the live database lacks)."""
    problems: list[str] = []
    for relpath, live, data in restores:
        have = live_migrations(live)
        if not have:
            continue  # no live database, or no migrations in it: nothing to fall behind
        want = stored_migrations(data)
        missing = sorted((want or frozenset()) - have)
        if missing:
            shown = ", ".join(str(v) for v in missing[:5]) + (" ..." if len(missing) > 5 else "")
            problems.append(
                f"{relpath} in the snapshot holds migration{'s' if len(missing) > 1 else ''} "
                f"{shown} that the live database lacks (its highest is {max(have)}): Codex "
                "was downgraded since, and it refuses such a database ('migration "
                f"{missing[-1]} was previously applied but is missing in the resolved "
                "migrations', openai/codex #30042)"
            )
    return problems
