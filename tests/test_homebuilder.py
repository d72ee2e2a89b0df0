"""The test home has the shapes of a real late-2026 home (issue 11): both database layouts,
the project registry keyed by id, UUID thread ids, dated desktop logs, the start lock."""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from pathlib import Path

from codexsnap.demo_home import START_LOCK, write_revocation_log
from codexsnap.home import CodexHome, find_sqlite_home
from tests.homebuilder import THREADS, CodexHomeBuilder

LOG_NAME = re.compile(
    r"^codex-desktop-[0-9a-f-]{36}-\d+-t0-i1-\d+-0\.log$"
)  # ~/Library/Logs/com.openai.codex/YYYY/MM/DD/
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (info|warning|error) ")


def columns(db: Path, table: str) -> list[str]:
    con = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)
    try:
        return [row[1] for row in con.execute(f"PRAGMA table_info({table})")]
    finally:
        con.close()


def test_a_desktop_home_has_the_real_shapes(builder: CodexHomeBuilder) -> None:
    home = builder.build()
    builder.close()
    state = json.loads((home / ".codex-global-state.json").read_bytes())
    projects = state["local-projects"]
    assert isinstance(projects, dict) and projects
    for key, entry in projects.items():
        assert entry["id"] == key and entry["rootPaths"]
        assert all(isinstance(entry[k], int) for k in ("createdAt", "updatedAt"))
    assert state["project-order"] == list(projects)
    roots = [projects[p]["rootPaths"][0] for p in state["project-order"]]
    assert state["electron-saved-workspace-roots"] == roots
    assert "2026-07-13-local-projects" in state["electron-completed-local-data-migration-ids"]

    for thread in THREADS:
        assert str(uuid.UUID(thread.id)) == thread.id
        first = json.loads((home / thread.rollout).read_text().splitlines()[0])
        assert first["type"] == "session_meta" and first["payload"]["id"] == thread.id
        assert {"timestamp", "cwd", "cli_version", "model_provider"} <= set(first["payload"])
    index = [json.loads(line) for line in (home / "session_index.jsonl").read_text().splitlines()]
    assert [line["id"] for line in index] == [t.id for t in THREADS if t.name]

    assert (home / START_LOCK).exists() and not (home / "app-server-startup.lock").exists()
    assert not (home / "state_5.sqlite").exists()
    state_db = home / "sqlite" / "state_5.sqlite"
    assert builder.state_db == "sqlite/state_5.sqlite"
    assert columns(state_db, "projects") == [
        "id", "name", "metadata", "position", "created_at_ms", "updated_at_ms"
    ]  # fmt: skip
    assert columns(state_db, "project_roots") == ["project_id", "position", "path"]
    assert columns(state_db, "project_idempotency_keys") == ["key", "project_id", "created_at_ms"]
    assert {"id", "rollout_path", "cwd", "title", "name", "archived", "project_id"} <= set(
        columns(state_db, "threads")
    )
    assert columns(state_db, "backfill_state")[:2] == ["id", "status"]
    assert "remote_control_enabled" in columns(state_db, "remote_control_enrollments")
    assert "checksum" in columns(state_db, "_sqlx_migrations")
    assert columns(home / "sqlite" / "logs_2.sqlite", "logs") == [
        "id", "ts", "ts_nanos", "level", "target", "feedback_log_body", "module_path", "file",
        "line", "thread_id", "process_uuid", "estimated_bytes",
    ]  # fmt: skip
    con = sqlite3.connect(f"{state_db.as_uri()}?mode=ro", uri=True)
    url, server, env = con.execute(
        "SELECT websocket_url, server_id, environment_id FROM remote_control_enrollments"
    ).fetchone()
    keys = dict(con.execute("SELECT key, project_id FROM project_idempotency_keys").fetchall())
    con.close()
    assert url == "wss://chatgpt.com/backend-api/wham/remote/control/server"
    assert re.fullmatch(r"srv_e_[0-9a-f]{32}", server) and re.fullmatch(r"env_e_[0-9a-f]{32}", env)
    assert set(keys) == set(projects)  # the sidebar's ids map to the native ones


def test_a_desktop_home_resolves_to_its_sqlite_folder(builder: CodexHomeBuilder) -> None:
    home = builder.build().resolve()
    found = find_sqlite_home(CodexHome(home, "test"))
    assert found.live is not None and found.live.kind == "desktop"
    assert found.live.threads == len(THREADS) == found.rollouts and found.warning is None


def test_a_machine_running_both_has_two_state_databases(tmp_path: Path) -> None:
    builder = CodexHomeBuilder(tmp_path / "home", layout="both")
    home = builder.build().resolve()
    try:
        found = find_sqlite_home(CodexHome(home, "test"))
    finally:
        builder.close()
    assert [(lay.kind, lay.threads) for lay in found.layouts] == [("home", 1), ("desktop", 3)]
    assert found.live is not None and found.live.kind == "desktop"
    assert found.warning is not None and "2 state databases" in found.warning


def test_a_cli_only_home_has_no_desktop_files(tmp_path: Path) -> None:
    builder = CodexHomeBuilder.cli_only(tmp_path / "home")
    home = builder.build()
    builder.close()
    assert (home / "state_5.sqlite").exists() and (home / "logs_2.sqlite").exists()
    for desktop in (".codex-global-state.json", "sqlite", "app-server-daemon/settings.json"):
        assert not (home / desktop).exists(), desktop
    assert builder.state_db == "state_5.sqlite"


def test_the_desktop_log_sits_in_dated_folders(tmp_path: Path) -> None:
    path = write_revocation_log(tmp_path / "com.openai.codex")
    assert path.parent.relative_to(tmp_path / "com.openai.codex").as_posix() == "2026/09/21"
    assert LOG_NAME.match(path.name)
    assert all(LOG_LINE.match(line) for line in path.read_text().splitlines())
