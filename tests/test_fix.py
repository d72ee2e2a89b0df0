"""fix remote-control on realistic homes, through the commands layer."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from codexsnap.commands.fix import FixResult, fix
from codexsnap.commands.history import history
from codexsnap.diff_report import DiffReport
from codexsnap.errors import NotConfirmedError, StateFileInvalidError
from codexsnap.recipes import RecipeOptions
from tests.helpers import (
    BAK,
    ENROLL,
    FILE_KEYS,
    GLOBAL,
    HEX40,
    fails,
    file_states,
    fixed,
    history_json,
    ok,
    ok_json,
    run,
    undo_args,
)
from tests.homebuilder import (
    CodexHomeBuilder,
    global_state,
)


def yes(_: DiffReport) -> bool:
    return True


def run_fix(home: Path, store: Path, **options: Any) -> FixResult:
    dry_run = options.pop("dry_run", False)
    force = options.pop("force", False)
    return fix(
        home,
        store,
        "remote-control",
        RecipeOptions(**options),
        dry_run=dry_run,
        force=force,
        show_secrets=False,
        confirm=yes,
    )


def test_fix_removes_enrollment_from_both_files_and_keeps_everything_else(
    codex_home: Path, store_root: Path
) -> None:
    before = json.loads((codex_home / GLOBAL).read_bytes())
    result = run_fix(codex_home, store_root)
    after = json.loads((codex_home / GLOBAL).read_bytes())
    assert ENROLL not in after
    assert after == {k: v for k, v in before.items() if k != ENROLL}
    assert list(after) == [k for k in before if k != ENROLL]  # key order kept
    assert (codex_home / BAK).read_bytes() == (codex_home / GLOBAL).read_bytes()
    assert result.snapshot_before is not None and result.snapshot_after is not None
    ops = [s.operation for s in history(codex_home, store_root, None)]
    assert ops == ["after-fix", "before-fix"]


def test_fix_keeps_indentation_and_final_newline(
    builder: CodexHomeBuilder, store_root: Path
) -> None:
    builder.indent = 2
    home = builder.build()
    raw = (home / GLOBAL).read_bytes() + b"\n"
    (home / GLOBAL).write_bytes(raw)
    run_fix(home, store_root)
    text = (home / GLOBAL).read_text()
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert '\n  "local-projects": {' in text
    assert "“quotes”" in text  # non-ASCII kept as written


def test_clean_also_removes_remote_host_selection(codex_home: Path, store_root: Path) -> None:
    run_fix(codex_home, store_root, clean=True)
    after = json.loads((codex_home / GLOBAL).read_bytes())
    for key in (
        ENROLL,
        "selected-remote-host-id",
        "remote-connection-auto-connect-by-host-id",
        "added-remote-control-env-ids",
    ):
        assert key not in after
    # The nested atom state is the user's UI state; --clean leaves it alone.
    assert "selected-remote-host-id" in after["electron-persisted-atom-state"]
    assert "local-projects" in after


def test_reset_moves_both_files_out_and_rollback_brings_them_back(
    codex_home: Path, store_root: Path
) -> None:
    from codexsnap.commands.rollback import rollback

    original = file_states(codex_home)
    result = run_fix(codex_home, store_root, reset=True)
    assert not (codex_home / GLOBAL).exists() and not (codex_home / BAK).exists()
    assert result.snapshot_before is not None
    rollback(
        codex_home,
        store_root,
        result.snapshot_before.id,
        dry_run=False,
        force=False,
        show_secrets=False,
        confirm=yes,
    )
    assert file_states(codex_home) == original


def test_nothing_to_fix_makes_no_snapshot(codex_home: Path, store_root: Path) -> None:
    run_fix(codex_home, store_root)
    count = len(history(codex_home, store_root, None))
    result = run_fix(codex_home, store_root)
    assert result.report.empty
    assert len(history(codex_home, store_root, None)) == count


def test_missing_bak_is_fine(builder: CodexHomeBuilder, store_root: Path) -> None:
    builder.with_bak = False
    home = builder.build()
    run_fix(home, store_root)
    assert not (home / BAK).exists()
    assert ENROLL not in json.loads((home / GLOBAL).read_bytes())


def test_dry_run_writes_nothing_into_home_or_store(codex_home: Path, store_root: Path) -> None:
    original = file_states(codex_home, include_excluded=True)
    result = run_fix(codex_home, store_root, dry_run=True)
    assert not result.report.empty
    assert file_states(codex_home, include_excluded=True) == original
    assert not store_root.exists()


def test_declined_confirmation_changes_nothing(codex_home: Path, store_root: Path) -> None:
    original = file_states(codex_home)
    with pytest.raises(NotConfirmedError):
        fix(
            codex_home,
            store_root,
            "remote-control",
            RecipeOptions(),
            dry_run=False,
            force=False,
            show_secrets=False,
            confirm=lambda _: False,
        )
    assert file_states(codex_home) == original


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b'{"a": 1, "electron-remote', "not valid JSON"),
        (b"\x00" * 4096, "NUL bytes"),
        (b"", "empty"),
        (b'\xef\xbb\xbf{"a": 1}', "byte-order mark"),
        (b"[1, 2]", "not an object"),
        (b'{"a": "\xff\xfe"}', "not valid UTF-8"),
    ],
)
def test_bad_global_state_is_refused_and_nothing_changes(
    codex_home: Path, store_root: Path, content: bytes, words: str
) -> None:
    (codex_home / GLOBAL).write_bytes(content)
    original = file_states(codex_home)
    with pytest.raises(StateFileInvalidError, match=words):
        run_fix(codex_home, store_root)
    assert file_states(codex_home) == original
    assert not store_root.exists()


def test_fix_called_directly_recovers_a_killed_run_before_planning(
    codex_home: Path, store_root: Path
) -> None:
    import os
    import signal
    import subprocess
    import sys

    original = file_states(codex_home)
    env = {**os.environ, "CODEXSNAP_TEST_FAULT": "kill:between-writes"}
    killed = subprocess.run(
        [sys.executable, "-m", "codexsnap", "fix", "--yes"], env=env, capture_output=True
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    half = file_states(codex_home)
    assert half != original  # one of the two files was written

    waiting = run_fix(codex_home, store_root, dry_run=True)
    assert waiting.recovery is None and waiting.recovery_pending
    assert file_states(codex_home) == half  # a dry run writes nothing, not even a recovery

    result = run_fix(codex_home, store_root)
    assert result.recovery is not None and not result.recovery_pending
    assert result.recovery.operation == "fix remote-control"
    assert result.recovery.restored and not result.recovery.left_alone
    assert result.changed
    assert not any((store_root / "journal").glob("*.json"))
    ops = [s.operation for s in history(codex_home, store_root, None)]
    assert ops[:4] == ["after-fix", "before-fix", "recovery", "drift"]


FIX_KEYS = {
    "recipe",
    "home",
    "dry_run",
    "changed",
    "snapshot_before",
    "snapshot_after",
    "drift_snapshot",
    "changes",
    "next_steps",
    "notes",
    "undo",
}


def labelled_id(output: str, label: str) -> str:
    """The short snapshot id printed after ``label`` on its own line."""
    match = re.search(rf"^{re.escape(label)}\s*([0-9a-f]{{10}})$", output, re.MULTILINE)
    assert match, output
    return match.group(1)


def test_fix_dry_run_reports_both_files_and_writes_nothing(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    original = file_states(codex_home, include_excluded=True)
    code, out, err = run(cli, "fix", "--dry-run")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert any(line.startswith(f"{GLOBAL}  (modified, json)") for line in lines), out
    assert any(line.startswith(f"{BAK}  (modified, json)") for line in lines), out
    assert any(line.startswith(f"  - {ENROLL}:") for line in lines), out
    assert "Dry run: nothing was written." in out
    assert file_states(codex_home, include_excluded=True) == original
    assert not store_root.exists()


def test_fix_dry_run_json_has_no_snapshots_and_no_undo(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    result = ok_json(cli, "fix", "--dry-run")
    assert set(result) == FIX_KEYS
    assert result["dry_run"] is True and result["changed"] is False
    assert result["snapshot_before"] is None and result["snapshot_after"] is None
    assert result["drift_snapshot"] is None
    assert result["undo"] is None and result["next_steps"] == []
    assert [f["path"] for f in result["changes"]] == [GLOBAL, BAK]
    assert not store_root.exists()


@pytest.mark.parametrize("extra", [(), ("--json",)])
def test_fix_without_yes_and_without_terminal_refuses(
    cli: CliRunner, codex_home: Path, store_root: Path, extra: tuple[str, ...]
) -> None:
    original = file_states(codex_home, include_excluded=True)
    err = fails(cli, 9, "fix", *extra)
    lines = err.splitlines()
    assert len(lines) == 2, err
    assert lines[0].startswith("Error: ") and lines[1].startswith("Hint: ")
    assert "--yes" in lines[1]
    assert file_states(codex_home, include_excluded=True) == original
    assert not store_root.exists()


def test_fix_asks_on_stderr_when_on_a_terminal(
    cli: CliRunner, codex_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("codexsnap.cli.console.is_interactive", lambda: True)
    original = file_states(codex_home)
    code, out, err = run(cli, "fix", input="n\n")
    assert code == 9
    assert "Apply these changes?" in err and "Apply these changes?" not in out
    assert file_states(codex_home) == original
    code, out, err = run(cli, "fix", input="y\n")
    assert code == 0, err
    assert "Apply these changes?" in err
    assert ENROLL not in json.loads((codex_home / GLOBAL).read_bytes())


def test_fix_json_never_prompts_even_on_a_terminal(
    cli: CliRunner, codex_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("codexsnap.cli.console.is_interactive", lambda: True)
    code, out, _ = run(cli, "fix", "--json", input="y\n")
    assert code == 9 and out == ""


def test_fix_yes_prints_snapshots_next_steps_and_an_undo_that_works(
    cli: CliRunner, codex_home: Path
) -> None:
    original = file_states(codex_home)
    code, out, err = run(cli, "fix", "--yes")
    assert code == 0 and err == ""
    assert out.startswith(f"Changed (remote-control, {codex_home}):")
    before = labelled_id(out, "Snapshot before:")
    after = labelled_id(out, "Snapshot after:")
    assert before != after
    assert "\nNext steps:\n  1. " in out
    args = undo_args(out, "To undo: ")
    assert args[1] == before
    snapshots = history_json(cli)
    assert [s["operation"] for s in snapshots] == ["after-fix", "before-fix"]
    assert snapshots[1]["id"].startswith(before) and snapshots[0]["id"].startswith(after)
    assert file_states(codex_home) != original
    ok(cli, *args, "--yes")
    assert file_states(codex_home) == original


def test_printed_undo_works_without_the_environment(
    cli: CliRunner, codex_home: Path, store_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Copied into another shell, the undo command must still find this home and store."""
    original = file_states(codex_home)
    args = undo_args(ok(cli, "fix", "--yes"), "To undo: ")
    # Only the files the fix wrote, then where they live.
    assert args[2:6] == ["--path", GLOBAL, "--path", BAK]
    assert ["--codex-home", str(codex_home)] == args[6:8]
    assert ["--store", str(store_root)] == args[8:10]
    monkeypatch.delenv("CODEX_HOME")
    monkeypatch.delenv("CODEXSNAP_STORE")
    ok(cli, *args, "--yes")
    assert file_states(codex_home) == original


