"""The command line: flags, output, --json shapes, exit codes and secrets, run in-process."""

from __future__ import annotations

import json
import re
import shlex
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import typer.core
import typer.main
from typer.testing import CliRunner

from codexsnap import __version__
from codexsnap.cli import app
from codexsnap.file_lock import store_lock
from codexsnap.processes import CodexProcess
from codexsnap.recipes import all_recipes
from tests.conftest import file_states, run
from tests.homebuilder import (
    ACCESS_TOKEN,
    MCP_TOKEN,
    PUBLIC_KEY,
    REVOKED_CLIENT_ID,
    CodexHomeBuilder,
    global_state,
)

GLOBAL = ".codex-global-state.json"
BAK = ".codex-global-state.json.bak"
ENROLL = "electron-remote-control-client-enrollments"
HEX40 = re.compile(r"^[0-9a-f]{40}$")

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
    "undo",
}
ROLLBACK_KEYS = {
    "target",
    "dry_run",
    "changed",
    "snapshot_before",
    "snapshot_after",
    "drift_snapshot",
    "changes",
    "undo",
}
SNAPSHOT_KEYS = {
    "id",
    "short_id",
    "created_at",
    "operation",
    "summary",
    "message",
    "files_changed",
    "sqlite_home",
    "sqlite_files_changed",
    "recipe",
    "parent",
    "pinned",
    "note",
    "pruned",
    "damaged",
    "quarantined",
}
FILE_KEYS = {"path", "status", "format", "changes", "notes"}
OUTSIDE_KEYS = {"group", "added", "removed", "changed", "size_before", "size_after"}
REPORT_KEYS = {"changes", "outside", "auth"}

# Whole values and their distinctive middles: a mask keeps only a 4-character prefix.
SECRETS = (
    REVOKED_CLIENT_ID,
    REVOKED_CLIENT_ID[4:],
    ACCESS_TOKEN,
    "ACCESS-TOKEN-SECRET",
    MCP_TOKEN,
    "SECRETgithubTOKEN",
    PUBLIC_KEY,
    PUBLIC_KEY[4:],
    "user_AbC1dEf2GhI3jKl4",
    "dEf2GhI3jKl4",
)


# ----- helpers ------------------------------------------------------------------------


def ok(cli: CliRunner, *args: str, input: str | None = None) -> str:
    """Run a command that must succeed and return its stdout."""
    code, out, err = run(cli, *args, input=input)
    assert code == 0, f"exit {code}\nstdout:\n{out}\nstderr:\n{err}"
    return out


def ok_json(cli: CliRunner, *args: str) -> Any:
    """Run a command with --json: stdout must be JSON and nothing else, stderr empty."""
    code, out, err = run(cli, *args, "--json")
    assert code == 0, f"exit {code}\nstdout:\n{out}\nstderr:\n{err}"
    assert err == ""
    assert out.endswith("\n")
    return json.loads(out)


def fails(cli: CliRunner, exit_code: int, *args: str) -> str:
    """Run a command that must fail cleanly: its code, one "Error:" line, no traceback."""
    result = cli.invoke(app, list(args))
    out, err = result.stdout, result.stderr
    assert result.exit_code == exit_code, f"exit {result.exit_code}\n{out}\n{err}"
    # Anything but SystemExit here is an exception that escaped the CLI's one handler.
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in out + err
    assert out == ""
    error_lines = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1, err
    return err


def undo_args(output: str, label: str) -> list[str]:
    """The arguments of the printed undo command (after ``label``), without "codexsnap"."""
    lines = [line for line in output.splitlines() if line.startswith(label)]
    assert len(lines) == 1, output
    words = shlex.split(lines[0].removeprefix(label))
    assert words[:2] == ["codexsnap", "rollback"], lines[0]
    return words[1:]


def labelled_id(output: str, label: str) -> str:
    """The short snapshot id printed after ``label`` on its own line."""
    match = re.search(rf"^{re.escape(label)}\s*([0-9a-f]{{10}})$", output, re.MULTILINE)
    assert match, output
    return match.group(1)


