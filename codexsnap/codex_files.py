"""Codex's own files: their names, the keys codexsnap reads in them, and small parsers.

Recipes, the evidence gathering and doctor all name Codex's files through this module, so a
fact learnt about Codex (a renamed file, a new key) changes in one place. Nothing here reads
the disk: callers hand in paths, bytes or parsed data.
"""

from __future__ import annotations

import re
from typing import Any

# ----- the global state (the desktop app's JSON, mirrored in .bak on every save) ---------

GLOBAL_STATE = ".codex-global-state.json"
GLOBAL_STATE_BAK = ".codex-global-state.json.bak"
# The app's atomic save writes a temp file beside the state first (left behind: #41578).
GLOBAL_STATE_TMP_PREFIX = "..codex-global-state.json.tmp-"

LOCAL_PROJECTS_KEY = "local-projects"
# Ids of the projects in sidebar order, index-aligned with the saved workspace roots
# (BigPizzaV3/CodexPlusPlus PR #1559).
PROJECT_ORDER_KEY = "project-order"
SAVED_ROOTS_KEY = "electron-saved-workspace-roots"
# The project registry: what #37927 restored alone to bring back all 12 projects.
REGISTRY_KEYS = (LOCAL_PROJECTS_KEY, PROJECT_ORDER_KEY, SAVED_ROOTS_KEY)
THREAD_ASSIGNMENTS_KEY = "thread-project-assignments"
# The app treats its project migration as done even when the registry is empty (#35088).
MIGRATIONS_KEY = "electron-completed-local-data-migration-ids"
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
    return lists_projects(data.get(LOCAL_PROJECTS_KEY))


def lists_projects(projects: Any) -> bool:
    """True when a value of ``local-projects`` holds at least one project."""
    return isinstance(projects, list | dict) and bool(projects)


def registry_entries(data: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """The entries of ``local-projects`` the app keeps: objects with numeric timestamps.

    An entry without numeric ``createdAt``/``updatedAt`` is silently dropped by the app
    (#42739), so it is no project the sidebar shows.
    """
    found = (data or {}).get(LOCAL_PROJECTS_KEY)
    if isinstance(found, list):  # an older shape: a list of entries carrying their ids
        found = {str(e.get("id")): e for e in found if isinstance(e, dict)}
    if not isinstance(found, dict):
        return {}
    return {
        str(key): entry
        for key, entry in found.items()
        if isinstance(entry, dict) and all(_is_ms(entry.get(k)) for k in ("createdAt", "updatedAt"))
    }


def _is_ms(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def root_paths(entry: dict[str, Any]) -> list[str]:
    """The ``rootPaths`` of a registry entry (strings only)."""
    roots = entry.get("rootPaths")
    return [r for r in roots if isinstance(r, str)] if isinstance(roots, list) else []


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
LOGS_DB = "logs_2.sqlite"
# A database's sidecars: SQLite's WAL index and rollback journal go with it when it moves
# (the maintainer's advice in #20841: move the database *with* its -wal and -shm).
DB_SIDECARS = ("-wal", "-shm", "-journal")
# The app server's log databases (logs_2.sqlite): they hold only logs.
LOG_DATABASE_PREFIX = "logs_"
TUI_LOG = "log/codex-tui.log"
# Codex's own copies of a database it found malformed, and of the CLI's "Repair Codex local
# data now?": <db>.codex-recovery-<unix-ts>.<n>.bak (the same for -wal and -shm), and
# codex-repair likewise (codex-rs/state/src/runtime/recovery.rs, PR #26859).
_CODEX_COPY = re.compile(r"\.codex-(recovery|repair)-(\d+)\.(\d+)\.bak$")


def codex_copy_of(name: str, database: str) -> int | None:
    """The unix time of Codex's own copy ``name`` of ``database`` (not of its sidecars)."""
    if not name.startswith(database + ".codex-"):
        return None
    found = _CODEX_COPY.search(name)
    return int(found[2]) if found and found.start() == len(database) else None


# Any of these shows that a folder is a Codex home.
HOME_MARKERS = (CONFIG, GLOBAL_STATE, "sessions", AUTH, STATE_DB)

# Windows has no Settings → Connections → Control other devices (#28919, #31039): it is never
# a remote-control controller, so a revoked controller client cannot be its trouble.
NO_CONTROLLER_PLATFORMS = ("win32", "cygwin")
# Where a project of several folders stops the app from starting (#35057).
WINDOWS_PLATFORMS = ("win32", "cygwin")

# ----- the app server's runtime files (recreated on start, never snapshotted) -----------

SOCKET = "app-server-control/app-server-control.sock"
# The start lock stays after every clean exit: its presence is no fault.
START_LOCK = "app-server-control/app-server-startup.lock"
PID_FILES = ("app-server-daemon/app-server.pid", "app-server-daemon/app-server-updater.pid")
# Each pid file's lock, beside it; it goes with its pid file.
PID_LOCKS = tuple(f"{name}.lock" for name in PID_FILES)


def pid_in(raw: bytes | None) -> int | None:
    """The pid a pid file names, or None when it names none."""
    try:
        return int((raw or b"").split()[0])
    except (ValueError, IndexError):
        return None


# ----- the Linux desktop app's Electron profile (~/.config/Codex) -----------------------

# Chromium's single-instance files: links, SingletonLock's target is "<hostname>-<pid>". A
# dead app leaves them, and the next start says "The profile appears to be in use by another
# Codex process" (#38254).
SINGLETON_FILES = ("SingletonLock", "SingletonSocket", "SingletonCookie")


def singleton_owner(target: str) -> tuple[str, int] | None:
    """The host and pid a SingletonLock names, or None when it names none."""
    host, _, pid = target.rpartition("-")
    return (host, int(pid)) if host and pid.isdigit() else None


# ----- sessions: rollouts, and the app server's own log lines ---------------------------

SESSION_FOLDERS = ("sessions", "archived_sessions")
ARCHIVED_SESSIONS = "archived_sessions"
# A recipe reading rollouts reads their first line up to this; transcripts can be gigabytes.
ROLLOUT_HEAD_BYTES = 1 << 20
# A rollout is rollout-<YYYY-MM-DDThh-mm-ss>-<uuid>.jsonl; its thread id is that uuid
# (codex-rs/cli/src/doctor/thread_inventory.rs).
_ROLLOUT_NAME = re.compile(
    r"^rollout-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-"
    r"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\.jsonl$"
)


def is_rollout_name(name: str) -> bool:
    """True for a file name Codex gives transcripts (well formed or not)."""
    return name.startswith("rollout-") and name.endswith(".jsonl")


def rollout_thread_id(name: str) -> str | None:
    """The thread id a rollout's file name carries, lower case, or None when malformed."""
    found = _ROLLOUT_NAME.match(name)
    return found[1].lower() if found else None


# What the app server logs into the ``logs`` table of logs_2.sqlite about remote control:
# kind -> the text of its message (matched case-insensitively, anywhere in the body).
APP_SERVER_SIGNS = {
    "mfa-required": "Multi-factor authentication required",  # #22696, #27167
    "enrollment-incomplete": "remote control pairing is unavailable until enrollment completes",
    "already-online": "Remote app server already online",  # HTTP 409: #39959, #28862
    "no-enrollment": "no persisted remote control enrollment found",
}
