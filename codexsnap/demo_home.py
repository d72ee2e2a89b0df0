"""A realistic Codex home, built from the facts we know about the folder (docs/design.md).

It feeds `codexsnap demo`, the test suite and the benchmarks. Every token in it is fake.
"""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


def global_state(drafts: int = 3) -> dict[str, Any]:
    """A global state with dozens of keys, nested atom state and the remote-control keys."""
    state: dict[str, Any] = {
        "electron-persisted-atom-state": {
            "selected-remote-host-id": "remote-control:env_7f6e5d4c",
            "composer-drafts": {
                f"thread-{i:04d}": {
                    "text": f"Draft {i}: refactor the parser ✓ “quotes”",
                    "attachments": [],
                    "updatedAt": 1758440000 + i,
                }
                for i in range(drafts)
            },
            "sidebar": {"collapsed": False, "width": 280},
        },
        "local-projects": [
            {"path": "/Users/ana/src/api", "name": "api", "trusted": True},
            {"path": "/Users/ana/src/web", "name": "web", "trusted": True},
        ],
        "project-order": ["/Users/ana/src/api", "/Users/ana/src/web"],
        "pinned-thread-ids": ["019a1b2c-3d4e-7f60-8a9b-0c1d2e3f4a5b"],
        "sidebar-width": 280,
        "sidebar-collapsed": False,
        "thread-sort-order": "updated",
        "thread-view-mode": "list",
        "git-auto-fetch": True,
        "git-default-branch": "main",
        "settings": {"theme": "system", "fontSize": 14, "sendOnEnter": True},
        "electron-remote-control-client-enrollments": enrollments(),
        "electron-local-remote-control-installation-id": "5e0c2f4a-1b3d-4c5e-8f70-9a1b2c3d4e5f",
        "electron-local-remote-control-environment-id": "env_7f6e5d4c3b2a",
        "codex-mobile-has-connected-device": True,
        "selected-remote-host-id": "remote-control:env_7f6e5d4c",
        "remote-connection-auto-connect-by-host-id": {"remote-control:env_7f6e5d4c": True},
        "added-remote-control-env-ids": ["env_7f6e5d4c"],
        "remote-projects": [],
        "remote_control_connections_state": {"lastError": "Failed to update connection"},
        "onboarding-complete": True,
        "last-opened-at": 1758441234567,
        "window-bounds": {"x": 10, "y": 20, "width": 1400, "height": 900},
    }
    state.update({f"feature-flag-{i}": i % 2 == 0 for i in range(20)})
    return state