def test_fix_json_shape_and_its_ids_work_with_rollback(cli: CliRunner, codex_home: Path) -> None:
    original = file_states(codex_home)
    result = fixed(cli)
    fixed_state = file_states(codex_home)
    assert set(result) == FIX_KEYS
    assert result["recipe"] == "remote-control"
    assert result["home"] == str(codex_home)
    assert result["dry_run"] is False
    assert result["drift_snapshot"] is None
    assert HEX40.match(result["snapshot_before"]) and HEX40.match(result["snapshot_after"])
    assert result["next_steps"] and all(isinstance(s, str) for s in result["next_steps"])
    assert result["undo"].startswith(f"codexsnap rollback {result['snapshot_before'][:10]}")
    files = result["changes"]
    assert [f["path"] for f in files] == [GLOBAL, BAK]
    for file in files:
        assert set(file) == FILE_KEYS
        assert (file["status"], file["format"], file["notes"]) == ("modified", "json", [])
        assert len(file["changes"]) == 1
        change = file["changes"][0]
        assert set(change) == {"kind", "path", "old"}
        assert change["kind"] == "removed" and change["path"] == [ENROLL]
        assert isinstance(change["old"], dict) and len(change["old"]) == 1
    # Both ids are accepted: the home matches "after", and "before" undoes the fix.
    assert "Nothing to do" in ok(cli, "rollback", result["snapshot_after"])
    ok(cli, "rollback", result["snapshot_before"], "--yes")
    assert file_states(codex_home) == original
    ok(cli, "rollback", result["snapshot_after"], "--yes")
    assert file_states(codex_home) == fixed_state


