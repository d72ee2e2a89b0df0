"""A realistic Codex home of late 2026, built from what we know of the folder (docs/design.md).

It feeds `codexsnap demo`, the test suite and the benchmarks. Every token in it is fake.
``layout`` puts the databases where each kind of install keeps them: ``"desktop"`` in
``sqlite/`` (the app sets ``CODEX_SQLITE_HOME=<home>/sqlite``), ``"cli"`` at the top level (a
plain ``codex`` run; ``cli_only()`` leaves the desktop files out too), ``"both"`` for a
machine that runs both, each with its own threads (openai/codex #29953).
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

from codexsnap.demo_data import (
    ACCESS_TOKEN,
    DESKTOP_SCHEMA,
    ENROLLMENT_KEY,
    MCP_TOKEN,
    PROJECT_IDS,
    PUBLIC_KEY,
    REVOKED_CLIENT_ID,
    ROOTS,
    THREADS,
    Thread,
    enrollments,
    fill_logs,
    fill_state,
    global_state,
    insert_thread,
    local_projects,
    thread_id,
)

__all__ = [
    "ACCESS_TOKEN",
    "ENROLLMENT_KEY",
    "MCP_TOKEN",
    "PUBLIC_KEY",
    "REVOKED_CLIENT_ID",
    "THREADS",
    "CodexHomeBuilder",
    "Thread",
    "enrollments",
    "global_state",
    "insert_thread",
    "thread_id",
    "write_revocation_log",
]

START_LOCK = "app-server-control/app-server-startup.lock"


@dataclass
class CodexHomeBuilder:
    """Writes a Codex home; every part can be left out or changed before ``build``."""

    root: Path
    state: dict[str, Any] = field(default_factory=global_state)
    indent: int | None = None
    with_bak: bool = True
    with_sqlite: bool = True
    with_runtime: bool = True
    layout: str = "desktop"  # where the databases are: "desktop" (sqlite/), "cli" (top), "both"
    desktop_files: bool = True  # the app's global state and daemon settings
    open_connections: list[sqlite3.Connection] = field(default_factory=list)

    @classmethod
    def cli_only(cls, root: Path) -> CodexHomeBuilder:
        """A home only the ``codex`` CLI ever used: databases at the top, no desktop files."""
        return cls(root, layout="cli", desktop_files=False)

    @property
    def state_db(self) -> str:
        """Where the live ``state_5.sqlite`` is, the one held open (``open_connections[0]``)."""
        return "state_5.sqlite" if self.layout == "cli" else "sqlite/state_5.sqlite"

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
        desktop = self.desktop_files
        if desktop:
            self._write(".codex-global-state.json", self.state_bytes())
            if self.with_bak:
                self._write(".codex-global-state.json.bak", self.state_bytes())
        self._write("config.toml", _CONFIG_TOML.encode())
        self._write("auth.json", _auth(), mode=0o600)
        self._write("installation_id", b"0f1e2d3c-4b5a-4978-8a9b-0c1d2e3f4a5b\n")
        renamed = [t for t in THREADS if t.name]  # the index names renamed threads only
        self._write("session_index.jsonl", b"".join(_index_line(t) for t in renamed))
        self._write(
            "history.jsonl",
            json.dumps({"session_id": THREADS[0].id, "ts": 1763632800, "text": "fix it"}).encode()
            + b"\n",
        )
        for thread in THREADS:
            self._write(thread.rollout, _rollout(thread))
        self._write("log/codex-tui.log", _TUI_LOG_LINE * 200)
        self._write("AGENTS.md", b"# Agent rules\n\nAlways run the tests.\n")
        self._write("rules/default.rules", b'prefix_rule(pattern=["git", "status"])\n')
        self._write("prompts/review.md", b"Review this diff carefully.\n")
        self._write(
            "automations/auto_1/automation.toml", b'name = "nightly"\nschedule = "0 3 * * *"\n'
        )
        self._write("hooks.json", b"{}\n")
        if desktop:
            self._write("app-server-daemon/settings.json", b'{"remoteControlEnabled": true}\n')
        self._write("version.json", b'{"latest_version":"0.150.0"}\n')
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
        folders = {"cli": [""], "desktop": ["sqlite/"], "both": ["sqlite/", ""]}[self.layout]
        for number, prefix in enumerate(folders):
            (self.root / prefix).mkdir(exist_ok=True)
            # The CLI's own databases on a machine with both know only its first thread.
            threads = list(THREADS) if number == 0 else list(THREADS[:1])
            db = sqlite3.connect(self.root / f"{prefix}state_5.sqlite")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA wal_autocheckpoint=0")  # keep rows in -wal, as a live app does
            projects = list(local_projects().values())
            fill_state(db, threads, projects, str(self.root), list(PROJECT_IDS))
            db.commit()
            if number == 0:
                # Left open: the test home looks like one whose app server holds the database.
                self.open_connections.append(db)
            else:
                db.close()
            logs = sqlite3.connect(self.root / f"{prefix}logs_2.sqlite")
            fill_logs(logs)
            logs.commit()
            logs.close()

        if self.desktop_files:  # the app's own database, in sqlite/ whatever CODEX_HOME is
            (self.root / "sqlite").mkdir(exist_ok=True)
            other = sqlite3.connect(self.root / "sqlite" / "codex-dev.db")
            other.executescript(DESKTOP_SCHEMA)
            other.execute("INSERT INTO automations VALUES ('auto_1', 'nightly', '0 3 * * *')")
            other.executemany(
                "INSERT INTO local_thread_catalog VALUES (?, ?, ?)",
                [(t.id, PROJECT_IDS[ROOTS.index(t.cwd)], t.title) for t in THREADS],
            )
            other.commit()
            other.close()

    def _runtime(self) -> None:
        self._write(START_LOCK, b"")
        self._write("app-server-daemon/app-server.pid", b"999999\n")
        self._write("app-server-daemon/app-server.pid.lock", b"")
        self._write(f"thread-writer-locks/{THREADS[0].id}.lock", b"")
        if self.desktop_files:
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


def _auth() -> bytes:
    tokens = {
        "id_token": ACCESS_TOKEN + "-id",
        "access_token": ACCESS_TOKEN,
        "refresh_token": "rt_SECRET_refresh_0123456789",
        "account_id": "acct_0123456789",
    }
    data = {
        "auth_mode": "chatgpt",
        "OPENAI_API_KEY": None,
        "tokens": tokens,
        "last_refresh": "2026-11-20T08:00:00Z",
    }
    return json.dumps(data, indent=2).encode()


def _index_line(thread: Thread) -> bytes:
    """A line of the thread-name index, appended when a thread is renamed."""
    name = thread.name or thread.title
    line = {"id": thread.id, "thread_name": name, "updated_at": "2026-11-23T08:12:40.512Z"}
    return json.dumps(line).encode() + b"\n"


def _rollout(thread: Thread) -> bytes:
    """A transcript: the session_meta line Codex writes first, then the conversation."""
    stamp = f"{thread.created[:10]}T{thread.created[11:].replace('-', ':')}.120Z"
    meta = {
        "timestamp": stamp,
        "type": "session_meta",
        "payload": {
            "id": thread.id,
            "timestamp": stamp,
            "cwd": thread.cwd,
            "originator": "Codex Desktop",
            "cli_version": "0.150.0",
            "source": "vscode",
            "model_provider": "openai",
            "git": {"commit_hash": "3f2a1b0c9d8e", "branch": "main"},
        },
    }
    message = {
        "timestamp": stamp,
        "type": "response_item",
        "payload": {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": thread.title}],
        },
    }
    return (json.dumps(meta) + "\n" + (json.dumps(message) + "\n") * 50).encode()


_TUI_LOG_LINE = b"2026-11-20T10:00:00.123456Z  INFO codex_tui: started\n"

_CONFIG_TOML = """\
# Codex configuration
model = "gpt-5-codex"
approval_policy = "on-request"

