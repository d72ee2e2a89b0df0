"""Codex's SQLite databases, in every layout: integrity (``quick_check``), a ``-wal`` never
checkpointed, Codex's own recovery copies to restore from, and the split between layouts."""

from __future__ import annotations

import dataclasses
import sqlite3
import time
from pathlib import Path

from codexsnap.codex_files import LOG_DATABASE_PREFIX, codex_copy_of
from codexsnap.doctor.check import Check, Cure, human_size, shown_path, stat_size
from codexsnap.doctor.context import DoctorContext
from codexsnap.redact import redact_text
from codexsnap.sqlite_copy import sidecars
from codexsnap.sqlite_read import stable_copy

BIG_WAL = 64 << 20  # a -wal this big, and WAL_RATIO times its database, is not checkpointed
WAL_RATIO = 4
QUICK_CHECK_LIMIT = 256 << 20  # bigger databases are not copied and checked: too slow


class DatabaseCheck:
    """The check of one database of the home (doctor runs one per database it finds)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self, ctx: DoctorContext) -> Check:
        verdict = inspect_database(ctx.path, self.path, bool(ctx.processes))
        if verdict.status != "problem" or verdict.remedy is None:
            return verdict
        return _quarantine_cure(ctx, self.path, verdict)


def quarantine_name(ctx: DoctorContext, path: Path) -> str | None:
    """How ``quarantine-db`` names the database: its stem when live, else its path in the home."""
    try:
        relpath = path.relative_to(ctx.path).as_posix()
    except ValueError:
        return None  # outside the Codex home: not moved from there
    if path == ctx.sqlite.database(path.name):
        return path.name.removesuffix(".sqlite")
    return relpath


def _quarantine_cure(ctx: DoctorContext, path: Path, verdict: Check) -> Check:
    """A damaged database's cure: move it aside with its sidecars, or put a good copy in."""
    name = quarantine_name(ctx, path)
    if name is None:
        return verdict
    quit_first = bool(ctx.processes)
    if path.name.startswith(LOG_DATABASE_PREFIX):
        cure = Cure.fix("quarantine-db", name)  # it holds only logs: a rebuild loses nothing
        return dataclasses.replace(verdict, remedy=cure.after_quit(quit_first))
    relpath = shown_path(ctx.path, path)
    evidence = verdict.evidence
    good = newest_good_snapshot(ctx.path, ctx.store_root, relpath)
    if good:
        evidence += f"; a good copy is in snapshot {good}"
    if recovery_copies(path):
        cure = Cure.fix("quarantine-db", name, "--from", "recovery-copy")
    elif good:
        cure = Cure.fix("quarantine-db", name, "--from", "snapshot")
    else:
        cure = Cure.fix("quarantine-db", name)
    return Check(verdict.name, verdict.status, evidence, cure.after_quit(quit_first))


def newest_good_snapshot(home: Path, store_root: Path, relpath: str) -> str | None:
    """The short id of the newest snapshot whose copy of the database passes quick_check."""
    from codexsnap.errors import CodexsnapError
    from codexsnap.scratch import scratch_folder
    from codexsnap.store import SnapshotStore

    try:
        if not SnapshotStore.exists(store_root):
            return None
        with SnapshotStore.open(store_root, create=False) as store:
            for snapshot in store.history(home, 50):
                record = store.records(snapshot).get(relpath)
                if record is None:
                    continue
                with scratch_folder("doctor-") as scratch:
                    copy = scratch / "db.sqlite"
                    copy.write_bytes(store.read_blob(record.blob))
                    try:
                        if not _quick_check(copy.as_uri()):
                            return snapshot.short_id
                    except sqlite3.DatabaseError:
                        continue
    except (CodexsnapError, OSError):
        return None
    return None


