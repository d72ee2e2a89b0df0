"""codexsnap snapshot: a snapshot on request, with a note."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from tests.helpers import SNAPSHOT_KEYS, history_json, ok, ok_json


def test_snapshot_message_appears_in_history(cli: CliRunner, codex_home: Path) -> None:
    out = ok(cli, "snapshot", "-m", "before my experiment")
    assert re.match(r"^Snapshot [0-9a-f]{10}: ", out), out
    lines = ok(cli, "history").splitlines()
    assert len(lines) == 1 and lines[0].endswith("(before my experiment)")
    (snap,) = history_json(cli)
    assert snap["message"] == "before my experiment"
    assert snap["operation"] == "snapshot"


def test_snapshot_without_change_makes_none(cli: CliRunner, codex_home: Path) -> None:
    first = ok_json(cli, "snapshot", "--message", "first")
    assert set(first) == SNAPSHOT_KEYS | {"created"} and first["created"] is True
    out = ok(cli, "snapshot")
    assert out == f"Nothing changed since snapshot {first['short_id']}; no new snapshot made.\n"
    again = ok_json(cli, "snapshot")
    assert again["created"] is False and again["id"] == first["id"]
    assert len(history_json(cli)) == 1
    # A note marks a moment on purpose: it makes a snapshot even when nothing changed.
    marked = ok_json(cli, "snapshot", "-m", "before my experiment")
    assert marked["created"] is True and marked["files_changed"] == 0
    assert len(history_json(cli)) == 2


def test_snapshot_counts_one_file_in_the_singular(cli: CliRunner, codex_home: Path) -> None:
    ok(cli, "snapshot")
    (codex_home / "AGENTS.md").write_text("changed\n")
    out = ok(cli, "snapshot")
    assert ": 1 file changed since the last one." in out
