"""A SQLite home outside the Codex home (WSL, sqlite_home) is a second root of each snapshot.

Real files under tmp_path, a real store, real WAL databases with rows only in ``-wal``.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codexsnap.commands.diff import diff
from codexsnap.commands.rollback import rollback
from codexsnap.commands.show import show
from codexsnap.commands.snapshot import snapshot
from codexsnap.commands.undo import undo
from codexsnap.demo_data import PROJECT_IDS, THREADS, fill_state, local_projects
from codexsnap.errors import SchemaAheadError
from codexsnap.home import find_codex_home, find_sqlite_home
from codexsnap.roots import outside_sqlite_home
from codexsnap.store import SnapshotStore
from tests.conftest import run
from tests.homebuilder import CodexHomeBuilder
from tests.storetools import query, stored_bytes, yes

STATE = "@sqlite/state_5.sqlite"


def wal_database(folder: Path, home: Path) -> sqlite3.Connection:
    """A state database in WAL mode whose rows live only in -wal, held open as Codex does."""
    folder.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(folder / "state_5.sqlite")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    fill_state(db, list(THREADS), list(local_projects().values()), str(home), list(PROJECT_IDS))
    db.commit()
    return db


def threads_in(path: Path) -> int:
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return int(db.execute("SELECT count(*) FROM threads").fetchone()[0])
    finally:
        db.close()


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """Where WSL keeps the databases: the Linux side's ~/.codex/sqlite."""
    return tmp_path / "wsl" / ".codex" / "sqlite"


def test_outside_sqlite_home_is_snapshotted_and_rolled_back_byte_exact(
    codex_home: Path, store_root: Path, outside: Path
) -> None:
    db = wal_database(outside, codex_home)
    assert (outside / "state_5.sqlite-wal").stat().st_size > 0  # the rows are in -wal only
    (outside / "logs_2.sqlite").write_bytes(b"SQLite format 3\x00" + bytes(100))  # bulky
    (outside / "notes.txt").write_text("not a database\n")
    taken = snapshot(codex_home, store_root, "", sqlite_home=outside)
    stored = stored_bytes(store_root, taken.snapshot.id, STATE)
    assert query(stored, "SELECT count(*) FROM threads") == [(len(THREADS),)]
    with SnapshotStore.open(store_root, create=False) as store:
        records = store.records(taken.snapshot)
    assert records[STATE].kind == "sqlite"
    assert not {"@sqlite/logs_2.sqlite", "@sqlite/notes.txt", STATE + "-wal"} & records.keys()

    db.execute("DELETE FROM threads")
    db.commit()
    db.close()
    assert threads_in(outside / "state_5.sqlite") == 0
    result = rollback(
        codex_home,
        store_root,
        taken.snapshot.id,
        dry_run=False,
        force=False,
        show_secrets=False,
        confirm=yes,
        sqlite_home=outside,
    )
    assert result.changed and [d.path for d in result.report.files] == [STATE]
    assert (outside / "state_5.sqlite").read_bytes() == stored
    assert not (outside / "state_5.sqlite-wal").exists()
    assert threads_in(outside / "state_5.sqlite") == len(THREADS)
    assert not (codex_home / "@sqlite").exists()
    # The rollback is undoable like any other.
    undone = undo(
        codex_home,
        store_root,
        dry_run=False,
        force=False,
        show_secrets=False,
        confirm=yes,
        sqlite_home=outside,
    )
    assert undone.changed
    assert threads_in(outside / "state_5.sqlite") == 0


def test_desktop_sqlite_folder_inside_the_home_is_captured_once(
    codex_home: Path, store_root: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEX_SQLITE_HOME", str(codex_home / "sqlite"))  # as the app sets it
    home = find_codex_home(None)
    assert outside_sqlite_home(home.path, find_sqlite_home(home).path) is None
    code, out, err = run(cli, "snapshot", "--json")
    assert code == 0, err
    with SnapshotStore.open(store_root, create=False) as store:
        latest = store.latest(codex_home)
        assert latest is not None
        paths = set(store.records(latest))
    assert "sqlite/state_5.sqlite" in paths
    assert not [p for p in paths if p.startswith("@sqlite")]


def test_codex_sqlite_home_option_overrides_environment_and_config(
    codex_home: Path, store_root: Path, outside: Path, tmp_path: Path, cli: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wal_database(outside, codex_home).close()
    elsewhere = tmp_path / "elsewhere"
    wal_database(elsewhere, codex_home).close()
    monkeypatch.setenv("CODEX_SQLITE_HOME", str(elsewhere))
    with (codex_home / "config.toml").open("a") as config:
        config.write(f'\nsqlite_home = "{elsewhere}"\n')
    # config.toml goes first (as Codex reads it) and would not matter: the option wins.
    config_text = (codex_home / "config.toml").read_text()
    (codex_home / "config.toml").write_text(f'sqlite_home = "{elsewhere}"\n' + config_text)
    code, out, err = run(cli, "snapshot", "--json", "--codex-sqlite-home", str(outside))
    assert code == 0, err
    with SnapshotStore.open(store_root, create=False) as store:
        latest = store.latest(codex_home)
        assert latest is not None
        note = json.loads(store.extra(latest, "codex.json") or b"{}")
    assert note["sqlite_home"] == str(outside.resolve())