def test_fix_with_nothing_to_fix_says_so(cli: CliRunner, codex_home: Path) -> None:
    fixed(cli)
    count = len(history_json(cli))
    out = ok(cli, "fix", "--yes")
    assert out.startswith("Nothing to fix: remote-control found nothing to change")
    again = ok_json(cli, "fix", "--yes")
    assert again["changed"] is False and again["changes"] == [] and again["undo"] is None
    assert len(history_json(cli)) == count


def test_change_objects_carry_old_for_removed_new_for_added_both_for_changed(
    cli: CliRunner, codex_home: Path
) -> None:
    ok(cli, "snapshot")
    state = json.loads((codex_home / GLOBAL).read_bytes())
    state["sidebar-width"] = 320
    del state["thread-view-mode"]
    state["new-key"] = "hello"
    (codex_home / GLOBAL).write_text(json.dumps(state))
    ok(cli, "snapshot")
    latest = history_json(cli, "-n", "1")[0]
    shown = ok_json(cli, "show", latest["id"])
    (file,) = [f for f in shown["changes"] if f["path"] == GLOBAL]
    assert set(file) == FILE_KEYS
    by_path = {tuple(c["path"]): c for c in file["changes"]}
    assert by_path[("sidebar-width",)] == {
        "kind": "changed",
        "path": ["sidebar-width"],
        "old": 280,
        "new": 320,
    }
    assert by_path[("thread-view-mode",)] == {
        "kind": "removed",
        "path": ["thread-view-mode"],
        "old": "list",
    }
    assert by_path[("new-key",)] == {"kind": "added", "path": ["new-key"], "new": "hello"}


