"""codexsnap bundle: the facts someone helping needs, gathered read-only, never a secret.

Everything here is read from the home, the store and the logs without writing either;
the CLI turns it into one text file and masks every line once more (cli/text.py).
"""

from __future__ import annotations

import platform
import re
import sqlite3
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from codexsnap import __version__
from codexsnap.codex_version import VERSION_FILE, live_migrations
from codexsnap.commands.check import CheckResult, check
from codexsnap.commands.doctor import DoctorResult, doctor
from codexsnap.commands.history import HistoryEntry, history_entries
from codexsnap.doctor.context import find_databases
from codexsnap.doctor.databases import quick_check
from codexsnap.errors import CodexsnapError
from codexsnap.home import CodexHome, find_sqlite_home
from codexsnap.logs import scan_logs
from codexsnap.redact import redact_line
from codexsnap.scope import load_scope
from codexsnap.sqlite_read import stable_copy
from codexsnap.store import SnapshotStore

HISTORY_ENTRIES = 20
_CONTEXT = 2  # log lines kept before and after each remote-control error
_MAX_LOG_LINES = 60
_MAX_LINE = 300
_ERROR_LINE = re.compile(
    r"remote[- ]control.*(error|revoked|fail|denied|40[139]|mismatch|multi-factor)"
    r"|(error|warn).*remote[- ]control",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DatabaseLayout:
    """One database: where, how big, its integrity, its tables' row counts (no row)."""

    path: str
    size: int
    integrity: tuple[str, ...]  # quick_check's complaints; () when it is ok
    tables: dict[str, int]
    error: str = ""  # why it could not be read


@dataclass(frozen=True)
class LogExcerpt:
    """Lines around one remote-control error in one log file (masked, cut)."""

    path: Path
    first_line: int
    lines: tuple[str, ...]


@dataclass(frozen=True)
class BundleFacts:
    """What goes into a bundle, before it is written as text."""

    tool_version: str
    python_version: str
    system: str
    codex_version: str
    doctor: DoctorResult
    history: tuple[HistoryEntry, ...]
    scope: dict[str, list[str]]
    store_check: CheckResult | None
    store_error: str
    logs: tuple[LogExcerpt, ...]
    databases: tuple[DatabaseLayout, ...]


def bundle(
    home: CodexHome,
    store_root: Path,
    log_folders: Sequence[Path],
    sqlite_option: Path | None = None,
) -> BundleFacts:
    """Gather the bundle's facts, changing nothing (the store check quarantines nothing)."""
    found = doctor(home, store_root, log_folders, sqlite_option=sqlite_option)
    store_check: CheckResult | None = None
    store_error = ""
    if SnapshotStore.exists(store_root):
        try:
            store_check = check(store_root, quarantine=False)
        except CodexsnapError as error:
            store_error = error.message
    else:
        store_error = f"no store at {store_root} yet"
    try:
        entries = tuple(history_entries(home.path, store_root, HISTORY_ENTRIES))
    except CodexsnapError as error:
        entries, store_error = (), store_error or error.message
    sqlite = find_sqlite_home(home, sqlite_option)
    return BundleFacts(
        tool_version=__version__,
        python_version=sys.version.split()[0],
        system=f"{platform.system()} {platform.release()} ({platform.machine()})",
        codex_version=codex_version(home.path, sqlite.database("state_5.sqlite")),
        doctor=found,
        history=entries,
        scope=load_scope(store_root).to_config(),
        store_check=store_check,
        store_error=store_error,
        logs=tuple(log_excerpts(found.log_folders)),
        databases=tuple(layout(home.path, db) for db in find_databases(home.path, sqlite)),
    )


def codex_version(home: Path, state_database: Path) -> str:
    """What the home says of Codex's version: its update check and its newest migration."""
    import json

    parts = []
    try:
        data = json.loads((home / VERSION_FILE).read_bytes()[:16_384])
        latest = data.get("latest_version") if isinstance(data, dict) else None
        if isinstance(latest, str):
            parts.append(f"latest_version {latest[:40]} in version.json (Codex's update check)")
    except (OSError, ValueError):
        pass
    migrations = live_migrations(state_database) if state_database.is_file() else None
    if migrations:
        parts.append(f"state database at migration {max(migrations)}")
    return "; ".join(parts) or "unknown (no version.json, no state database)"


def log_excerpts(folders: Sequence[Path]) -> list[LogExcerpt]:
    """The lines around each remote-control error in the newest log files, masked."""
    scan = scan_logs(folders, max_bytes=16 * 1024 * 1024, max_files=50)
    files = dict.fromkeys(
        [e.path for e in scan.revoked] + [f.path for f in scan.findings] + _log_files(folders)
    )
    found: list[LogExcerpt] = []
    total = 0
    for path in files:
        try:
            text = path.read_bytes()[-4 * 1024 * 1024 :].decode("utf-8", "replace")
        except OSError:
            continue
        lines = text.splitlines()
        hits = [n for n, line in enumerate(lines) if _ERROR_LINE.search(line)]
        start_end: list[tuple[int, int]] = []
        for n in hits:
            lo, hi = max(0, n - _CONTEXT), min(len(lines), n + _CONTEXT + 1)
            if start_end and lo <= start_end[-1][1]:
                start_end[-1] = (start_end[-1][0], hi)
            else:
                start_end.append((lo, hi))
        for lo, hi in start_end:
            if total >= _MAX_LOG_LINES:
                return found
            kept = [_masked(line) for line in lines[lo:hi]][: _MAX_LOG_LINES - total]
            total += len(kept)
            found.append(LogExcerpt(path, lo + 1, tuple(kept)))
    return found


def _log_files(folders: Sequence[Path]) -> list[Path]:
    files: list[Path] = []
    for folder in folders:
        if folder.is_dir():
            files += sorted(p for p in folder.rglob("*.log") if p.is_file())[-20:]
    return files


def _masked(line: str) -> str:
    line = redact_line(line)
    return line if len(line) <= _MAX_LINE else line[: _MAX_LINE - 1] + "…"


def layout(home: Path, database: Path) -> DatabaseLayout:
    """A database's size, integrity and row counts, read from a consistent private copy."""
    shown = database.relative_to(home).as_posix() if home in database.parents else str(database)
    try:
        size = database.stat().st_size
        integrity = tuple(quick_check(database))
        tables: dict[str, int] = {}
        with stable_copy(database) as copy:
            conn = sqlite3.connect(copy.as_uri(), uri=True)
            try:
                names = [
                    str(row[0])
                    for row in conn.execute(
                        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
                    )
                ]
                for name in names:
                    quoted = '"' + name.replace('"', '""') + '"'
                    tables[name] = int(conn.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0])
            finally:
                conn.close()
        return DatabaseLayout(shown, size, integrity, tables)
    except (OSError, sqlite3.Error, CodexsnapError) as error:
        return DatabaseLayout(shown, 0, (), {}, error=redact_line(str(error)))