def check_sqlite_home(ctx: DoctorContext) -> Check:
    """Where Codex keeps its databases, and a split between two layouts (#29953, #28087)."""
    sqlite = ctx.sqlite
    where = f"Codex run here resolves {sqlite.path} (from {sqlite.source})"
    if sqlite.live is None:
        return Check("sqlite-home", "ok", f"{where}: no database yet")
    live = f"databases in use: {sqlite.live.path} ({sqlite.reason})"
    if sqlite.warning is not None:
        return Check(
            "sqlite-home",
            "warning",
            sqlite.warning,
            Cure.say(
                f"use one layout: run the codex CLI with CODEX_SQLITE_HOME={sqlite.live.path} "
                "(or set sqlite_home in config.toml), so both see the same threads"
            ),
        )
    return Check("sqlite-home", "ok", f"{where}; {live}")


def recovery_copies(path: Path) -> list[tuple[Path, int]]:
    """Codex's own copies of ``path`` (recovery, repair), newest first, with their times."""
    try:
        names = [entry.name for entry in path.parent.iterdir()]
    except OSError:
        return []
    found = [(path.parent / n, stamp) for n in names if (stamp := codex_copy_of(n, path.name))]
    return sorted(found, key=lambda item: (item[1], item[0].name), reverse=True)


def _with_copies(path: Path, cure: Cure) -> tuple[str, Cure]:
    """Evidence naming Codex's own copies of a damaged database, and the cure that uses them."""
    copies = recovery_copies(path)
    if not copies:
        return "", cure
    newest, stamp = copies[0]
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp))
    more = f" (+{len(copies) - 1} older)" if len(copies) > 1 else ""
    listed = f"; Codex's own copy: {newest.name} of {when}, {human_size(stat_size(newest))}{more}"
    advice = (
        f"{cure.advice.rstrip(':')}, or put back Codex's own copy: move {path.name} and its "
        f"-wal/-shm aside, copy {newest.name} to {path.name} (and its -wal copy, if any); to "
        "see snapshots:"
    )
    return listed, Cure(command=cure.command, advice=advice, quit_first=cure.quit_first)


def inspect_database(home: Path, path: Path, live: bool = False) -> Check:
    """Integrity (``quick_check``) and a ``-wal`` far larger than its database."""
    relpath = shown_path(home, path)
    name = f"sqlite:{relpath}"
    wal = sidecars(path)[0]
    db_size = stat_size(path)
    wal_size = stat_size(wal)
    sizes = human_size(db_size) + (f", -wal {human_size(wal_size)}" if wal_size else "")
    copies = ""
    if path.name.startswith(LOG_DATABASE_PREFIX):
        repair = Cure.say(
            f"move {relpath} and its -wal/-shm out of the home (it holds only logs)"
        ).after_quit()
    else:
        repair = Cure.run("history", "roll back to a snapshot from before:").after_quit()
        copies, repair = _with_copies(path, repair)
    if db_size + wal_size > QUICK_CHECK_LIMIT:
        verdict = Check.skipped(
            name,
            f"{sizes}; quick_check skipped: over {human_size(QUICK_CHECK_LIMIT)}, too slow",
            f"quit Codex, then: sqlite3 {path} 'PRAGMA quick_check'",
        )
    else:
        try:
            complaints = quick_check(path, live)
        except sqlite3.OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                return Check.skipped(
                    name, f"{sizes}; busy: {error}", "quit Codex, then run codexsnap doctor again"
                )
            return Check(name, "problem", f"{sizes}; cannot be read: {error}{copies}", repair)
        except sqlite3.DatabaseError as error:
            return Check(name, "problem", f"{sizes}; {error}{copies}", repair)
        except OSError as error:
            return Check(name, "warning", f"cannot be read: {error.strerror}", None)
        if complaints:
            more = f" (+{len(complaints) - 1} more)" if len(complaints) > 1 else ""
            return Check(
                name,
                "problem",
                f"quick_check: {redact_text(complaints[0])}{more}{copies}",
                repair,
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
    with stable_copy(path) as copy:
        return _quick_check(copy.as_uri())


def _quick_check(uri: str) -> list[str]:
    db = sqlite3.connect(uri, uri=True, timeout=2.0)
    try:
        rows = db.execute("PRAGMA quick_check(20)").fetchall()
    finally:
        db.close()
    complaints = [str(row[0]) for row in rows]
    return [] if complaints == ["ok"] else complaints
