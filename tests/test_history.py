"""codexsnap history: the list of snapshots, text and JSON."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from typer.testing import CliRunner

from tests.helpers import HEX40, fixed, history_json, ok, run


def test_history_on_an_empty_store(cli: CliRunner, codex_home: Path, store_root: Path) -> None:
    code, out, err = run(cli, "history")
    assert code == 0 and err == ""
    assert out.startswith("No snapshots yet")
    assert history_json(cli) == []
    assert not store_root.exists()


def test_history_text_and_json(cli: CliRunner, codex_home: Path) -> None:
    fixed(cli)
    lines = ok(cli, "history").splitlines()
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
        assert len(ok(cli, "history", flag, "1").splitlines()) == 1
        (only,) = history_json(cli, flag, "1")
        assert only["operation"] == "after-fix"


def test_history_limit_must_be_positive(cli: CliRunner, codex_home: Path) -> None:
    code, _, err = run(cli, "history", "--limit", "0")
    assert code == 2 and "--limit" in err
