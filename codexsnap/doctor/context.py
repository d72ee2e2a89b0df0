"""What every check reads, gathered once per doctor run: one argument for every check."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codexsnap.codex_files import GLOBAL_STATE, GLOBAL_STATE_BAK, LOGS_DB, STATE_DB
from codexsnap.doctor.app_server_log import AppServerLog, read_app_server_log
from codexsnap.doctor.check import read_regular
from codexsnap.errors import CodexsnapError
from codexsnap.home import CODEX_DATABASES, CodexHome, SqliteHome, find_sqlite_home
from codexsnap.logs import LogScan, scan_logs
from codexsnap.processes import CodexProcess, alive, find_codex_processes
from codexsnap.projects_db import StateRead, read_state_database
from codexsnap.state_file import read_state_file


@dataclass(frozen=True)
class GlobalState:
    """One global-state file as read: its data, or why it could not be read."""

    name: str
    raw: bytes | None
    data: dict[str, Any] | None
    error: str | None

    @property
    def present(self) -> bool:
        """True when the file exists, readable or not."""
        return self.raw is not None or self.error is not None


@dataclass(frozen=True)
class DoctorContext:
    """The home, the store, the processes, the global states and the log scan of one run."""

    home: CodexHome
    store_root: Path
    processes: tuple[CodexProcess, ...]
    primary: GlobalState
    bak: GlobalState
    scan: LogScan
    missing_log_folders: tuple[Path, ...]  # asked for, but not found
    databases: tuple[Path, ...]
    now: float
    sqlite: SqliteHome
    app_server_log: AppServerLog
    state: StateRead  # the live state database's projects and backfill
    # The operation whose journal is still in the store: a codexsnap run stopped half-way,
    # so the home may hold some of its writes and not others ("" when the journal is unread).
    interrupted: str | None = None
    platform: str = sys.platform  # a parameter so that tests can be another system
    # Which of these pids are alive: a parameter so that tests can decide.
    alive: Callable[[list[int]], frozenset[int]] = field(default=alive)

    @property
    def path(self) -> Path:
        """The Codex home's folder."""
        return self.home.path


def gather_context(
    home: CodexHome,
    store_root: Path,
    log_folders: Sequence[Path],
    sqlite_option: Path | None = None,
    platform: str = sys.platform,
    interrupted: str | None = None,
) -> DoctorContext:
    """Read, once, what the checks need; nothing in the home or store changes."""
    processes = tuple(find_codex_processes())
    primary = load_global_state(home.path, GLOBAL_STATE)
    bak = load_global_state(home.path, GLOBAL_STATE_BAK)
    scan = scan_logs(log_folders)
    missing = tuple(f for f in dict.fromkeys(log_folders) if f not in scan.folders)
    sqlite = find_sqlite_home(home, sqlite_option)
    databases = tuple(find_databases(home.path, sqlite))
    log = read_app_server_log(sqlite.database(LOGS_DB))
    state = read_state_database(sqlite.database(STATE_DB))
    return DoctorContext(
        home,
        store_root,
        processes,
        primary,
        bak,
        scan,
        missing,
        databases,
        time.time(),
        sqlite,
        log,
        state,
        interrupted=interrupted,
        platform=platform,
    )


def load_global_state(home: Path, name: str) -> GlobalState:
    """Read one global-state file strictly, turning refusal into a reason."""
    try:
        found = read_state_file(home, home / name)
    except CodexsnapError as error:
        return GlobalState(name, read_regular(home / name), None, error.message)
    except OSError as error:
        return GlobalState(name, None, None, f"{home / name} cannot be read: {error.strerror}")
    if found is None:
        return GlobalState(name, None, None, None)
    return GlobalState(name, found.raw, found.data, None)


def find_databases(home: Path, sqlite: SqliteHome) -> list[Path]:
    """Every database of every layout (the live one first), then any other in the home.

    A corrupt database in a layout Codex does not use now is still one it may use again (the
    CLI and the app each keep their own), so every layout is checked.
    """
    folders = [layout.path for layout in sqlite.layouts] + [home, home / "sqlite"]
    found: list[Path] = []
    known = {name: index for index, name in enumerate(CODEX_DATABASES)}
    for folder in dict.fromkeys(folders):
        files = [*folder.glob("*.sqlite"), *folder.glob("*.db")]
        found += sorted(files, key=lambda p: (known.get(p.name, len(known)), p.name))
    # Codex's recovery work files (<db>.codex-recovery-normalized.sqlite, ...) are not its own.
    unique = dict.fromkeys(
        p for p in found if p.is_file() and not p.is_symlink() and ".codex-" not in p.name
    )
    return list(unique)