def history_json(cli: CliRunner, *args: str) -> list[dict[str, Any]]:
    """``history --json`` as a list of snapshot objects."""
    snapshots = ok_json(cli, "history", *args)
    assert isinstance(snapshots, list)
    return snapshots


def fixed(cli: CliRunner, *extra: str) -> dict[str, Any]:
    """Run ``fix --yes --json`` (and ``extra`` flags) and return its output."""
    result = ok_json(cli, "fix", "--yes", *extra)
    assert isinstance(result, dict) and result["changed"] is True
    return result


def no_secrets(text: str) -> None:
    """Fail when any of homebuilder's secrets appears in ``text``."""
    leaked = [secret for secret in SECRETS if secret in text]
    assert not leaked, f"leaked {leaked}"


# ----- fix ----------------------------------------------------------------------------


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


# ----- history ------------------------------------------------------------------------


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


# ----- rollback -----------------------------------------------------------------------


def test_rollback_dry_run_yes_undo_and_nothing_to_do(cli: CliRunner, codex_home: Path) -> None:
    original = file_states(codex_home)
    before = fixed(cli)["snapshot_before"]
    fixed_state = file_states(codex_home)
    count = len(history_json(cli))

    out = ok(cli, "rollback", before[:8], "--dry-run")
    assert out.startswith(f"Would restore {before[:10]} (before fix remote-control):")
    assert f"  + {ENROLL}:" in out and "Dry run: nothing was written." in out
    assert file_states(codex_home) == fixed_state
    assert len(history_json(cli)) == count

    fails(cli, 9, "rollback", before)
    assert file_states(codex_home) == fixed_state

    out = ok(cli, "rollback", before, "--yes")
    assert out.startswith(f"Restored {before[:10]} (before fix remote-control):")
    assert file_states(codex_home) == original

    out = ok(cli, *undo_args(out, "To undo this rollback: "), "--yes")
    assert out.startswith("Restored ")
    assert file_states(codex_home) == fixed_state

    assert ok(cli, "rollback", before, "--yes").startswith("Restored ")
    out = ok(cli, "rollback", before, "--yes")
    assert out == f"Nothing to do: the home already matches {before[:10]}.\n"
    assert file_states(codex_home) == original


def test_rollback_json(cli: CliRunner, codex_home: Path) -> None:
    original = file_states(codex_home)
    before = fixed(cli)["snapshot_before"]

    planned = ok_json(cli, "rollback", before, "--dry-run")
    assert set(planned) == ROLLBACK_KEYS
    assert planned["target"] == before
    assert (planned["dry_run"], planned["changed"], planned["undo"]) == (True, False, None)
    assert [f["path"] for f in planned["changes"]] == [GLOBAL, BAK]

    done = ok_json(cli, "rollback", before, "--yes")
    assert set(done) == ROLLBACK_KEYS
    assert (done["dry_run"], done["changed"]) == (False, True)
    assert HEX40.match(done["snapshot_before"]) and HEX40.match(done["snapshot_after"])
    assert done["undo"].startswith(f"codexsnap rollback {done['snapshot_before'][:10]}")
    for file in done["changes"]:
        assert set(file) == FILE_KEYS
        assert [set(c) for c in file["changes"]] == [{"kind", "path", "new"}]
    assert file_states(codex_home) == original

    again = ok_json(cli, "rollback", before, "--yes")
    assert again["changed"] is False and again["changes"] == [] and again["undo"] is None


def test_rollback_puts_back_edits_made_outside_codexsnap(cli: CliRunner, codex_home: Path) -> None:
    before = fixed(cli)["snapshot_before"]
    (codex_home / "AGENTS.md").write_text("edited by hand\n")
    result = ok_json(cli, "rollback", before, "--yes")
    assert result["drift_snapshot"] is not None
    assert "edited by hand" not in (codex_home / "AGENTS.md").read_text()
    # The hand edit is kept in the drift snapshot and comes back with it.
    ok(cli, "rollback", result["drift_snapshot"], "--yes")
    assert (codex_home / "AGENTS.md").read_text() == "edited by hand\n"


# ----- show and snapshot --------------------------------------------------------------


