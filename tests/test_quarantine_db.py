"""quarantine-db on realistic homes: a damaged database and its sidecars move into the store,
and undo brings them back byte for byte (openai/codex #20841, #41614)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codexsnap.commands.snapshot import snapshot
from codexsnap.doctor.backfill import check_backfill
from codexsnap.errors import HomeWriteError, RecipeRefusedError, StoreError, UsageError
from tests.helpers import apply_recipe as apply
from tests.helpers import run
from tests.homebuilder import THREADS, CodexHomeBuilder
from tests.test_doctor_home import doctor_on
from tests.test_doctor_projects import one_check
from tests.test_recipes_projects import undo_last

SIDECARS = ("-wal", "-shm", "-journal")


def damage(home: Path, relpath: str) -> dict[str, bytes]:
    """A malformed database with every sidecar beside it: the bytes each file holds."""
    path = home / relpath
    data = path.read_bytes()
    path.write_bytes(data[:100] + b"\xa5" * max(len(data) - 100, 8192))
    for number, suffix in enumerate(SIDECARS):
        Path(f"{path}{suffix}").write_bytes(bytes([number]) * 4096 + b"frames")
    return {f"{relpath}{s}": (home / f"{relpath}{s}").read_bytes() for s in ("", *SIDECARS)}


def threads_in(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("SELECT count(*) FROM threads").fetchone()[0])
    finally:
        db.close()


def kept_in_store(store: Path) -> dict[str, bytes]:
    base = store / "aside"
    return {
        p.relative_to(next(base.iterdir())).as_posix(): p.read_bytes()
        for p in base.rglob("*")
        if p.is_file()
    }


@pytest.mark.parametrize("layout", ["desktop", "cli"])
def test_a_damaged_state_database_moves_with_its_sidecars_and_undo_brings_them_back(
    builder: CodexHomeBuilder, store_root: Path, layout: str
) -> None:
    builder.layout = layout
    home = builder.build()
    builder.close()  # Codex is quit
    files = damage(home, builder.state_db)
    result = apply(home, store_root, "quarantine-db", database="state_5")
    assert not any((home / name).exists() for name in files)
    assert kept_in_store(store_root) == files  # in the store, byte for byte
    assert result.notes[0].startswith("Before you go ahead: a rebuilt state_5.sqlite")
    assert "#41614" in result.notes[0]
    undo_last(home, store_root)
    assert {name: (home / name).read_bytes() for name in files} == files


def test_logs_database_which_snapshots_leave_out_comes_back_byte_for_byte(
    builder: CodexHomeBuilder, store_root: Path
) -> None:
    home = builder.build()
    builder.close()
    files = damage(home, "sqlite/logs_2.sqlite")
    result = apply(home, store_root, "quarantine-db", database="logs_2")
    assert not any((home / name).exists() for name in files)
    assert any("only the app server's logs" in note for note in result.notes)
    # Codex made a new one meanwhile: it goes, and so does its -wal.
    (home / "sqlite/logs_2.sqlite").write_bytes(b"SQLite format 3\x00new")
    (home / "sqlite/logs_2.sqlite-wal").write_bytes(b"new frames")
    undo_last(home, store_root)
    assert {name: (home / name).read_bytes() for name in files} == files


def test_from_snapshot_puts_the_newest_good_copy_in_place(
    builder: CodexHomeBuilder, store_root: Path
) -> None:
    home = builder.build()
    builder.close()
    good = snapshot(home, store_root, "all good").snapshot
    damage(home, builder.state_db)
    snapshot(home, store_root, "damaged")  # holds the damaged bytes: skipped
    result = apply(home, store_root, "quarantine-db", database="state_5", source="snapshot")
    live = home / builder.state_db
    assert threads_in(live) == len(THREADS)
    assert not any(Path(f"{live}{s}").exists() for s in SIDECARS)  # no stale -wal replayed
    assert good is not None and any(good.short_id in note for note in result.notes)


def test_from_recovery_copy_uses_codex_own_copy(
    builder: CodexHomeBuilder, store_root: Path
) -> None:
    home = builder.build()
    builder.close()
    live = home / builder.state_db
    copy = sqlite3.connect(f"{live}.codex-recovery-1763632800.1.bak")
    source = sqlite3.connect(live)
    source.backup(copy)
    source.close()
    copy.close()
    damage(home, builder.state_db)
    apply(
        home, store_root, "quarantine-db", database="sqlite/state_5.sqlite", source="recovery-copy"
    )
    assert threads_in(live) == len(THREADS)


def test_refusals_change_nothing(builder: CodexHomeBuilder, store_root: Path) -> None:
    home = builder.build()
    builder.close()
    files = damage(home, builder.state_db)
    with pytest.raises(UsageError, match="NAME"):
        apply(home, store_root, "quarantine-db")
    with pytest.raises(UsageError, match="--from takes"):
        apply(home, store_root, "quarantine-db", database="state_5", source="backup")
    with pytest.raises(RecipeRefusedError, match="no recovery copy"):
        apply(home, store_root, "quarantine-db", database="state_5", source="recovery-copy")
    with pytest.raises(RecipeRefusedError, match="no snapshot"):
        apply(home, store_root, "quarantine-db", database="state_5", source="snapshot")
    with pytest.raises(RecipeRefusedError, match="no database"):
        apply(home, store_root, "quarantine-db", database="goals_9")
    assert {name: (home / name).read_bytes() for name in files} == files


def test_cli_says_what_a_rebuild_loses_before_asking(
    builder: CodexHomeBuilder, cli: CliRunner
) -> None:
    home = builder.build()
    builder.close()
    damage(home, builder.state_db)
    code, out, err = run(cli, "fix", "quarantine-db", "state_5", "--dry-run")
    assert code == 0, err
    assert "Note: Before you go ahead: a rebuilt state_5.sqlite" in out
    assert "codexsnap fix quarantine-db state_5" in out
    code, _, err = run(cli, "fix", "quarantine-db", "state_5", "--from", "snapshot", "--yes")
    assert code == 12 and "no snapshot" in err
    code, _, err = run(cli, "fix", "remote-control", "state_5", "--yes")
    assert code == 2 and "a database NAME does not apply to the remote-control recipe" in err


# ----- doctor: the database and backfill checks name the cure -----------------------------


def test_doctor_names_quarantine_db_and_the_newest_good_snapshot(
    builder: CodexHomeBuilder, store_root: Path
) -> None:
    home = builder.build()
    builder.close()
    good = snapshot(home, store_root, "all good").snapshot
    damage(home, "sqlite/state_5.sqlite")
    damage(home, "sqlite/logs_2.sqlite")
    checks = doctor_on(home, store_root, "linux")
    state = checks["sqlite:sqlite/state_5.sqlite"]
    assert state.status == "problem" and good is not None
    assert f"a good copy is in snapshot {good.short_id}" in state.evidence
    assert state.cure == "codexsnap fix quarantine-db state_5 --from snapshot"
    assert checks["sqlite:sqlite/logs_2.sqlite"].cure == "codexsnap fix quarantine-db logs_2"


def test_an_orphaned_running_backfill_is_a_problem_whose_cure_warns_against_editing_it(
    builder: CodexHomeBuilder, store_root: Path
) -> None:
    home = builder.build()
    assert one_check(home, store_root, check_backfill).status == "ok"
    db = builder.open_connections[0]
    db.execute("UPDATE backfill_state SET status = 'running'")
    db.commit()
    check = one_check(home, store_root, check_backfill)
    assert check.status == "problem" and "30 s" in check.evidence and "#41614" in check.evidence
    assert check.cure is not None and check.cure.startswith("never set backfill_state.status")
    assert check.cure.endswith("codexsnap fix quarantine-db state_5 --from snapshot")


# ----- a run that fails or is killed half-way puts the very bytes back ---------------------


def test_a_failed_write_puts_back_the_moved_files_byte_for_byte(
    builder: CodexHomeBuilder, store_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = builder.build()
    builder.close()
    files = damage(home, "sqlite/logs_2.sqlite")
    monkeypatch.setenv("CODEXSNAP_TEST_FAULT", "enospc:between-writes")
    with pytest.raises(HomeWriteError, match="put back"):
        apply(home, store_root, "quarantine-db", database="logs_2")
    assert {name: (home / name).read_bytes() for name in files} == files


def test_a_killed_run_is_recovered_with_the_moved_bytes(
    builder: CodexHomeBuilder, store_root: Path
) -> None:
    home = builder.build()
    builder.close()
    files = damage(home, "sqlite/logs_2.sqlite")
    env = {**os.environ, "CODEXSNAP_TEST_FAULT": "kill:between-writes"}
    args = [sys.executable, "-m", "codexsnap", "fix", "quarantine-db", "logs_2", "--yes"]
    killed = subprocess.run(args, env=env, capture_output=True, timeout=120, check=False)
    assert killed.returncode == -signal.SIGKILL
    assert not all((home / name).exists() for name in files)  # half-moved
    done = subprocess.run(
        [sys.executable, "-m", "codexsnap", "recover"], capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert {name: (home / name).read_bytes() for name in files} == files


def test_a_store_that_cannot_keep_the_files_changes_nothing(
    builder: CodexHomeBuilder, store_root: Path
) -> None:
    home = builder.build()
    builder.close()
    files = damage(home, "sqlite/logs_2.sqlite")
    snapshot(home, store_root, "first")
    (store_root / "aside").write_bytes(b"")  # a file where the folder goes: nothing fits
    with pytest.raises(StoreError, match="nothing was changed"):
        apply(home, store_root, "quarantine-db", database="logs_2")
    assert {name: (home / name).read_bytes() for name in files} == files