@dataclass
class CodexHomeBuilder:
    """Writes a Codex home; every part can be left out or changed before ``build``."""

    root: Path
    state: dict[str, Any] = field(default_factory=global_state)
    indent: int | None = None
    with_bak: bool = True
    with_sqlite: bool = True
    with_runtime: bool = True
    open_connections: list[sqlite3.Connection] = field(default_factory=list)

    def state_bytes(self) -> bytes:
        """The global state as the app writes it (compact or indented, no final newline)."""
        separators = (",", ":") if self.indent is None else (",", ": ")
        return json.dumps(
            self.state, indent=self.indent, ensure_ascii=False, separators=separators
        ).encode("utf-8")

    def build(self) -> Path:
        """Write every file and return the home folder."""
        home = self.root
        home.mkdir(parents=True, exist_ok=True)
        self._write(".codex-global-state.json", self.state_bytes())
        if self.with_bak:
            self._write(".codex-global-state.json.bak", self.state_bytes())
        self._write("config.toml", _CONFIG_TOML.encode())
        self._write(
            "auth.json",
            json.dumps(
                {
                    "auth_mode": "chatgpt",
                    "OPENAI_API_KEY": None,
                    "tokens": {
                        "id_token": ACCESS_TOKEN + "-id",
                        "access_token": ACCESS_TOKEN,
                        "refresh_token": "rt_SECRET_refresh_0123456789",
                        "account_id": "acct_0123456789",
                    },
                    "last_refresh": "2026-11-20T08:00:00Z",
                },
                indent=2,
            ).encode(),
            mode=0o600,
        )
        self._write("installation_id", b"0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b\n")
        self._write(
            "session_index.jsonl",
            b"".join(
                json.dumps(
                    {
                        "id": f"019a-{i}",
                        "thread_name": f"Thread {i}",
                        "updated_at": f"2026-11-2{i}T10:00:00Z",
                    }
                ).encode()
                + b"\n"
                for i in range(3)
            ),
        )
        self._write("history.jsonl", b'{"session_id":"019a-0","ts":1758440000,"text":"fix it"}\n')
        self._write(
            "sessions/2026/11/20/rollout-2026-11-20T10-00-00-019a-0.jsonl",
            b'{"type":"session_meta","payload":{"id":"019a-0","cwd":"/Users/ana/src/api"}}'
            b"\n" + b'{"type":"message","text":"hello"}\n' * 50,
        )
        self._write("log/codex-tui.log", b"2026-11-20T10:00:00Z INFO started\n" * 200)
        self._write("AGENTS.md", b"# Agent rules\n\nAlways run the tests.\n")
        self._write("rules/default.rules", b'prefix_rule(pattern=["git", "status"])\n')
        self._write("prompts/review.md", b"Review this diff carefully.\n")
        self._write(
            "automations/auto_1/automation.toml", b'name = "nightly"\nschedule = "0 3 * * *"\n'
        )
        self._write("hooks.json", b"{}\n")
        self._write("app-server-daemon/settings.json", b'{"remoteControlEnabled": true}\n')
        self._write("version.json", b'{"latest_version":"0.98.0"}\n')
        self._write("models_cache.json", b'{"models":["gpt-5-codex"]}\n')
        self._write("cache/models/blob.bin", bytes(range(256)) * 4)
        self._write("plugins/bundle/index.js", b"module.exports = {};\n")
        if self.with_sqlite:
            self._sqlite()
        if self.with_runtime:
            self._runtime()
        return home

    def _write(self, relpath: str, data: bytes, mode: int = 0o644) -> None:
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(mode)

    def _sqlite(self) -> None:
        db_path = self.root / "state_5.sqlite"
        db = sqlite3.connect(db_path)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA wal_autocheckpoint=0")  # keep rows in -wal, as a live app does
        db.executescript(_STATE_SCHEMA)
        db.execute("INSERT INTO threads VALUES ('019a-0', 'Thread 0', '/Users/ana/src/api', 1)")
        db.execute(
            "INSERT INTO remote_control_enrollments VALUES (?,?,?,?,?,?,?,?)",
            (
                "wss://chatgpt.com/codex/remote",
                "acct_0123456789",
                "Codex Desktop",
                "srv_1",
                "env_7f6e5d4c",
                "ana-mbp",
                1758440000,
                1,
            ),
        )
        db.commit()
        # Left open: the test home looks like one whose app server holds the database.
        self.open_connections.append(db)
        sub = self.root / "sqlite"
        sub.mkdir(exist_ok=True)
        other = sqlite3.connect(sub / "codex.db")
        other.execute("CREATE TABLE automations (id TEXT PRIMARY KEY, name TEXT)")
        other.execute("INSERT INTO automations VALUES ('auto_1', 'nightly')")
        other.commit()
        other.close()
        logs = sqlite3.connect(self.root / "logs_2.sqlite")
        logs.execute("CREATE TABLE logs (ts INTEGER, msg TEXT)")
        logs.executemany("INSERT INTO logs VALUES (?, ?)", [(i, "x" * 100) for i in range(100)])
        logs.commit()
        logs.close()

    def _runtime(self) -> None:
        self._write("app-server-startup.lock", b"")
        self._write("app-server-daemon/app-server.pid", b"999999\n")
        self._write("..codex-global-state.json.tmp-1a2b3c", b'{"partial":')
        sock_dir = self.root / "app-server-control"
        sock_dir.mkdir(exist_ok=True)
        if hasattr(socket, "AF_UNIX"):  # Windows has no such sockets: the app uses a pipe
            # AF_UNIX paths are limited to ~100 bytes: bind in a short folder, then move it.
            with tempfile.TemporaryDirectory(prefix="s") as short:
                server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                server.bind(f"{short}/s.sock")
                server.close()
                shutil.move(f"{short}/s.sock", sock_dir / "app-server-control.sock")

    def close(self) -> None:
        """Close the database connections the builder left open."""
        for db in self.open_connections:
            db.close()
        self.open_connections.clear()


_CONFIG_TOML = """\
# Codex configuration
model = "gpt-5-codex"
approval_policy = "on-request"

[desktop]
theme = "system"

[mcp_servers.github]
command = "npx"
args = ["-y", "@modelcontextprotocol/server-github"]

[mcp_servers.github.env]
GITHUB_PERSONAL_ACCESS_TOKEN = "ghp_SECRETgithubTOKEN0123456789abcdefABCD"

[plugins.linear]
enabled = true
"""

_STATE_SCHEMA = """
CREATE TABLE _sqlx_migrations (version INTEGER PRIMARY KEY, description TEXT, checksum BLOB);
INSERT INTO _sqlx_migrations VALUES (1, 'init', x'00ff');
CREATE TABLE threads (id TEXT PRIMARY KEY, name TEXT, cwd TEXT, archived INTEGER);
CREATE TABLE remote_control_enrollments (
    websocket_url TEXT, account_id TEXT, app_server_client_name TEXT, server_id TEXT,
    environment_id TEXT, server_name TEXT, updated_at INTEGER, remote_control_enabled INTEGER,
    PRIMARY KEY (websocket_url, account_id, app_server_client_name)
);
"""


REVOCATION_LOG = (
    "2026-09-21T07:42:20.100Z info [remote-control] POST "
    "https://chatgpt.com/backend-api/codex/remote/control/client/refresh/start "
    f"hasExistingEnrollment=true localEnrollmentClientId={REVOKED_CLIENT_ID}\n"
    "2026-09-21T07:42:23.769Z error [remote-control] Remote-control client has been revoked\n"
    "2026-09-21T07:42:23.770Z warning [remote-control] Failed to update connection\n"
)


def write_revocation_log(folder: Path) -> Path:
    """A desktop-app log that shows the revoked client, as the seed's user found it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "codex-desktop.log"
    path.write_text(REVOCATION_LOG)
    return path