def test_show_text_and_json(cli: CliRunner, codex_home: Path) -> None:
    after = fixed(cli)["snapshot_after"]
    out = ok(cli, "show", after[:8])
    lines = out.splitlines()
    assert lines[0].startswith(f"{after[:10]}  ") and "after fix remote-control" in lines[0]
    assert f"{GLOBAL}  (modified, json)" in lines
    assert f"  - {ENROLL}: {{1 entry}}" in lines

    shown = ok_json(cli, "show", after)
    assert set(shown) == SNAPSHOT_KEYS | {"files_total"} | REPORT_KEYS
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
    shown = ok_json(cli, "show", first)
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


# ----- diff ---------------------------------------------------------------------------


def test_diff_exits_0_when_the_home_matches_and_1_when_it_differs(
    cli: CliRunner, codex_home: Path
) -> None:
    result = fixed(cli)
    after = result["snapshot_after"]
    out = ok(cli, "diff")
    assert out.startswith(f"{after[:10]} -> the live home:\n")
    assert "No difference in the snapshot scope." in out
    same = ok_json(cli, "diff")
    assert set(same) == {"old", "new", "different"} | REPORT_KEYS
    assert (same["old"], same["new"], same["different"], same["changes"]) == (
        after,
        None,
        False,
        [],
    )

    original = file_states(codex_home)
    (codex_home / "AGENTS.md").write_text("edited\n")
    edited = file_states(codex_home)
    code, out, err = run(cli, "diff", "--stat")
    assert (code, err) == (1, "")
    assert "M  AGENTS.md  (text)" in out.splitlines()
    code, out, err = run(cli, "diff", "--json")
    assert (code, err) == (1, "")
    different = json.loads(out)
    assert different["different"] is True
    assert [f["path"] for f in different["changes"]] == ["AGENTS.md"]
    assert set(different["changes"][0]) == FILE_KEYS
    assert file_states(codex_home) == edited  # diff writes nothing
    assert edited != original

    code, out, _ = run(cli, "diff", result["snapshot_before"], after, "--stat")
    assert code == 1
    assert out.splitlines()[1:] == [f"M  {GLOBAL}  (1 change)", f"M  {BAK}  (1 change)"]


def test_diff_without_snapshots(cli: CliRunner, codex_home: Path) -> None:
    fails(cli, 7, "diff")
    fails(cli, 7, "diff", "--json")


# ----- version, help, usage -----------------------------------------------------------


def _commands() -> dict[str, list[str]]:
    """Every registered command and all its option strings, long and short."""
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup) and group.commands
    return {
        name: [
            opt
            for param in command.params
            if isinstance(param, typer.core.TyperOption)
            for opt in param.opts
        ]
        for name, command in group.commands.items()
    }


def test_version(cli: CliRunner) -> None:
    code, out, err = run(cli, "--version")
    assert (code, out, err) == (0, f"codexsnap {__version__}\n", "")


def test_top_level_help_lists_every_command(cli: CliRunner) -> None:
    out = ok(cli, "--help")
    assert "--version" in out
    for name in _commands():
        assert name in out


@pytest.mark.parametrize("name", sorted(_commands()))
def test_command_help_mentions_every_option(cli: CliRunner, name: str) -> None:
    out = ok(cli, name, "--help")
    assert f"codexsnap {name}" in out
    options = _commands()[name]
    assert options
    for opt in options:
        assert opt in out, f"{opt} missing from 'codexsnap {name} --help'"


