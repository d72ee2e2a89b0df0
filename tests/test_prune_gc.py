"""prune --gc never loses what it promises to keep: pins set after marking, the "before" of
the newest fix across several rewrites, every id through aliases, and all of it when the gc
is killed at any step (the kill matrix is marked slow; CI runs a sample)."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.crashkit import Lab, fsck_problems, run_armed
from tests.crashkit import codexsnap as crash_run
from tests.helpers import git_in_store, run
from tests.homebuilder import CodexHomeBuilder


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


# ----- prune --gc killed at every step ------------------------------------------------------


def _lab_ok(lab: Lab, *args: str) -> str:
    done = crash_run(lab, *args)
    assert done.returncode == 0, (args, done.stdout + done.stderr)
    return done.stdout


def _by_message(lab: Lab, *flags: str) -> dict[str, dict[str, object]]:
    listed = json.loads(_lab_ok(lab, "history", "--json", *flags))
    return {str(s["message"] or s["operation"]): s for s in listed}


@pytest.fixture(scope="module")
def gc_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, dict[str, str]]]:
    """A home with S0, S1 (pinned, noted), a fix, S2, S3; S0 and S2 marked by prune."""
    lab = Lab(tmp_path_factory.mktemp("gc-lab"))
    lab.user_home.mkdir(parents=True)
    builder = CodexHomeBuilder(lab.home)
    builder.build()
    builder.close()
    for n in range(2):
        (lab.home / "prompts" / "note.md").write_text(f"unique content number {n} " * 20)
        _lab_ok(lab, "snapshot", "-m", f"S{n}")
    _lab_ok(lab, "fix", "--yes", "--force")
    for n in range(2, 4):
        (lab.home / "prompts" / "note.md").write_text(f"unique content number {n} " * 20)
        _lab_ok(lab, "snapshot", "-m", f"S{n}")
    ids = {name: str(s["id"]) for name, s in _by_message(lab).items()}
    _lab_ok(lab, "pin", ids["S1"], "-m", "known good")
    _lab_ok(lab, "note", ids["S1"], "the one to keep")
    _lab_ok(lab, "prune", "--keep-last", "1")
    assert set(_by_message(lab)) == {"S1", "S3", "before-fix", "after-fix"}
    lab.save_template()
    yield lab, ids


def _assert_promises_kept(lab: Lab, ids: dict[str, str], finished: bool) -> None:
    listed = _by_message(lab, "--all")
    assert {"S1", "S3", "before-fix", "after-fix"} <= set(listed), sorted(listed)
    assert listed["S1"]["pinned"] is True and listed["S1"]["note"] == "the one to keep"
    if finished:
        assert not {"S0", "S2"} & set(listed), sorted(listed)
    for name in ("S1", "S3", "before-fix", "after-fix"):  # the old ids still answer
        assert crash_run(lab, "show", ids[name][:10]).returncode == 0, name
    assert crash_run(lab, "undo", "--dry-run").returncode == 0
    assert fsck_problems(lab.store) == []


def _gc_points(lab: Lab) -> list[tuple[str, int]]:
    lab.reset()
    clean = run_armed(lab, ["prune", "--gc"], census=lab.root / "census.json")
    assert clean.returncode == 0, clean.output
    seen: dict[str, int] = {}
    points = []
    for name in clean.reached:
        if name.startswith("gc-"):
            seen[name] = seen.get(name, 0) + 1
            points.append((name, seen[name]))
    return points


SAMPLE = {("gc-aliases-saved", 1), ("gc-refs-moved", 1), ("gc-before-git-gc", 1)}


@pytest.mark.parametrize(
    "portion", [pytest.param("sample"), pytest.param("all", marks=pytest.mark.slow)]
)
def test_prune_gc_killed_at_every_step_keeps_pins_aliases_and_undo(
    gc_lab: tuple[Lab, dict[str, str]],
    portion: str,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    expression = str(request.config.getoption("markexpr") or "")
    if portion == "all" and ("slow" not in expression or "not slow" in expression):
        pytest.skip("every kill point: python3 -m pytest tests/test_prune_gc.py -m slow")
    lab, ids = gc_lab
    points = _gc_points(lab)
    assert len(points) >= 14, points
    trials = points if portion == "all" else [p for p in points if p in SAMPLE]
    assert trials
    for point, nth in trials:
        lab.reset()
        killed = run_armed(lab, ["prune", "--gc"], arm=f"kill:{point}:{nth}")
        assert killed.killed, (point, nth, killed.output)
        _assert_promises_kept(lab, ids, finished=False)
        _lab_ok(lab, "prune", "--gc")  # the next run finishes the job
        _assert_promises_kept(lab, ids, finished=True)
        checked = crash_run(lab, "check")
        assert checked.returncode == 0 and "warning" not in checked.stdout, checked.stdout
        pins = json.loads((lab.store / "pins.json").read_text())
        listed = _by_message(lab)
        assert set(pins) == {listed["S1"]["id"]}, (point, nth, pins)
    with capsys.disabled():
        print(f"\nprune --gc [{portion}]: {len(points)} points, {len(trials)} kills, 0 violations")
