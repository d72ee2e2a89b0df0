"""What snapshots note without storing: files left out of scope, and a fingerprint of auth.json.

Reports can then say "sessions: 3 files added, 12.4 MB" or "auth.json changed" without the
store ever holding transcripts or tokens.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

from codexsnap.home import CODEX_DATABASES, DESKTOP_DATABASES
from codexsnap.roots import SQLITE_PREFIX
from codexsnap.scope import LISTED_CATEGORIES, Scope, walk_scope

AUTH_FILE = "auth.json"
# A file of an outside SQLite home is Codex's when it is named after one of its databases
# (the database, its -wal, Codex's .codex-recovery-* copies) or is a logs_* database.
_DATABASE_NAMES = (*CODEX_DATABASES, *DESKTOP_DATABASES, "logs_")


def scan_outside(home: Path, scope: Scope) -> dict[str, list[int]]:
    """Path -> [size, mtime_ns] of every file that scope leaves out as bulky or by choice.

    A snapshot gets this from its own walk (``walk_scope(..., outside=)``); this walks the
    home for the callers that need only the listing.
    """
    listed: dict[str, list[int]] = {}
    for _ in walk_scope(home, scope, outside=listed):
        pass
    listed.update(sqlite_home_outside(scope))
    return dict(sorted(listed.items()))


def sqlite_home_outside(scope: Scope) -> dict[str, list[int]]:
    """What ``scan_outside`` lists of an outside SQLite home (none when there is none)."""
    if scope.sqlite_home is None:
        return {}
    return _outside_sqlite_home(scope.sqlite_home, scope)


def _outside_sqlite_home(folder: Path, scope: Scope) -> dict[str, list[int]]:
    """The bulky files of an outside SQLite home (``logs_2.sqlite``, Codex's recovery copies),
    as ``@sqlite/<name>``: its top level only, and only files named after a database, since
    the folder may be any folder (``sqlite_home = "~"``), as its walk in roots.py does."""
    listed: dict[str, list[int]] = {}
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return listed
    for entry in entries:
        if not entry.name.startswith(_DATABASE_NAMES):
            continue
        relpath = SQLITE_PREFIX + entry.name
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        rule = scope.excluded_by(relpath)
        if stat.S_ISREG(st.st_mode) and rule is not None and rule.category in LISTED_CATEGORIES:
            listed[relpath] = [st.st_size, st.st_mtime_ns]
    return listed


def auth_fingerprint(home: Path) -> dict[str, Any] | None:
    """A hash, the key names and ``last_refresh`` of auth.json: enough to see it changed."""
    path = home / AUTH_FILE
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    fingerprint: dict[str, Any] = {"sha256": hashlib.sha256(raw).hexdigest()}
    try:
        data = json.loads(raw)
    except ValueError:
        return fingerprint
    if isinstance(data, dict):
        fingerprint["keys"] = sorted(_key_paths(data))
        refreshed = data.get("last_refresh")
        if isinstance(refreshed, str):
            fingerprint["last_refresh"] = refreshed
    return fingerprint


def _key_paths(data: dict[str, Any], prefix: str = "") -> list[str]:
    paths: list[str] = []
    for key, value in data.items():
        path = f"{prefix}{key}"
        paths.append(path)
        if isinstance(value, dict):
            paths += _key_paths(value, f"{path}.")
    return paths
