"""The contents of a realistic Codex home: global state, tables, columns and rows as real homes
hold them.

Schemas from openai/codex ``codex-rs/state/migrations`` and a third-party fixture of a real
``state_5.sqlite`` (docs/design.md); every value is fake. Used by ``demo_home``.
"""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass
from typing import Any

MIGRATIONS = (
    (1, "threads"),
    (4, "memory summaries"),
    (9, "agent jobs"),
    (10, "feedback log indexes"),
    (13, "threads agent nickname"),
    (25, "thread timestamps millis"),
    (33, "thread search"),
    (34, "thread search backfill state"),
    (38, "threads recency at"),
    (40, "threads name"),
    (41, "thread spawn edges parent child"),
)
STATE_SCHEMA = """
CREATE TABLE _sqlx_migrations (
    version BIGINT PRIMARY KEY, description TEXT NOT NULL,
    installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL,
    checksum BLOB NOT NULL, execution_time BIGINT NOT NULL
);
CREATE TABLE projects (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, metadata TEXT NOT NULL DEFAULT '{}',
    position INTEGER NOT NULL, created_at_ms INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL
);
CREATE TABLE project_roots (
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    position INTEGER NOT NULL, path TEXT NOT NULL, PRIMARY KEY (project_id, position)
);
CREATE TABLE project_idempotency_keys (
    key TEXT PRIMARY KEY, project_id TEXT NOT NULL, created_at_ms INTEGER NOT NULL
);
CREATE TABLE threads (
    id TEXT PRIMARY KEY, rollout_path TEXT NOT NULL, created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL, source TEXT NOT NULL, model_provider TEXT NOT NULL,
    cwd TEXT NOT NULL, title TEXT NOT NULL, sandbox_policy TEXT NOT NULL,
    approval_mode TEXT NOT NULL, tokens_used INTEGER NOT NULL DEFAULT 0,
    archived INTEGER NOT NULL DEFAULT 0, archived_at INTEGER, git_sha TEXT, git_branch TEXT,
    git_origin_url TEXT, name TEXT,
    project_id TEXT REFERENCES projects(id) ON DELETE SET NULL
);
CREATE INDEX idx_threads_updated_at ON threads(updated_at DESC, id DESC);
CREATE TABLE thread_spawn_edges (
    parent_thread_id TEXT NOT NULL, child_thread_id TEXT NOT NULL PRIMARY KEY,
    status TEXT NOT NULL
);
CREATE TABLE backfill_state (
    id INTEGER PRIMARY KEY CHECK (id = 1), status TEXT NOT NULL, last_watermark TEXT,
    last_success_at INTEGER, updated_at INTEGER NOT NULL
);
CREATE TABLE remote_control_enrollments (
    websocket_url TEXT NOT NULL, account_id TEXT NOT NULL,
    app_server_client_name TEXT NOT NULL, server_id TEXT NOT NULL,
    environment_id TEXT NOT NULL, server_name TEXT NOT NULL,
    updated_at INTEGER NOT NULL, remote_control_enabled INTEGER,
    PRIMARY KEY (websocket_url, account_id, app_server_client_name)
);
"""
LOGS_SCHEMA = """
CREATE TABLE _sqlx_migrations (
    version BIGINT PRIMARY KEY, description TEXT NOT NULL,
    installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL,
    checksum BLOB NOT NULL, execution_time BIGINT NOT NULL
);
CREATE TABLE logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL, ts_nanos INTEGER NOT NULL,
    level TEXT NOT NULL, target TEXT NOT NULL, feedback_log_body TEXT, module_path TEXT,
    file TEXT, line INTEGER, thread_id TEXT, process_uuid TEXT, estimated_bytes INTEGER
);
"""
DESKTOP_SCHEMA = """
CREATE TABLE automations (id TEXT PRIMARY KEY, name TEXT NOT NULL, schedule TEXT);
CREATE TABLE automation_runs (id TEXT PRIMARY KEY, automation_id TEXT NOT NULL, status TEXT);
CREATE TABLE inbox_items (id TEXT PRIMARY KEY, thread_id TEXT, title TEXT);
CREATE TABLE local_thread_catalog (thread_id TEXT PRIMARY KEY, project_id TEXT, title TEXT);
"""

WEBSOCKET_URL = "wss://chatgpt.com/backend-api/wham/remote/control/server"
ACCOUNT_ID = "acct_0123456789"
SERVER_ID = "srv_e_" + "4f3e2d1c0b0a99887766554433221100"
ENVIRONMENT_ID = "env_e_" + "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
ENROLLMENT_ROW = (
    WEBSOCKET_URL, ACCOUNT_ID, "Codex Desktop", SERVER_ID, ENVIRONMENT_ID, "ana-mbp",
    1763630000, 1,
)  # fmt: skip