def test_a_fix_walks_the_home_once_whatever_it_snapshots(
    codex_home: Path, store_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Drift, "before" and "after" snapshots (and the list of files left out of scope) from
    one walk of the home: the "after" one reads only the files the fix wrote (issue 15)."""
    import os

    real_scandir = os.scandir
    walks: list[str] = []

    def counting(path: Any = ".") -> Any:
        if isinstance(path, str | os.PathLike) and Path(path) == codex_home:
            walks.append(str(path))  # every walk of the home starts at its top
        return real_scandir(path)

    from codexsnap.commands.snapshot import snapshot

    snapshot(codex_home, store_root, "")  # a snapshot to drift from
    (codex_home / "AGENTS.md").write_text("# changed outside codexsnap\n")  # a drift
    monkeypatch.setattr(os, "scandir", counting)
    run_fix(codex_home, store_root, dry_run=True)
    planning = len(walks)
    walks.clear()
    result = run_fix(codex_home, store_root)
    assert result.drift is not None and result.snapshot_after is not None
    assert len(walks) - planning == 1, f"{len(walks) - planning} walks of the home"


@pytest.mark.parametrize("bak", ["mirror", "older"])
def test_a_fix_parses_each_large_global_state_once(
    builder: CodexHomeBuilder, store_root: Path, monkeypatch: pytest.MonkeyPatch, bak: str
) -> None:
    """The edit, its checks, the advice and the report share one decode and scan of each
    distinct text of a state above 1 MiB; they made eight of two texts (issue 15)."""
    import codexsnap.json_edit

    builder.state = global_state(drafts=8_000)
    home = builder.build().resolve()
    state = json.loads((home / GLOBAL).read_bytes())
    assert len((home / GLOBAL).read_bytes()) > 2**20  # the report compares members, not trees
    if bak == "older":
        (home / BAK).write_bytes(json.dumps({**state, "older-key": 1}).encode())
    parses: dict[str, int] = {}

    def count(text: object) -> None:
        if isinstance(text, str | bytes) and len(text) > 2**19:
            key = text if isinstance(text, str) else text.decode()
            parses[key] = parses.get(key, 0) + 1

    real_loads, real_scan = json.loads, codexsnap.json_edit._scan_members

    def loads(text: Any, *args: Any, **kwargs: Any) -> Any:
        count(text)
        return real_loads(text, *args, **kwargs)

    def scan(text: str) -> Any:
        count(text)
        return real_scan(text)

    with monkeypatch.context() as patch:
        patch.setattr(json, "loads", loads)
        patch.setattr(codexsnap.json_edit, "_scan_members", scan)
        result = run_fix(home, store_root)
    assert result.snapshot_after is not None
    assert [d.path for d in result.report.files] == [GLOBAL, BAK]
    after = (home / GLOBAL).read_bytes()
    assert json.loads(after) == {k: v for k, v in state.items() if k != ENROLL}
    assert (home / BAK).read_bytes() == after
    assert len(parses) == (3 if bak == "older" else 2)  # the texts before, and the fixed one
    assert max(parses.values()) == 1, sorted(parses.values())
