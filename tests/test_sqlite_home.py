"""The SQLite home as Codex resolves it, and both layouts when a desktop app and the CLI split
the databases (openai/codex #29953, #28087, #35674). Real folders and databases."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from codexsnap.home import (
    STATE_DB,
    CodexHome,
    count_threads,
    find_codex_home,
    find_sqlite_home,
)


@pytest.fixture
def home(tmp_path: Path) -> CodexHome:
    (tmp_path / "codex-home").mkdir()
    return find_codex_home()


def state_db(folder: Path, threads: int, held: list[sqlite3.Connection] | None = None) -> Path:
    """A WAL state database with ``threads`` rows; held open (rows only in -wal) if asked."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / STATE_DB
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("CREATE TABLE threads (id TEXT PRIMARY KEY, rollout_path TEXT NOT NULL)")
    db.executemany(
        "INSERT INTO threads VALUES (?, ?)",
        [(f"019a1b2c-3d4e-7f60-8a9b-{i:012x}", f"/r/{i}") for i in range(threads)],
    )
    db.commit()
    if held is None:
        db.close()
    else:
        held.append(db)
    return path


def rollouts(home: Path, count: int) -> None:
    folder = home / "sessions" / "2026" / "11" / "20"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        uuid = f"019a1b2c-3d4e-7f60-8a9b-{i:012x}"
        (folder / f"rollout-2026-11-20T10-00-{i:02d}-{uuid}.jsonl").write_text("{}\n")


def age(path: Path, seconds: float) -> None:
    stamp = path.stat().st_mtime - seconds
    os.utime(path, (stamp, stamp))


@pytest.fixture
def held() -> Iterator[list[sqlite3.Connection]]:
    connections: list[sqlite3.Connection] = []
    yield connections
    for db in connections:
        db.close()


def test_by_default_the_databases_are_in_the_home(home: CodexHome) -> None:
    found = find_sqlite_home(home)
    assert (found.path, found.source) == (home.path, "default")
    assert found.layouts == () and found.live is None and found.warning is None
    assert found.database(STATE_DB) == home.path / STATE_DB


def test_config_wins_over_the_environment(
    home: CodexHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEX_SQLITE_HOME", str(tmp_path / "from-env"))
    config = home.path / "config.toml"
    cases = {
        f'sqlite_home = "{tmp_path / "abs"}"\n': tmp_path / "abs",
        'sqlite_home = "~/dbs"\n': Path.home() / "dbs",
        'sqlite_home = "sqlite"\n': home.path / "sqlite",  # relative to the home, like Codex
    }
    for text, expected in cases.items():
        config.write_text('model = "gpt-5-codex"\n' + text + "[desktop]\ntheme = 'system'\n")
        found = find_sqlite_home(home)
        assert (found.path, found.source) == (expected.resolve(), "config.toml"), text
    # Only the top-level key counts; a table's key of that name is not it.
    config.write_text('[desktop]\nsqlite_home = "/nowhere"\n')
    assert find_sqlite_home(home).source == "CODEX_SQLITE_HOME"
    config.write_text("sqlite_home = [\n")  # unreadable config: the environment still tells
    assert find_sqlite_home(home).path == (tmp_path / "from-env").resolve()


def test_the_environment_is_trimmed_and_relative_to_the_working_folder(
    home: CodexHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CODEX_SQLITE_HOME", "  rel-db \n")
    found = find_sqlite_home(home)
    assert (found.path, found.source) == ((tmp_path / "rel-db").resolve(), "CODEX_SQLITE_HOME")
    monkeypatch.setenv("CODEX_SQLITE_HOME", " \t")
    assert find_sqlite_home(home).source == "default"


def test_the_option_wins(home: CodexHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEX_SQLITE_HOME", str(tmp_path / "env"))
    (home.path / "config.toml").write_text(f'sqlite_home = "{tmp_path / "cfg"}"\n')
    found = find_sqlite_home(home, tmp_path / "opt")
    assert (found.path, found.source) == ((tmp_path / "opt").resolve(), "--codex-sqlite-home")


def test_a_desktop_home_has_its_databases_in_sqlite(home: CodexHome) -> None:
    state_db(home.path / "sqlite", 2)
    (home.path / "sqlite" / "codex-dev.db").write_bytes(b"")
    found = find_sqlite_home(home)
    assert found.live is not None and found.live.kind == "desktop"
    assert found.live.databases == (STATE_DB, "codex-dev.db") and found.live.threads == 2
    assert found.database(STATE_DB) == home.path / "sqlite" / STATE_DB
    assert found.warning is None


def test_both_layouts_the_newest_wal_is_live(
    home: CodexHome, held: list[sqlite3.Connection]
) -> None:
    cli = state_db(home.path, 1, held)
    state_db(home.path / "sqlite", 3, held)
    rollouts(home.path, 1)  # the counts would pick the CLI's: the write times decide first
    age(cli.with_name(STATE_DB + "-wal"), 3600)
    found = find_sqlite_home(home)
    assert [(lay.kind, lay.threads) for lay in found.layouts] == [("home", 1), ("desktop", 3)]
    assert found.live is not None and found.live.kind == "desktop"
    assert "written last" in found.reason
    assert found.warning is not None
    assert f"{home.path} (1 thread)" in found.warning
    assert f"{home.path / 'sqlite'} (3 threads)" in found.warning
    assert f"{home.path / 'sqlite'} is in use" in found.warning


def test_both_layouts_written_together_the_thread_count_decides(
    home: CodexHome, held: list[sqlite3.Connection]
) -> None:
    state_db(home.path, 5, held)
    state_db(home.path / "sqlite", 2, held)
    rollouts(home.path, 6)
    found = find_sqlite_home(home)
    assert found.rollouts == 6
    assert found.live is not None and found.live.kind == "home"
    assert "closest to the 6 rollout files" in found.reason


def test_databases_outside_the_home_are_found(
    home: CodexHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Windows with the WSL backend: the databases live outside the Codex home (#35674).
    outside = tmp_path / "wsl-home" / ".codex" / "sqlite"
    state_db(outside, 4)
    monkeypatch.setenv("CODEX_SQLITE_HOME", str(outside))
    found = find_sqlite_home(home)
    assert found.live is not None and found.live.kind == "elsewhere"
    assert found.live.path == outside.resolve() and found.layouts[0] == found.live


def test_threads_are_counted_without_touching_the_folder(
    home: CodexHome, held: list[sqlite3.Connection]
) -> None:
    live = state_db(home.path / "live", 3, held)  # rows only in -wal, held open
    quiet = state_db(home.path / "quiet", 2)  # closed: no -wal left
    half = state_db(home.path / "half", 4, held)
    (home.path / "half" / (STATE_DB + "-shm")).unlink()  # a -wal without its -shm
    before = sorted(p.name for p in home.path.rglob("*"))
    assert [count_threads(p) for p in (live, quiet, half)] == [3, 2, 4]
    assert sorted(p.name for p in home.path.rglob("*")) == before
    garbage = home.path / "garbage" / STATE_DB
    garbage.parent.mkdir()
    garbage.write_bytes(b"not a database" * 100)
    assert count_threads(garbage) is None
