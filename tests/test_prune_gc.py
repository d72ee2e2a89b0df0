"""prune --gc never loses what it promises to keep: pins set after marking, the "before" of
the newest fix across several rewrites, every id through aliases, and all of it when the gc
is killed at any step (the kill matrix is marked slow; CI runs a sample)."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import git_in_store, run


def ok(cli: CliRunner, *args: str) -> str:
    code, out, err = run(cli, *args)
    assert code == 0, out + err
    return out


def history(cli: CliRunner, *flags: str) -> list[dict[str, object]]:
    listed: list[dict[str, object]] = json.loads(ok(cli, "history", "--json", *flags))
    return listed


def snapshots(cli: CliRunner, home: Path, first: int, count: int) -> None:
    for n in range(first, first + count):
        (home / "prompts" / "note.md").write_text(f"unique content number {n} " * 20)
        ok(cli, "snapshot", "-m", f"n{n}")


def test_a_snapshot_pinned_after_prune_marked_it_survives_gc_with_its_pin(
    cli: CliRunner, codex_home: Path
) -> None:
    snapshots(cli, codex_home, 0, 4)
    ids = [s["id"] for s in history(cli)]
    ok(cli, "prune", "--keep-last", "1")
    assert [s["id"] for s in history(cli)] == ids[:1]
    ok(cli, "pin", str(ids[2]), "-m", "wanted after all")
    ok(cli, "prune", "--gc")
    listed = history(cli, "--all")
    assert [s["message"] for s in listed] == ["n3", "n1"]
    assert listed[1]["pinned"] is True and listed[1]["pruned"] is False
    # Its old id still answers.
    assert run(cli, "rollback", str(ids[2]), "--dry-run")[0] == 0


def test_a_second_gc_keeps_the_before_of_the_newest_fix_and_undo_works(
    cli: CliRunner, codex_home: Path
) -> None:
    snapshots(cli, codex_home, 0, 2)
    ok(cli, "fix", "--yes", "--force")
    snapshots(cli, codex_home, 2, 2)
    ok(cli, "prune", "--keep-last", "1", "--gc")
    snapshots(cli, codex_home, 4, 2)
    ok(cli, "prune", "--keep-last", "1", "--gc")
    operations = [s["operation"] for s in history(cli)]
    assert "before-fix" in operations and "after-fix" in operations, operations
    assert run(cli, "undo", "--dry-run")[0] == 0
    code, out, err = run(cli, "check")
    assert code == 0 and "stopped early" not in out, out + err


def test_after_gc_the_new_first_snapshot_counts_its_files_and_check_warns_of_nothing(
    cli: CliRunner, codex_home: Path
) -> None:
    snapshots(cli, codex_home, 0, 3)
    ok(cli, "prune", "--keep-last", "1", "--gc")
    first = history(cli)[-1]
    assert first["parent"] is None
    files = json.loads(
        git_in_store(codex_home.parent / "store", "show", f"{first['id']}:manifest.json").stdout
    )["files"]
    assert first["files_changed"] == len(files) > 0
    assert "0 files (first snapshot)" not in ok(cli, "history")
    code, out, err = run(cli, "check")
    assert code == 0 and "warning" not in out, out + err


def test_a_gc_pid_and_temporary_objects_left_behind_are_cleaned_under_the_lock(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    snapshots(cli, codex_home, 0, 3)
    ok(cli, "prune", "--keep-last", "1")
    git_dir = store_root / "repo.git"
    # What a killed `git gc` leaves: its pid file, naming a live process of this machine.
    (git_dir / "gc.pid").write_text(f"{os.getpid()} {socket.gethostname()}")
    # What a disk-full hash-object leaves: a temporary object git never renamed.
    folder = git_dir / "objects" / "ab"
    folder.mkdir(exist_ok=True)
    (folder / "tmp_obj_Xy12Zw").write_bytes(os.urandom(1 << 20))
    (git_dir / "objects" / "pack" / "tmp_pack_Qw3rTy").write_bytes(os.urandom(1 << 16))
    ok(cli, "prune", "--gc")
    assert len(history(cli, "--all")) == 1
    assert not (git_dir / "gc.pid").exists()
    assert not list(git_dir.glob("objects/??/tmp_obj_*"))
    assert not list(git_dir.glob("objects/pack/tmp_*"))


def test_quarantine_and_notes_follow_a_rewrite(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    snapshots(cli, codex_home, 0, 4)
    ids = [str(s["id"]) for s in history(cli)]
    ok(cli, "note", ids[1], "kept note")
    ok(cli, "pin", ids[1])
    ok(cli, "prune", "--keep-last", "1", "--gc")
    listed = history(cli)
    assert [s["message"] for s in listed] == ["n3", "n2"]
    assert listed[1]["note"] == "kept note" and listed[1]["pinned"] is True
    tables = {n: json.loads((store_root / n).read_text()) for n in ("pins.json", "notes.json")}
    # Old ids are gone from the tables once the refs moved; aliases still answer to them.
    assert ids[1] not in tables["pins.json"] and ids[1] not in tables["notes.json"]
    assert run(cli, "show", ids[1][:10])[0] == 0


pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
