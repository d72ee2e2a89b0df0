"""A SQLite home outside the Codex home (WSL, sqlite_home) is a second root of each snapshot.

Real files under tmp_path, a real store, real WAL databases with rows only in ``-wal``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codexsnap.commands.diff import diff
from codexsnap.commands.rollback import RollbackResult, rollback
from codexsnap.commands.show import show
from codexsnap.commands.snapshot import snapshot
from codexsnap.commands.undo import undo
from codexsnap.demo_data import PROJECT_IDS, THREADS, fill_state, local_projects
from codexsnap.errors import SchemaAheadError
from codexsnap.home import find_codex_home, find_sqlite_home
from codexsnap.roots import outside_sqlite_home
from codexsnap.store import SnapshotStore
from tests.helpers import run
from tests.homebuilder import CodexHomeBuilder
from tests.storetools import git_bytes, query, stored_bytes, yes

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
    code, _out, err = run(cli, "snapshot", "--json")
    assert code == 0, err
    with SnapshotStore.open(store_root, create=False) as store:
        latest = store.latest(codex_home)
        assert latest is not None
        paths = set(store.records(latest))
    assert "sqlite/state_5.sqlite" in paths
    assert not [p for p in paths if p.startswith("@sqlite")]


def restore(home: Path, store_root: Path, snapshot_id: str, **options: object) -> RollbackResult:
    settings: dict[str, object] = {
        "dry_run": False,
        "force": False,
        "show_secrets": False,
        "confirm": yes,
        **options,
    }
    return rollback(home, store_root, snapshot_id, **settings)  # type: ignore[arg-type]


def test_show_diff_and_history_name_the_outside_sqlite_home(
    codex_home: Path, store_root: Path, outside: Path
) -> None:
    db = wal_database(outside, codex_home)
    first = snapshot(codex_home, store_root, "", sqlite_home=outside).snapshot
    assert first.sqlite_files_changed == 1
    assert first.trailers["Sqlite-Home"] == str(outside)
    shown = show(codex_home, store_root, first.id, show_secrets=False, details=True)
    assert STATE in [d.path for d in shown.report.files]
    db.execute("DELETE FROM threads WHERE rowid = 1")
    db.commit()
    live = diff(codex_home, store_root, None, None, show_secrets=False, sqlite_home=outside)
    assert [d.path for d in live.report.files] == [STATE]
    (codex_home / "AGENTS.md").write_text("# changed\n")
    second = snapshot(codex_home, store_root, "", sqlite_home=outside).snapshot
    assert (second.files_changed, second.sqlite_files_changed) == (2, 1)
    db.close()
    # A run that does not see the SQLite home (no option, no variable) leaves it alone.
    third = snapshot(codex_home, store_root, "m").snapshot
    assert third.sqlite_files_changed == 1 and "Sqlite-Home" not in third.trailers
    history = [s.id for s in SnapshotStore.open(store_root, create=False).history(codex_home)]
    assert history[:3] == [third.id, second.id, first.id]


def test_a_rollback_without_the_sqlite_home_leaves_its_databases_alone(
    codex_home: Path, store_root: Path, outside: Path
) -> None:
    wal_database(outside, codex_home).close()
    held = snapshot(codex_home, store_root, "", sqlite_home=outside).snapshot
    (codex_home / "AGENTS.md").write_text("# changed\n")
    result = restore(codex_home, store_root, held.id)  # no sqlite_home: this run cannot see it
    assert [d.path for d in result.report.files] == ["AGENTS.md"]
    assert not (codex_home / "@sqlite").exists()


def test_an_older_snapshot_without_the_root_keeps_the_outside_databases(
    codex_home: Path, store_root: Path, outside: Path
) -> None:
    old = snapshot(codex_home, store_root, "").snapshot  # before the SQLite home was set
    wal_database(outside, codex_home).close()
    restore(codex_home, store_root, old.id, sqlite_home=outside, dry_run=True)
    result = restore(codex_home, store_root, old.id, sqlite_home=outside)
    assert STATE not in [d.path for d in result.report.files]
    assert (outside / "state_5.sqlite").exists()


def test_a_database_created_after_a_snapshot_with_the_root_is_removed_by_rollback(
    codex_home: Path, store_root: Path, outside: Path
) -> None:
    wal_database(outside, codex_home).close()
    held = snapshot(codex_home, store_root, "", sqlite_home=outside).snapshot
    goals = sqlite3.connect(outside / "goals_1.sqlite")
    goals.execute("CREATE TABLE goals (id TEXT)")
    goals.commit()
    goals.close()
    result = restore(codex_home, store_root, held.id, sqlite_home=outside)
    assert [d.path for d in result.report.files] == ["@sqlite/goals_1.sqlite"]
    assert not (outside / "goals_1.sqlite").exists()


def test_partial_rollback_of_the_outside_database_by_either_name(
    codex_home: Path, store_root: Path, outside: Path
) -> None:
    from codexsnap.commands.partial import home_relative

    db = wal_database(outside, codex_home)
    held = snapshot(codex_home, store_root, "", sqlite_home=outside).snapshot
    db.execute("DELETE FROM threads")
    db.commit()
    db.close()
    (codex_home / "AGENTS.md").write_text("# changed\n")
    given = str(outside / "state_5.sqlite")
    assert home_relative(codex_home, given, outside) == STATE
    assert home_relative(codex_home, STATE, outside) == STATE
    result = restore(codex_home, store_root, held.id, sqlite_home=outside, paths=[STATE])
    assert [d.path for d in result.report.files] == [STATE]
    assert threads_in(outside / "state_5.sqlite") == len(THREADS)
    assert (codex_home / "AGENTS.md").read_text() == "# changed\n"


def test_a_home_folder_named_like_the_prefix_is_not_mistaken_for_the_root(
    codex_home: Path, store_root: Path, outside: Path
) -> None:
    (codex_home / "@sqlite").mkdir()
    (codex_home / "@sqlite" / "state_5.sqlite").write_bytes(b"not the SQLite home\n")
    taken = snapshot(codex_home, store_root, "", sqlite_home=outside)
    with SnapshotStore.open(store_root, create=False) as store:
        assert not [p for p in store.records(taken.snapshot) if p.startswith("@sqlite")]


def downgrade(database: Path, dropped: tuple[int, ...] = (40, 41)) -> None:
    """What the live database of an older Codex looks like: the newest migrations missing."""
    db = sqlite3.connect(database)
    db.executemany("DELETE FROM _sqlx_migrations WHERE version = ?", [(v,) for v in dropped])
    db.commit()
    db.close()


def test_a_database_ahead_of_the_live_app_needs_force(
    codex_home: Path, store_root: Path, outside: Path
) -> None:
    wal_database(outside, codex_home).close()
    held = snapshot(codex_home, store_root, "", sqlite_home=outside).snapshot
    downgrade(outside / "state_5.sqlite")  # Codex was downgraded since the snapshot
    before = (outside / "state_5.sqlite").read_bytes()
    with pytest.raises(SchemaAheadError) as refused:
        restore(codex_home, store_root, held.id, sqlite_home=outside)
    assert refused.value.exit_code == 13
    assert "40, 41" in refused.value.message and "#30042" in refused.value.message
    assert (outside / "state_5.sqlite").read_bytes() == before
    dry = restore(codex_home, store_root, held.id, sqlite_home=outside, dry_run=True)
    assert dry.warnings and STATE in dry.warnings[0]
    forced = restore(codex_home, store_root, held.id, sqlite_home=outside, force=True)
    assert forced.changed and forced.warnings
    db = sqlite3.connect(outside / "state_5.sqlite")
    assert max(v for (v,) in db.execute("SELECT version FROM _sqlx_migrations")) == 41
    db.close()


def test_the_check_covers_the_desktop_database_inside_the_home_too(
    builder: CodexHomeBuilder, store_root: Path
) -> None:
    home = builder.build().resolve()
    builder.close()
    held = snapshot(home, store_root, "").snapshot
    downgrade(home / "sqlite" / "state_5.sqlite", (41,))
    with pytest.raises(SchemaAheadError, match=r"sqlite/state_5\.sqlite"):
        restore(home, store_root, held.id)
    # Leaving that database out is the way around it.
    restore(home, store_root, held.id, paths=["AGENTS.md"])


def test_each_snapshot_records_the_codex_version_it_saw(
    codex_home: Path, store_root: Path, outside: Path
) -> None:
    wal_database(outside, codex_home).close()
    downgrade(outside / "state_5.sqlite", (41,))
    taken = snapshot(codex_home, store_root, "", sqlite_home=outside).snapshot
    with SnapshotStore.open(store_root, create=False) as store:
        note = json.loads(store.extra(taken, "codex.json") or b"{}")
        records = store.records(taken)
    assert note["version_json"] == {"latest_version": "0.150.0"}
    assert note["sqlite_home"] == str(outside)
    assert note["migrations"] == {
        "sqlite/state_5.sqlite": {"blob": records["sqlite/state_5.sqlite"].blob, "highest": 41},
        STATE: {"blob": records[STATE].blob, "highest": 40},
    }


def test_codex_sqlite_home_option_overrides_environment_and_config(
    codex_home: Path,
    store_root: Path,
    outside: Path,
    tmp_path: Path,
    cli: CliRunner,
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
    code, _out, err = run(cli, "snapshot", "--json", "--codex-sqlite-home", str(outside))
    assert code == 0, err
    with SnapshotStore.open(store_root, create=False) as store:
        latest = store.latest(codex_home)
        assert latest is not None
        note = json.loads(store.extra(latest, "codex.json") or b"{}")
    assert note["sqlite_home"] == str(outside.resolve())


def test_cli_refuses_a_newer_database_with_exit_13_and_force_warns(
    codex_home: Path,
    store_root: Path,
    outside: Path,
    cli: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wal_database(outside, codex_home).close()
    monkeypatch.setenv("CODEX_SQLITE_HOME", str(outside))
    code, out, err = run(cli, "snapshot", "--json")
    assert code == 0, err
    held = json.loads(out)["id"]
    downgrade(outside / "state_5.sqlite")
    code, _out, err = run(cli, "rollback", held, "--yes")
    assert code == 13 and "#30042" in err and "--force" in err
    code, out, err = run(cli, "rollback", held, "--yes", "--force")
    assert code == 0, err
    assert "Warning: @sqlite/state_5.sqlite" in err
    assert "--codex-sqlite-home" in out  # the undo line works in a shell without the variable


def test_history_prints_how_many_changes_are_in_the_sqlite_home(
    codex_home: Path, outside: Path, cli: CliRunner
) -> None:
    wal_database(outside, codex_home).close()
    code, out, err = run(cli, "snapshot", "--codex-sqlite-home", str(outside))
    assert code == 0, out + err
    code, out, err = run(cli, "history", "--codex-sqlite-home", str(outside))
    assert code == 0, out + err
    assert "1 in the SQLite home" in out
    code, out, _ = run(cli, "history", "--json", "--codex-sqlite-home", str(outside))
    (latest, *_) = json.loads(out)
    assert latest["sqlite_home"] == str(outside) and latest["sqlite_files_changed"] == 1


def enrollment_rows(path: Path) -> int:
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return int(db.execute("SELECT count(*) FROM remote_control_enrollments").fetchone()[0])
    finally:
        db.close()


def test_pairing_reset_with_db_clears_an_outside_live_database_and_is_undone(
    builder: CodexHomeBuilder,
    store_root: Path,
    outside: Path,
    cli: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    builder.with_sqlite = False  # the databases live only outside the home (WSL)
    home = builder.build().resolve()
    wal_database(outside, home).close()
    monkeypatch.setenv("CODEX_SQLITE_HOME", str(outside))
    assert enrollment_rows(outside / "state_5.sqlite") == 1
    code, out, err = run(cli, "fix", "pairing-reset", "--with-db", "--yes", "--force")
    assert code == 0, err
    assert STATE in out  # the report names the database it changed
    assert enrollment_rows(outside / "state_5.sqlite") == 0
    assert threads_in(outside / "state_5.sqlite") == len(THREADS)  # only those rows went
    # The "before" snapshot holds the rows, and undo puts them back.
    with SnapshotStore.open(store_root, create=False) as store:
        before = store.resolve(home, store.history(home)[1].id)
        assert store.records(before)[STATE].kind == "sqlite"
    code, _, err = run(cli, "undo", "--yes", "--force")
    assert code == 0, err
    assert enrollment_rows(outside / "state_5.sqlite") == 1


def test_outside_json_lists_the_bulky_files_of_an_outside_sqlite_home(
    codex_home: Path, store_root: Path, outside: Path
) -> None:
    wal_database(outside, codex_home).close()
    (outside / "logs_2.sqlite").write_bytes(b"SQLite format 3\x00" + bytes(4000))
    copy = "state_5.sqlite.codex-recovery-20261120T100000Z.0.bak"
    (outside / copy).write_bytes(b"SQLite format 3\x00" + bytes(2000))
    (outside / "notes.txt").write_text("not Codex's\n")  # the folder may be any folder
    taken = snapshot(codex_home, store_root, "", sqlite_home=outside)
    noted = json.loads(git_bytes(store_root, "show", f"{taken.snapshot.id}:outside.json"))
    assert noted["@sqlite/logs_2.sqlite"][0] == 4016
    assert noted[f"@sqlite/{copy}"][0] == 2016
    assert not [name for name in noted if name.startswith("@sqlite/") and "notes" in name]
    assert STATE not in noted  # held in the snapshot itself, so not "outside"


def test_recover_after_a_killed_fix_on_an_outside_sqlite_home_needs_no_option(
    builder: CodexHomeBuilder, store_root: Path, outside: Path, cli: CliRunner
) -> None:
    from tests.crashkit import LAUNCHER, REPO

    builder.with_sqlite = False
    home = builder.build().resolve()
    wal_database(outside, home).close()
    assert run(cli, "snapshot", "--codex-sqlite-home", str(outside))[0] == 0
    # Killed once the database too was written (the two global-state files come first).
    killed = subprocess.run(
        [sys.executable, "-c", LAUNCHER, "fix", "pairing-reset", "--with-db", "--yes", "--force"],
        env={
            **os.environ,
            "CODEX_SQLITE_HOME": str(outside),
            "CODEXSNAP_CRASH_ARM": "kill:between-writes:3",
        },
        cwd=REPO,
        capture_output=True,
        check=False,
    )
    assert killed.returncode == -9, killed
    assert enrollment_rows(outside / "state_5.sqlite") == 0  # written, not yet recorded
    # No CODEX_SQLITE_HOME and no option now: the journal says where the run wrote.
    code, out, err = run(cli, "recover", "--force")
    assert code == 0, err
    assert "Recovered an interrupted fix pairing-reset --with-db: put back 3 files" in out, out
    assert enrollment_rows(outside / "state_5.sqlite") == 1
    assert not list((store_root / "journal").glob("*.json"))


def test_a_journal_naming_another_sqlite_home_than_its_snapshot_is_refused(
    builder: CodexHomeBuilder, store_root: Path, outside: Path, cli: CliRunner, tmp_path: Path
) -> None:
    from codexsnap.store.index import home_id

    builder.with_sqlite = False
    home = builder.build().resolve()
    wal_database(outside, home).close()
    assert run(cli, "snapshot", "--codex-sqlite-home", str(outside))[0] == 0
    latest = json.loads(run(cli, "history", "--json")[1])[0]["id"]
    journal = store_root / "journal" / f"{home_id(home)}.json"
    journal.parent.mkdir(mode=0o700, exist_ok=True)
    elsewhere = tmp_path / "elsewhere"
    entry = {"path": STATE, "old_blob": None, "new_blob": None, "kind": "sqlite"}
    journal.write_text(
        json.dumps(
            {
                "format": 1,
                "operation": "fix pairing-reset",
                "home": str(home),
                "before": latest,
                "pid": 1,
                "entries": [entry],
                "sqlite_home": str(elsewhere),
            }
        )
    )
    code, _, err = run(cli, "recover", "--force")
    assert code == 8, err
    assert f"names the SQLite home {elsewhere}" in err and "nothing was changed" in err
    assert not elsewhere.exists()


def test_project_registry_rebuilds_from_an_outside_live_database_and_is_undone(
    builder: CodexHomeBuilder,
    store_root: Path,
    outside: Path,
    cli: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    builder.with_sqlite = False  # the projects live only in the outside database (WSL)
    home = builder.build().resolve()
    wal_database(outside, home).close()
    monkeypatch.setenv("CODEX_SQLITE_HOME", str(outside))
    state_file = home / ".codex-global-state.json"
    whole = json.loads(state_file.read_bytes())
    emptied = json.dumps({**whole, "local-projects": {}, "project-order": []}).encode()
    state_file.write_bytes(emptied)
    (home / ".codex-global-state.json.bak").write_bytes(emptied)
    code, out, err = run(cli, "fix", "project-registry", "--yes", "--force")
    assert code == 0, err
    assert STATE in out  # it says which database the registry came from
    rebuilt = json.loads(state_file.read_bytes())
    assert set(rebuilt["local-projects"]) == set(whole["local-projects"])
    code, _, err = run(cli, "undo", "--yes", "--force")
    assert code == 0, err
    assert state_file.read_bytes() == emptied