@dataclass(frozen=True)
class Thread:
    """One thread: its row, its rollout file, and the name it was given (if renamed)."""

    id: str
    cwd: str
    title: str
    created: str  # rollout timestamp, 2026-11-20T10-00-00
    name: str | None = None  # set when the user renamed it: session_index.jsonl has it

    @property
    def rollout(self) -> str:
        day = self.created[:10].replace("-", "/")
        return f"sessions/{day}/rollout-{self.created}-{self.id}.jsonl"


def thread_id(n: int) -> str:
    """A UUID of the v7 shape Codex gives threads (ids that are not UUIDs are ignored)."""
    return str(uuid.UUID(f"019aa1b2-c3d4-7e5f-8a6b-{n:012x}"))


def insert_thread(
    db: sqlite3.Connection, tid: str, title: str, cwd: str, rollout_path: str = ""
) -> None:
    """Add a thread row with the real columns (tests add threads to a live database)."""
    db.execute(
        "INSERT INTO threads (id, rollout_path, created_at, updated_at, source, model_provider,"
        " cwd, title, sandbox_policy, approval_mode) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (tid, rollout_path or f"/r/{tid}.jsonl", 1763632800000, 1763632800000, "vscode",
         "openai", cwd, title, "workspace-write", "on-request"),
    )  # fmt: skip


def native_project_id(position: int) -> str:
    """The database's own id of the project at ``position`` (the sidebar has legacy ids)."""
    return f"proj_{position + 1:02d}" + "a1b2c3d4e5f6a7b8c9d0"


def fill_state(
    db: sqlite3.Connection,
    threads: list[Thread],
    projects: list[dict[str, Any]],
    home: str,
    legacy_ids: list[str],
) -> None:
    """Write the schema and rows of ``state_5.sqlite``."""
    db.executescript(STATE_SCHEMA)
    db.executemany(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)"
        " VALUES (?, ?, 1, ?, 1200000)",
        [(v, d, bytes([v]) * 48) for v, d in MIGRATIONS],
    )
    for position, (project, legacy) in enumerate(zip(projects, legacy_ids, strict=True)):
        native = native_project_id(position)
        db.execute(
            "INSERT INTO projects VALUES (?, ?, '{}', ?, ?, ?)",
            (native, project["name"], position, project["createdAt"], project["updatedAt"]),
        )
        roots: list[str] = project["rootPaths"]
        for index, root in enumerate(roots):
            db.execute("INSERT INTO project_roots VALUES (?, ?, ?)", (native, index, root))
        db.execute(
            "INSERT INTO project_idempotency_keys VALUES (?, ?, ?)",
            (legacy, native, project["createdAt"]),
        )
    for thread in threads:
        insert_thread(db, thread.id, thread.title, thread.cwd, f"{home}/{thread.rollout}")
        if thread.name:
            db.execute("UPDATE threads SET name = ? WHERE id = ?", (thread.name, thread.id))
        # Each thread belongs to the project of its folder, as the app links them.
        db.execute(
            "UPDATE threads SET project_id = (SELECT project_id FROM project_roots WHERE path = ?)"
            " WHERE id = ?",
            (thread.cwd, thread.id),
        )
    db.execute(
        "INSERT INTO backfill_state VALUES (1, 'complete', ?, 1763632900, 1763632900)",
        (threads[-1].rollout if threads else None,),
    )
    db.execute("INSERT INTO remote_control_enrollments VALUES (?,?,?,?,?,?,?,?)", ENROLLMENT_ROW)


def fill_logs(db: sqlite3.Connection, rows: int = 100) -> None:
    """The app server's own log lines in ``logs_2.sqlite`` (doctor reads them as evidence)."""
    db.executescript(LOGS_SCHEMA)
    remote = "codex_app_server::remote_control"
    lines = [
        ("INFO", "codex_app_server", "app-server listening on app-server-control.sock"),
        ("WARN", remote, "no persisted remote control enrollment found"),
    ]
    db.executemany(
        "INSERT INTO logs (ts, ts_nanos, level, target, feedback_log_body, module_path, file,"
        " line, thread_id, process_uuid, estimated_bytes) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        [
            (1763632800 + i, i * 1000, *lines[i % 2][:2], lines[i % 2][2] + " " + "x" * 60,
             lines[i % 2][1], "app-server/src/lib.rs", 100 + i, None,
             "6f1e2d3c-4b5a-4978-8a9b-0c1d2e3f4a5b", 120)
            for i in range(rows)
        ],
    )  # fmt: skip