[desktop]
theme = "system"

[projects."/Users/ana/src/api"]
trust_level = "trusted"

[mcp_servers.github]
command = "npx"
args = ["-y", "@modelcontextprotocol/server-github"]

[mcp_servers.github.env]
GITHUB_PERSONAL_ACCESS_TOKEN = "ghp_SECRETgithubTOKEN0123456789abcdefABCD"

[plugins.linear]
enabled = true
"""

DESKTOP_LOG_NAME = "codex-desktop-7c1e9a52-3b4d-4e6f-8a9b-1c2d3e4f5a6b-4821-t0-i1-000001-0.log"
REVOCATION_LOG = (
    "2026-09-21T07:42:20.100Z info Launching app version=26.915.1 platform=darwin\n"
    "2026-09-21T07:42:20.411Z info [remote-control] POST "
    "https://chatgpt.com/backend-api/codex/remote/control/client/refresh/start "
    f"hasExistingEnrollment=true localEnrollmentClientId={REVOKED_CLIENT_ID}\n"
    "2026-09-21T07:42:23.769Z error [remote-control] Remote-control client has been revoked\n"
    "2026-09-21T07:42:23.770Z warning [remote-control] Failed to update connection\n"
)


def write_revocation_log(folder: Path) -> Path:
    """A desktop-app log that shows the revoked client, in the app's dated folders."""
    path = folder / "2026" / "09" / "21" / DESKTOP_LOG_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(REVOCATION_LOG)
    return path