def test_unknown_recipe_is_a_usage_error_listing_the_known_ones(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    err = fails(cli, 2, "fix", "no-such-recipe", "--yes")
    assert "no-such-recipe" in err and "Known recipes:" in err
    for name in all_recipes():
        assert name in err
    assert not store_root.exists()


@pytest.mark.parametrize("command", sorted(_commands()))
def test_unknown_option_is_a_usage_error(cli: CliRunner, command: str) -> None:
    err = fails(cli, 2, command, "--no-such-option")
    assert "No such option: --no-such-option" in err


# ----- expected failures --------------------------------------------------------------


def test_missing_home_from_option(cli: CliRunner, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    err = fails(cli, 3, "fix", "--codex-home", str(missing))
    assert str(missing) in err and "--codex-home" in err


def test_missing_home_from_environment(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "from-env"
    monkeypatch.setenv("CODEX_HOME", str(missing))
    err = fails(cli, 3, "history")
    assert str(missing) in err and "CODEX_HOME" in err


def test_missing_default_home_names_the_path_it_looked_at(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CODEX_HOME")
    err = fails(cli, 3, "snapshot")
    assert str(tmp_path / "user-home" / ".codex") in err


def test_home_that_is_a_file(cli: CliRunner, tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    err = fails(cli, 3, "fix", "--dry-run", "--codex-home", str(not_a_folder))
    assert "not a folder" in err


@pytest.mark.parametrize("flags", [("--yes",), ("--dry-run",), ("--json", "--yes")])
def test_bad_json_state_file(
    cli: CliRunner, codex_home: Path, store_root: Path, flags: tuple[str, ...]
) -> None:
    (codex_home / GLOBAL).write_bytes(b'{"a": 1, "electron-remote')
    original = file_states(codex_home)
    err = fails(cli, 4, "fix", *flags)
    assert GLOBAL in err and "not valid JSON" in err
    assert file_states(codex_home) == original
    assert not store_root.exists()


@pytest.mark.parametrize(
    "args",
    [
        ("show", "deadbeef"),
        ("show", "not-hex"),
        ("show", "12"),
        ("rollback", "deadbeef", "--yes"),
        ("rollback", "deadbeef", "--json", "--yes"),
    ],
)
def test_unknown_snapshot_id(cli: CliRunner, codex_home: Path, args: tuple[str, ...]) -> None:
    ok(cli, "snapshot")
    original = file_states(codex_home)
    err = fails(cli, 7, *args)
    assert args[1] in err and "codexsnap history" in err
    assert file_states(codex_home) == original


@pytest.mark.parametrize("command", ["show", "rollback"])
def test_id_on_an_empty_store(cli: CliRunner, codex_home: Path, command: str) -> None:
    err = fails(cli, 7, command, "deadbeef")
    assert "no snapshots yet" in err


def test_id_of_another_home_is_unknown(cli: CliRunner, codex_home: Path, tmp_path: Path) -> None:
    other = CodexHomeBuilder(tmp_path / "other-home")
    other.with_sqlite = False
    other.build()
    mine = ok_json(cli, "snapshot")["id"]
    fails(cli, 7, "show", mine, "--codex-home", str(tmp_path / "other-home"))


STORE_COMMANDS = [
    ("snapshot",),
    ("fix", "--yes"),
    ("history",),
    ("show", "deadbeef"),
    ("rollback", "deadbeef"),
    ("diff",),
]


@pytest.mark.parametrize("args", STORE_COMMANDS, ids=lambda args: args[0])
def test_store_path_that_is_a_file(
    cli: CliRunner, codex_home: Path, store_root: Path, args: tuple[str, ...]
) -> None:
    store_root.write_text("not a store")
    original = file_states(codex_home)
    err = fails(cli, 8, *args)
    assert str(store_root) in err and "is a file" in err
    assert file_states(codex_home) == original
    assert store_root.read_text() == "not a store"


def test_store_inside_the_home(cli: CliRunner, codex_home: Path) -> None:
    err = fails(cli, 8, "snapshot", "--store", str(codex_home / "snapshots"))
    assert "inside the Codex home" in err
    assert not (codex_home / "snapshots").exists()


@pytest.mark.parametrize("args", STORE_COMMANDS, ids=lambda args: args[0])
def test_folder_that_is_not_a_store(
    cli: CliRunner, codex_home: Path, store_root: Path, args: tuple[str, ...]
) -> None:
    store_root.mkdir()
    (store_root / "precious.txt").write_text("mine")
    err = fails(cli, 8, *args)
    assert "not a codexsnap store" in err
    assert sorted(p.name for p in store_root.iterdir()) == ["precious.txt"]


def test_held_lock_refuses(cli: CliRunner, codex_home: Path, store_root: Path) -> None:
    ok(cli, "snapshot")
    original = file_states(codex_home)
    with store_lock(store_root / "codexsnap.lock"):
        err = fails(cli, 6, "fix", "--yes")
    assert "another codexsnap operation" in err
    assert file_states(codex_home) == original


def test_running_codex_refuses_unless_forced(
    cli: CliRunner, codex_home: Path, store_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    running = [CodexProcess(pid=4242, name="Codex", kind="desktop app")]
    monkeypatch.setattr("codexsnap.transaction.guards.find_codex_processes", lambda: running)
    original = file_states(codex_home)
    err = fails(cli, 5, "fix", "--yes")
    assert "Codex (pid 4242, desktop app)" in err and "--force" in err
    assert file_states(codex_home) == original
    assert not store_root.exists()
    assert fixed(cli, "--force")["changed"] is True


def test_internal_error_is_one_line_with_its_own_exit_code(
    cli: CliRunner, codex_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("codexsnap.commands.history.history", broken)
    err = fails(cli, 70, "history")
    assert "internal error: RuntimeError: boom" in err and "CODEXSNAP_DEBUG" in err


def test_interrupt_exits_130(
    cli: CliRunner, codex_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("codexsnap.commands.snapshot.snapshot", interrupted)
    code, out, err = run(cli, "snapshot")
    assert code == 130 and out == ""
    assert "Interrupted" in err and "Traceback" not in err


# ----- secrets ------------------------------------------------------------------------


def test_default_output_never_shows_secrets(cli: CliRunner, codex_home: Path) -> None:
    outputs: list[str] = []

    def capture(*args: str) -> str:
        code, out, err = run(cli, *args)
        assert code == 0, err
        outputs.extend((out, err))
        return out

    capture("fix", "--dry-run")
    capture("fix", "--dry-run", "--json")
    result = json.loads(capture("fix", "--yes", "--json"))
    before, after = result["snapshot_before"], result["snapshot_after"]
    # A changed token in config.toml: the rollback report shows it on both sides.
    config = codex_home / "config.toml"
    config.write_text(config.read_text().replace(MCP_TOKEN, "ghp_" + "N" * 36))
    capture("rollback", before, "--dry-run")
    capture("rollback", before, "--dry-run", "--json")
    capture("rollback", before, "--yes")
    capture("show", before)
    capture("show", before, "--json")
    capture("show", after)
    capture("show", after, "--json")
    capture("history")
    capture("history", "--json")
    for args in [(before,), (before, "--json"), (before, after), (before, after, "--json")]:
        code, out, err = run(cli, "diff", *args)
        assert code in (0, 1), err  # 1: they differ
        outputs.extend((out, err))
    joined = "\n".join(outputs)
    assert "GITHUB_PERSONAL_ACCESS_TOKEN" in joined  # the token's row was reported...
    no_secrets(joined)  # ...masked


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


# ----- where the home and the store are -----------------------------------------------


def test_codex_home_option_beats_the_environment(
    cli: CliRunner, codex_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = global_state()
    del state[ENROLL]
    other = CodexHomeBuilder(tmp_path / "env-home", state=state)
    other.with_sqlite = False
    other_home = other.build().resolve()
    monkeypatch.setenv("CODEX_HOME", str(other_home))

    from_env = ok_json(cli, "fix", "--dry-run")
    assert from_env["home"] == str(other_home) and from_env["changes"] == []
    from_option = ok_json(cli, "fix", "--dry-run", "--codex-home", str(codex_home))
    assert from_option["home"] == str(codex_home) and from_option["changes"]

    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "missing"))
    assert ok_json(cli, "fix", "--dry-run", "--codex-home", str(codex_home))["changes"]


def test_store_option_beats_the_environment(
    cli: CliRunner, codex_home: Path, store_root: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "other-store"
    ok(cli, "snapshot", "--store", str(elsewhere))
    assert (elsewhere / "repo.git").is_dir() and not store_root.exists()
    assert history_json(cli) == []
    assert len(history_json(cli, "--store", str(elsewhere))) == 1
    ok(cli, "snapshot", "-m", "env")
    assert store_root.is_dir()
    assert len(history_json(cli)) == 1
