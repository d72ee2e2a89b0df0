"""codexsnap show: what one snapshot changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.helpers import (
    BAK,
    ENROLL,
    FILE_KEYS,
    GLOBAL,
    REPORT_KEYS,
    SNAPSHOT_KEYS,
    fixed,
    no_secrets,
    ok,
    ok_json,
)
from tests.homebuilder import (
    REVOKED_CLIENT_ID,
)

OUTSIDE_KEYS = {"group", "added", "removed", "changed", "size_before", "size_after"}


def test_show_text_and_json(cli: CliRunner, codex_home: Path) -> None:
    after = fixed(cli)["snapshot_after"]
    out = ok(cli, "show", after[:8])
    lines = out.splitlines()
    assert lines[0].startswith(f"{after[:10]}  ") and "after fix remote-control" in lines[0]
    assert f"{GLOBAL}  (modified, json)" in lines
    assert f"  - {ENROLL}: {{1 entry}}" in lines

    shown = ok_json(cli, "show", after)
    assert set(shown) == SNAPSHOT_KEYS | {"files_total", "summary"} | REPORT_KEYS
    assert shown["id"] == after and shown["operation"] == "after-fix"
    assert shown["recipe"] == "remote-control"
    assert isinstance(shown["files_total"], int) and shown["files_total"] > 2
    assert [f["path"] for f in shown["changes"]] == [GLOBAL, BAK]
    assert all(set(f) == FILE_KEYS for f in shown["changes"])
    assert shown["outside"] == [] and shown["auth"] == []


def test_show_of_the_first_snapshot_notes_what_it_does_not_store(
    cli: CliRunner, codex_home: Path
) -> None:
    first = ok_json(cli, "snapshot")["id"]
    out = ok(cli, "show", first)
    assert "Outside the snapshot scope (noted, never stored or restored):" in out
    assert "auth.json appeared (signed in)" in out.splitlines()
    shown = ok_json(cli, "show", first, "--details")
    assert shown["files_total"] == len(shown["changes"])
    assert all(f["status"] == "added" for f in shown["changes"])
    groups = {o["group"]: o for o in shown["outside"]}
    assert {"sessions/", "log/"} <= set(groups)
    for outside in shown["outside"]:
        assert set(outside) == OUTSIDE_KEYS
    assert groups["log/"]["added"] == 1 and groups["log/"]["size_before"] == 0
    assert shown["auth"] == ["auth.json appeared (signed in)"]


def test_outside_scope_line_reads_count_then_noun(cli: CliRunner, codex_home: Path) -> None:
    first = ok_json(cli, "snapshot")["id"]
    out = ok(cli, "show", first)
    assert "  log/: 1 file added" in out


def test_show_of_a_snapshot_that_changed_nothing(cli: CliRunner, codex_home: Path) -> None:
    before = fixed(cli)["snapshot_before"]
    unchanged = ok_json(cli, "rollback", before, "--yes")["snapshot_before"]
    out = ok(cli, "show", unchanged)
    assert "No file changed." in out.splitlines()


@pytest.mark.parametrize("command", ["fix", "show"])
def test_show_secrets_prints_them(cli: CliRunner, codex_home: Path, command: str) -> None:
    if command == "fix":
        out = ok(cli, "fix", "--dry-run", "--show-secrets")
    else:
        after = fixed(cli)["snapshot_after"]
        out = ok(cli, "show", after, "--show-secrets")
        no_secrets(ok(cli, "show", after))
    assert REVOKED_CLIENT_ID in out
    assert "user_AbC1dEf2GhI3jKl4" in out


def test_show_of_a_first_snapshot_is_a_summary_without_contents(
    cli: CliRunner, codex_home: Path
) -> None:
    (codex_home / "prompts" / "draft.md").write_text("MY PRIVATE DRAFT TEXT\n")
    first = ok_json(cli, "snapshot")["id"]
    out = ok(cli, "show", first)
    assert "First snapshot of this home:" in out and "by kind:" in out and "by folder:" in out
    assert "SQLite database" in out and "sqlite/" in out
    assert f"codexsnap show {first[:10]} --details" in out
    assert "MY PRIVATE DRAFT TEXT" not in out and "(added," not in out
    assert len(out.splitlines()) < 30
    shown = ok_json(cli, "show", first)
    assert shown["changes"] == [] and shown["summary"]["files"] == shown["files_total"]
    assert shown["summary"]["kinds"]["sqlite"]["files"] >= 1
    assert sum(k["size"] for k in shown["summary"]["kinds"].values()) == shown["summary"]["size"]
    detailed = ok(cli, "show", first, "--details")
    assert "MY PRIVATE DRAFT TEXT" in detailed and "First snapshot" not in detailed
    assert ok_json(cli, "show", first, "--details")["summary"] is None


def test_show_json_says_pinned_for_a_pinned_snapshot(cli: CliRunner, codex_home: Path) -> None:
    after = fixed(cli)["snapshot_after"]
    assert ok_json(cli, "show", after)["pinned"] is False
    ok(cli, "pin", after, "-m", "good")
    shown = ok_json(cli, "show", after)
    assert shown["pinned"] is True and shown["pin_reason"] == "good"
    assert "[pinned: good]" in ok(cli, "show", after).splitlines()[0]
