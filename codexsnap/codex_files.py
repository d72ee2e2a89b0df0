"""Codex's own files: their names, the keys codexsnap reads in them, and small parsers.

Recipes, the evidence gathering and doctor all name Codex's files through this module, so a
fact learnt about Codex (a renamed file, a new key) changes in one place. Nothing here reads
the disk: callers hand in paths, bytes or parsed data.
"""

from __future__ import annotations

import json
import re
from typing import Any

# ----- the global state (the desktop app's JSON, mirrored in .bak on every save) ---------

GLOBAL_STATE = ".codex-global-state.json"
GLOBAL_STATE_BAK = ".codex-global-state.json.bak"
# The app's atomic save writes a temp file beside the state first (left behind: #41578).
GLOBAL_STATE_TMP_PREFIX = "..codex-global-state.json.tmp-"

LOCAL_PROJECTS_KEY = "local-projects"
ENROLLMENT_KEY = "electron-remote-control-client-enrollments"
# Which remote host the app picked, auto-connects to, and the environments it added.
REMOTE_SELECTION_KEYS = (
    "selected-remote-host-id",
    "remote-connection-auto-connect-by-host-id",
    "added-remote-control-env-ids",
)
# This computer's identity as a remote-control host, and the devices paired with it.
HOST_IDENTITY_KEYS = (
    "codex-mobile-has-connected-device",
    "electron-local-remote-control-environment-id",
    "electron-local-remote-control-installation-id",
    ENROLLMENT_KEY,
    "added-remote-control-env-ids",
)


def has_projects(data: dict[str, Any]) -> bool:
    """True when the state lists at least one local project."""
    projects = data.get(LOCAL_PROJECTS_KEY)
    return isinstance(projects, list | dict) and bool(projects)


def enrollments(data: dict[str, Any] | None) -> dict[str, str | None]:
    """Enrollment key -> clientId, from a parsed global state."""
    found = (data or {}).get(ENROLLMENT_KEY)
    if not isinstance(found, dict):
        return {}
    return {
        str(key): value.get("clientId") if isinstance(value, dict) else None
        for key, value in found.items()
    }


# ----- other files of the home ----------------------------------------------------------

CONFIG = "config.toml"
AUTH = "auth.json"
INSTALLATION_ID = "installation_id"
STATE_DB = "state_5.sqlite"
# The databases Codex keeps; doctor also checks any other *.sqlite it finds.
KNOWN_DATABASES = (
    STATE_DB,
    "logs_2.sqlite",
    "goals_1.sqlite",
    "memories_1.sqlite",
    "sqlite/codex.db",
)
# The app server's log databases (logs_2.sqlite): they hold only logs.
LOG_DATABASE_PREFIX = "logs_"
TUI_LOG = "log/codex-tui.log"
# Any of these shows that a folder is a Codex home.
HOME_MARKERS = (CONFIG, GLOBAL_STATE, "sessions", AUTH, STATE_DB)

# ----- the app server's runtime files (recreated on start, never snapshotted) -----------

SOCKET = "app-server-control/app-server-control.sock"
START_LOCK = "app-server-startup.lock"
PID_FILES = ("app-server-daemon/app-server.pid", "app-server-daemon/app-server-updater.pid")


def pid_in(raw: bytes | None) -> int | None:
    """The pid a pid file names, or None when it names none."""
    try:
        return int((raw or b"").split()[0])
    except (ValueError, IndexError):
        return None


# ----- sessions: rollouts and the sidebar's index ---------------------------------------

SESSION_FOLDERS = ("sessions", "archived_sessions")
SESSION_INDEX = "session_index.jsonl"
# A rollout's first line (its session_meta) is read up to this; transcripts can be gigabytes.
ROLLOUT_HEAD_BYTES = 1 << 20
_ROLLOUT = re.compile(r"^(archived_)?sessions/.*rollout-[^/]*\.jsonl$")
_STAMP = re.compile(r"rollout-(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})")


def is_rollout(relpath: str) -> bool:
    """True for an uncompressed rollout file (compressed ones cannot be read here)."""
    return _ROLLOUT.match(relpath) is not None


def rollout_timestamp(relpath: str) -> str | None:
    """The UTC time a rollout's file name carries, as ISO 8601, or None."""
    stamp = _STAMP.search(relpath)
    return f"{stamp[1]}T{stamp[2]}:{stamp[3]}:{stamp[4]}Z" if stamp else None


def session_meta(head: bytes) -> dict[str, Any] | None:
    """The ``session_meta`` payload of a rollout's first line, when it has an ``id``."""
    try:
        meta = json.loads(head.decode("utf-8").splitlines()[0])
    except (ValueError, IndexError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(meta, dict) or meta.get("type") != "session_meta":
        return None
    payload = meta.get("payload")
    if not isinstance(payload, dict) or not isinstance(payload.get("id"), str):
        return None
    return payload


def indexed_ids(raw: bytes) -> set[str]:
    """The thread ids ``session_index.jsonl`` lists (a damaged line is skipped, never rewritten)."""
    ids: set[str] = set()
    for line in raw.decode("utf-8", "replace").splitlines():
        try:
            entry = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            ids.add(entry["id"])
    return ids
