"""codexsnap history: the list of snapshots, text and JSON."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from codexsnap.demo_home import write_revocation_log
from codexsnap.store.trailers import TRAILERS, encode, list_of
from tests.helpers import (
    BAK,
    ENROLL,
    GLOBAL,
    HEX40,
    fails,
    fixed,
    history_json,
    ok,
    ok_json,
    run,
)


def test_history_on_an_empty_store(cli: CliRunner, codex_home: Path, store_root: Path) -> None:
    code, out, err = run(cli, "history")
    assert code == 0 and err == ""
    assert out.startswith("No snapshots yet")
    assert history_json(cli) == []
    assert not store_root.exists()


def test_history_text_and_json(cli: CliRunner, codex_home: Path) -> None:
    fixed(cli)
    lines = ok(cli, "history", "--all").splitlines()
    assert len(lines) == 2
    snapshots = history_json(cli)
    assert len(snapshots) == 2
    for line, snap in zip(lines, snapshots, strict=True):
        assert line.startswith(snap["short_id"] + "  ")
        assert snap["summary"] in line
    assert "after fix remote-control" in lines[0] and "before fix remote-control" in lines[1]
    for snap in snapshots:
        assert set(snap) >= {"id", "created_at", "operation", "message", "files_changed"}
        assert HEX40.match(snap["id"]) and snap["short_id"] == snap["id"][:10]
        assert datetime.fromisoformat(snap["created_at"]).tzinfo is not None
        assert isinstance(snap["message"], str) and isinstance(snap["files_changed"], int)
    assert [s["operation"] for s in snapshots] == ["after-fix", "before-fix"]
    assert snapshots[0]["files_changed"] == 2
    assert snapshots[0]["parent"] == snapshots[1]["id"]


def test_history_limit(cli: CliRunner, codex_home: Path) -> None:
    fixed(cli)
    for flag in ("--limit", "-n"):
        assert len(ok(cli, "history", "--all", flag, "1").splitlines()) == 1
        (only,) = history_json(cli, flag, "1")
        assert only["operation"] == "after-fix"


def test_history_limit_must_be_positive(cli: CliRunner, codex_home: Path) -> None:
    code, _, err = run(cli, "history", "--limit", "0")
    assert code == 2 and "--limit" in err


# ----- history tells the story (issue 16) ------------------------------------------------


def _by_operation(snapshots: list[dict[str, Any]], operation: str) -> dict[str, Any]:
    found = [s for s in snapshots if s["operation"] == operation]
    assert found, snapshots
    return found[0]


@pytest.mark.parametrize("level", ["--reset", "--clean", "--only-revoked"])
def test_a_fix_records_its_level_and_history_shows_it(
    cli: CliRunner, codex_home: Path, level: str
) -> None:
    write_revocation_log(codex_home.parent / "logs")
    args = [level, "--logs", str(codex_home.parent / "logs")]
    fixed(cli, *(args if level == "--only-revoked" else [level]))
    snapshots = history_json(cli)
    for operation in ("before-fix", "after-fix"):
        snap = _by_operation(snapshots, operation)
        assert snap["options"] == [level] and snap["recipe"] == "remote-control"
    (line,) = ok(cli, "history").splitlines()
    assert f"fix remote-control {level}" in line


def test_a_plain_fix_records_no_options(cli: CliRunner, codex_home: Path) -> None:
    fixed(cli)
    assert all(s["options"] == [] for s in history_json(cli))


def test_undo_is_recorded_as_an_undo_not_a_partial_rollback(
    cli: CliRunner, codex_home: Path
) -> None:
    fix = fixed(cli)
    ok(cli, "undo", "--yes")
    snapshots = history_json(cli)
    after = snapshots[0]
    assert after["operation"] == "after-undo" and after["undoes"] == fix["snapshot_after"]
    assert after["paths"] == [] and after["target"] == fix["snapshot_before"]
    assert after["summary"] == "after undo of fix remote-control"
    first = ok(cli, "history").splitlines()[0]
    assert "undo of fix remote-control" in first and "only" not in first
    # An undo of the undo is an undo too, and puts the fix back.
    ok(cli, "undo", "--yes")
    assert history_json(cli)[0]["undoes"] == after["id"]


def test_a_partial_rollback_records_its_paths_and_key(cli: CliRunner, codex_home: Path) -> None:
    fix = fixed(cli)
    before = fix["snapshot_before"]
    ok(cli, "rollback", before, "--yes", "--path", BAK)
    after = history_json(cli)[0]
    assert after["paths"] == [BAK] and after["key"] is None and after["target"] == before
    assert f"rollback to {before[:10]} (only {BAK})" in ok(cli, "history").splitlines()[0]
    ok(cli, "rollback", before, "--yes", "--path", GLOBAL, "--key", ENROLL)
    after = history_json(cli)[0]
    assert after["paths"] == [GLOBAL] and after["key"] == ENROLL
    assert f"(key {ENROLL} of {GLOBAL})" in ok(cli, "history").splitlines()[0]


def test_paths_with_spaces_survive_the_trailer(cli: CliRunner, codex_home: Path) -> None:
    (codex_home / "my rules.md").write_text("one\n")
    first = ok_json(cli, "snapshot")["id"]
    (codex_home / "my rules.md").write_text("two\n")
    ok(cli, "rollback", first, "--yes", "--path", "my rules.md")
    assert history_json(cli)[0]["paths"] == ["my rules.md"]


def test_old_space_separated_paths_still_read() -> None:
    assert list_of({"Paths": "a.json b.toml"}, "Paths") == ("a.json", "b.toml")
    assert list_of({"Paths": '["a b.json"]'}, "Paths") == ("a b.json",)
    assert list_of({}, "Paths") == ()


def test_every_trailer_is_declared_once_and_documented() -> None:
    design = (Path(__file__).parent.parent / "docs" / "design.md").read_text()
    for name, trailer in TRAILERS.items():
        assert f"| `Codexsnap-{name}` |" in design, name
        assert trailer.codec in ("text", "list", "int")
    with pytest.raises(ValueError):
        encode({"Not-A-Trailer": "x"})
    assert encode({"Recipe": "fix-it", "Paths": [], "Key": None}) == {"Recipe": "fix-it"}


def test_each_operation_is_one_entry_and_all_lists_both(cli: CliRunner, codex_home: Path) -> None:
    fix = fixed(cli)
    (line,) = ok(cli, "history").splitlines()
    assert line.startswith(fix["snapshot_after"][:10])
    assert f"before: {fix['snapshot_before'][:10]}" in line
    assert "2 files changed" in line
    both = ok(cli, "history", "--all").splitlines()
    assert len(both) == 2
    assert "after fix remote-control" in both[0] and "before fix remote-control" in both[1]


def test_a_drift_then_an_identical_before_fold_into_the_entry(
    cli: CliRunner, codex_home: Path
) -> None:
    ok(cli, "snapshot")
    (codex_home / "AGENTS.md").write_text("changed outside codexsnap\n")
    fix = fixed(cli)
    drift = fix["drift_snapshot"]
    assert drift
    lines = ok(cli, "history").splitlines()
    assert len(lines) == 2, lines  # the fix (drift and before folded in), the first snapshot
    assert f"outside changes saved first: {drift[:10]}, 1 file changed" in lines[0]
    assert len(ok(cli, "history", "--all").splitlines()) == 4


def test_a_runtime_only_fix_is_one_entry_and_undo_says_there_is_nothing_to_undo(
    cli: CliRunner, codex_home: Path
) -> None:
    ok(cli, "snapshot")
    fixed(cli, "app-server-stale")
    line = ok(cli, "history").splitlines()[0]
    assert "fix app-server-stale" in line and "runtime files only" in line
    err = fails(cli, 7, "undo", "--yes")
    assert "removed only runtime files" in err and "nothing to undo" in err


def test_pin_reasons_and_quarantine_marks_show(cli: CliRunner, codex_home: Path) -> None:
    fix = fixed(cli)
    ok(cli, "pin", fix["snapshot_after"], "-m", "known good")
    line = ok(cli, "history").splitlines()[0]
    assert "[pinned: known good]" in line
    snap = history_json(cli)[0]
    assert snap["pinned"] is True and snap["pin_reason"] == "known good"
    ok(cli, "pin", fix["snapshot_before"])
    assert "[pinned]" in ok(cli, "history")


def test_history_limit_counts_entries(cli: CliRunner, codex_home: Path) -> None:
    fixed(cli)
    ok(cli, "undo", "--yes")
    lines = ok(cli, "history", "-n", "1").splitlines()
    assert len(lines) == 1 and "undo of fix" in lines[0]
    assert len(ok(cli, "history", "-n", "2").splitlines()) == 2


def test_unpin_of_an_unpinned_snapshot_says_so(cli: CliRunner, codex_home: Path) -> None:
    first = ok_json(cli, "snapshot")["id"]
    assert "was not pinned; nothing changed" in ok(cli, "unpin", first)
    ok(cli, "pin", first)
    assert ok(cli, "unpin", first).startswith("Unpinned")


def test_an_automatic_snapshot_says_so(cli: CliRunner, codex_home: Path, store_root: Path) -> None:
    from codexsnap.commands.snapshot import AUTOMATIC, take
    from codexsnap.store import SnapshotStore

    fixed(cli)
    (codex_home / "AGENTS.md").write_text("changed while watched\n")
    with SnapshotStore.open(store_root, create=False) as store, store.locked():
        take(store, codex_home, None, operation=AUTOMATIC)
    snapshots = history_json(cli)
    assert snapshots[0]["origin"] == "automatic" and snapshots[1]["origin"] == "manual"
    assert "automatic snapshot (watch)" in ok(cli, "history").splitlines()[0]