ENROLLMENT_KEY = "\n".join(
    [
        "Codex Desktop",
        "http://localhost:8000/api",
        "https://chatgpt.com/backend-api",
        "after-first-unlock-device-key-v1",
        "user_AbC1dEf2GhI3jKl4",
    ]
)
REVOKED_CLIENT_ID = "cli_9f8e7d6c5b4a39281706f5e4"
ACCESS_TOKEN = "eyJhbGciOiJSUzI1NiJ9.ACCESS-TOKEN-SECRET-b7c1d9.signature"
MCP_TOKEN = "ghp_SECRETgithubTOKEN0123456789abcdefABCD"
PUBLIC_KEY = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE" + "Q" * 60
ROOTS = ("/Users/ana/src/api", "/Users/ana/src/web")
PROJECT_IDS = ("local_8d1f3c2a5b6e4f70", "local_2c3d4e5f6a7b8c9d")  # the sidebar's own ids
THREADS = (
    Thread(thread_id(0), ROOTS[0], "Fix the parser", "2026-11-20T10-00-00", "Parser fix"),
    Thread(thread_id(1), ROOTS[0], "Add tests for the lexer", "2026-11-21T09-30-00"),
    Thread(thread_id(2), ROOTS[1], "Why is the build slow?", "2026-11-22T16-45-10"),
)


def enrollments() -> dict[str, Any]:
    """The enrollment map the desktop app keeps for a revoked controller client."""
    return {
        ENROLLMENT_KEY: {
            "accountUserId": "user_AbC1dEf2GhI3jKl4",
            "clientId": REVOKED_CLIENT_ID,
            "keyId": "key_5a4b3c2d1e0f",
            "algorithm": "ecdsa_p256_sha256",
            "protectionClass": "hardware_only",
            "publicKeySpkiDerBase64": PUBLIC_KEY,
        }
    }


def local_projects() -> dict[str, Any]:
    """The project registry: keyed by id, numeric ms timestamps, or the app drops the entry."""
    return {
        pid: {
            "id": pid,
            "name": root.rsplit("/", 1)[-1],
            "rootPaths": [root],
            "createdAt": 1758440000000 + n * 86_400_000,
            "updatedAt": 1763632800000 + n * 60_000,
        }
        for n, (pid, root) in enumerate(zip(PROJECT_IDS, ROOTS, strict=True))
    }


def global_state(drafts: int = 3) -> dict[str, Any]:
    """A global state with dozens of keys, nested atom state and the remote-control keys."""
    ids = [t.id for t in THREADS]
    state: dict[str, Any] = {
        "electron-persisted-atom-state": {
            "selected-remote-host-id": "remote-control:env_7f6e5d4c",
            "composer-prompt-drafts-v2": {
                thread_id(100 + i): {
                    "text": f"Draft {i}: refactor the parser ✓ “quotes”",
                    "attachments": [],
                    "updatedAt": 1763632800000 + i,
                }
                for i in range(drafts)
            },
            "heartbeat-thread-permissions-by-id": {},
            "flat-project-sidebar-preferences-v1": {"collapsed": False},
            "unified-sidebar-project-order-v1": list(PROJECT_IDS),
        },
        "local-projects": local_projects(),
        "project-order": list(PROJECT_IDS),
        "electron-saved-workspace-roots": list(ROOTS),  # index-aligned with project-order
        "active-workspace-roots": [ROOTS[0]],
        "selected-project": {"type": "local", "projectId": PROJECT_IDS[0]},
        "electron-completed-local-data-migration-ids": ["2026-07-13-local-projects"],
        "thread-project-assignments": {t.id: PROJECT_IDS[ROOTS.index(t.cwd)] for t in THREADS},
        "thread-workspace-root-hints": {t.id: t.cwd for t in THREADS},
        "projectless-thread-ids": [],
        "sidebar-project-thread-orders": {PROJECT_IDS[0]: ids[:2], PROJECT_IDS[1]: ids[2:]},
        "app-server-project-id-by-legacy-project-id-by-host": {"local": {}},
        "electron-remote-control-client-enrollments": enrollments(),
        "electron-local-remote-control-installation-id": "5e0c2f4a-1b3d-4c5e-8f70-9a1b2c3d4e5f",
        "electron-local-remote-control-environment-id": "env_7f6e5d4c3b2a",
        "codex-mobile-has-connected-device": True,
        "selected-remote-host-id": "remote-control:env_7f6e5d4c",
        "remote-connection-auto-connect-by-host-id": {"remote-control:env_7f6e5d4c": True},
        "added-remote-control-env-ids": ["env_7f6e5d4c"],
        "remote-projects": [],
        "remote_control_connections_state": {
            "available": True,
            "accessRequired": False,
            "authRequired": False,
            "clientAuthorized": False,
        },
        # Stand-ins for the many keys whose meaning nobody documented: opaque, kept intact.
        "sidebar-width": 280,
        "thread-view-mode": "list",
        "thread-sort-order": "updated",
        "settings": {"theme": "system", "fontSize": 14, "sendOnEnter": True},
        "window-bounds": {"x": 10, "y": 20, "width": 1400, "height": 900},
    }
    state.update({f"feature-flag-{i}": i % 2 == 0 for i in range(20)})
    return state
