"""Which ``codexsnap watch`` runs on a home: one small file per home in the store's watch/.

Written when a watcher starts and removed when it stops, so ``protect --status`` and doctor
can tell a running watcher without asking a service manager (there may be none). A file
left by a killed watcher names a dead process and reads as not running.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from codexsnap.atomic_io import atomic_write
from codexsnap.store.index import home_id

WATCH_FOLDER = "watch"


@dataclass(frozen=True)
class WatcherState:
    """The watcher a home's file names, and whether that process still lives."""

    pid: int
    started_at: datetime
    mode: str  # "events" or "polling"
    alive: bool


def _path(store_root: Path, home: Path) -> Path:
    return store_root / WATCH_FOLDER / f"{home_id(home)}.json"


def mark_running(store_root: Path, home: Path, started_at: datetime, mode: str) -> None:
    """Record this process as the home's watcher."""
    path = _path(store_root, home)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    data = {"pid": os.getpid(), "started_at": started_at.isoformat(), "mode": mode}
    atomic_write(path, json.dumps(data).encode() + b"\n", mode=0o600)


def mark_stopped(store_root: Path, home: Path) -> None:
    """Forget this process as the home's watcher (only if it is still the one named)."""
    found = watcher_of(store_root, home)
    if found is not None and found.pid == os.getpid():
        with contextlib.suppress(OSError):
            _path(store_root, home).unlink()


def watcher_of(store_root: Path, home: Path) -> WatcherState | None:
    """The home's recorded watcher, None when none was ever recorded (or the file is bad)."""
    try:
        data = json.loads(_path(store_root, home).read_text())
        pid = int(data["pid"])
        started = datetime.fromisoformat(str(data["started_at"]))
        mode = str(data.get("mode", "events"))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return WatcherState(pid, started, mode, _is_watcher(pid))


def _is_watcher(pid: int) -> bool:
    """True when ``pid`` runs and is a ``watch`` (a killed watcher's pid may be reused)."""
    import psutil

    try:
        return "watch" in psutil.Process(pid).cmdline()
    except (psutil.Error, OSError):
        return False
