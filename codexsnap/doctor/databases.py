"""Codex's SQLite databases: integrity (``quick_check``) and a ``-wal`` never checkpointed."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path

from codexsnap.codex_files import LOG_DATABASE_PREFIX
from codexsnap.doctor.check import Check, Cure, human_size, stat_size
from codexsnap.doctor.context import DoctorContext
from codexsnap.redact import redact_text
from codexsnap.sqlite_copy import sidecars

BIG_WAL = 64 << 20  # a -wal this big, and WAL_RATIO times its database, is not checkpointed
WAL_RATIO = 4
QUICK_CHECK_LIMIT = 256 << 20  # bigger databases are not copied and checked: too slow


class DatabaseCheck:
    """The check of one database of the home (doctor runs one per database it finds)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self, ctx: DoctorContext) -> Check:
        return inspect_database(ctx.path, self.path, bool(ctx.processes))


def inspect_database(home: Path, path: Path, live: bool = False) -> Check:
    """Integrity (``quick_check``) and a ``-wal`` far larger than its database."""
    relpath = path.relative_to(home).as_posix()
    name = f"sqlite:{relpath}"
    wal = sidecars(path)[0]
    db_size = stat_size(path)
    wal_size = stat_size(wal)
    sizes = human_size(db_size) + (f", -wal {human_size(wal_size)}" if wal_size else "")
    if relpath.startswith(LOG_DATABASE_PREFIX):
        repair = Cure.say(
            f"move {relpath} and its -wal/-shm out of the home (it holds only logs)"
        ).after_quit()
    else:
        repair = Cure.run("history", "roll back to a snapshot from before:").after_quit()
    if db_size + wal_size > QUICK_CHECK_LIMIT:
        verdict = Check(
            name,
            "ok",
            f"{sizes}; quick_check skipped: over {human_size(QUICK_CHECK_LIMIT)}, too slow",
        )
    else:
        try:
            complaints = quick_check(path, live)
        except sqlite3.OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                return Check(name, "warning", f"{sizes}; busy, not checked: {error}", None)
            return Check(name, "problem", f"{sizes}; cannot be read: {error}", repair)
        except sqlite3.DatabaseError as error:
            return Check(name, "problem", f"{sizes}; {error}", repair)
        except OSError as error:
            return Check(name, "warning", f"cannot be read: {error.strerror}", None)
        if complaints:
            more = f" (+{len(complaints) - 1} more)" if len(complaints) > 1 else ""
            return Check(
                name, "problem", f"quick_check: {redact_text(complaints[0])}{more}", repair
            )
        verdict = Check(name, "ok", f"quick_check ok ({sizes})")
    if wal_size > BIG_WAL and wal_size > WAL_RATIO * db_size:
        return Check(
            name,
            "warning",
            f"-wal is {human_size(wal_size)} for a {human_size(db_size)} database: not "
            "checkpointed",
            Cure.say(
                "quit Codex (SQLite folds the -wal into the database when its last connection "
                "closes)"
            ),
        )
    return verdict


def quick_check(path: Path, live: bool = False) -> list[str]:
    """``PRAGMA quick_check``'s complaints (none when healthy), creating no file in the home.

    While Codex runs (``live``) and the database has its ``-wal`` and ``-shm``, it is read in
    place, read-only, through SQLite's locks: like any reader, that only moves read marks in
    the ``-shm``. Otherwise the check runs on a copy in a temporary folder, as opening the
    database in the home would create ``-wal``/``-shm`` there.
    """
    wal, shm = sidecars(path)
    if live and wal.exists() and shm.exists():
        return _quick_check(f"{path.resolve().as_uri()}?mode=ro")
    for attempt in range(3):
        before = _stamps(path, wal)
        with tempfile.TemporaryDirectory(prefix="codexsnap-doctor-") as scratch:
            copy = Path(scratch) / "db.sqlite"
            shutil.copyfile(path, copy)
            if wal.exists():
                shutil.copyfile(wal, Path(scratch) / "db.sqlite-wal")
            if _stamps(path, wal) != before and attempt < 2:
                continue  # a process we do not know of wrote meanwhile: the copy may be torn
            return _quick_check(copy.as_uri())
    raise AssertionError("unreachable")


def _stamps(*paths: Path) -> list[tuple[int, int] | None]:
    found: list[tuple[int, int] | None] = []
    for path in paths:
        try:
            st = path.stat()
            found.append((st.st_size, st.st_mtime_ns))
        except OSError:
            found.append(None)
    return found


def _quick_check(uri: str) -> list[str]:
    db = sqlite3.connect(uri, uri=True, timeout=2.0)
    try:
        rows = db.execute("PRAGMA quick_check(20)").fetchall()
    finally:
        db.close()
    complaints = [str(row[0]) for row in rows]
    return [] if complaints == ["ok"] else complaints
