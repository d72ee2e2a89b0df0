"""Prompts and output that say what they do (issue 16): the confirmation, --force past a
running Codex, refused combinations, advice, masking, --to-dir modes, ids, the lock."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codexsnap.errors import AmbiguousSnapshotIdError
from codexsnap.file_lock import store_lock
from codexsnap.redact import mask, redact_key, redact_text, redact_value
from codexsnap.store import SnapshotStore
from codexsnap.store.history import resolve
from tests.helpers import GLOBAL, fails, fixed, ok, ok_json, run
from tests.homebuilder import CodexHomeBuilder, enrollments
from tests.test_safety import running

ACCOUNT = "user_AbC1dEf2GhI3jKl4"


def test_the_prompt_says_what_where_that_a_snapshot_comes_first_and_how_to_undo(
    cli: CliRunner, codex_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("codexsnap.cli.console.is_interactive", lambda: True)
    code, _, err = run(cli, "fix", "--clean", input="n\n")
    assert code == 9
    assert f"About to apply 'fix remote-control --clean' to the Codex home {codex_home}:" in err
    assert "A snapshot of the home is taken first; to undo afterwards: codexsnap undo" in err
    assert err.index("About to apply") < err.index("Apply these changes?")
    before = fixed(cli)["snapshot_before"]
    code, _, err = run(cli, "rollback", before, input="n\n")
    assert f"About to apply 'rollback to {before[:10]}' to the Codex home" in err
    code, _, err = run(cli, "undo", input="n\n")
    assert "About to apply 'undo of fix remote-control'" in err


def test_json_on_a_terminal_says_why_it_will_not_prompt(
    cli: CliRunner, codex_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("codexsnap.cli.console.is_interactive", lambda: True)
    err = fails(cli, 9, "fix", "--json")
    assert "not asking for confirmation with --json" in err and "--yes" in err


def test_force_past_a_running_codex_warns_and_does_not_say_start_codex_again(
    cli: CliRunner, codex_home: Path, tmp_path: Path
) -> None:
    exe = tmp_path / "Codex"
    shutil.copy("/bin/sleep", exe)
    with running([str(exe), "30"]) as proc:
        code, out, err = run(cli, "fix", "--yes", "--force")
        assert code == 0, out + err
    assert f"Warning: Codex is running (Codex (pid {proc.pid}))" in err
    assert "may write its old state back when it quits" in err
    assert "Start Codex again" not in out and "Codex is still running: quit it" in out
    assert "Start Codex again" in ok(cli, "fix", "app-server-stale", "--yes")  # not running


@pytest.mark.parametrize("other", ["--only-revoked", "--clean"])
def test_reset_with_only_revoked_or_clean_is_refused(
    cli: CliRunner, codex_home: Path, other: str
) -> None:
    before = (codex_home / GLOBAL).read_bytes()
    err = fails(cli, 2, "fix", "--reset", other, "--yes")
    assert f"--reset removes both global-state files, so {other} would do nothing" in err
    assert (codex_home / GLOBAL).read_bytes() == before


def test_two_enrollments_the_default_fix_says_only_revoked_would_keep_the_live_one(
    cli: CliRunner, tmp_path: Path
) -> None:
    builder = CodexHomeBuilder(tmp_path / "codex-home")
    state = builder.state
    live = next(iter(enrollments().values()))
    state["electron-remote-control-client-enrollments"]["Codex Desktop\nlive"] = {
        **live,
        "clientId": "cli_live0000000000001",
    }
    builder.build()
    try:
        out = ok(cli, "fix", "--dry-run")
        assert "removes all 2 remote-control enrollments" in out and "--only-revoked" in out
        assert fixed(cli)["notes"]
    finally:
        builder.close()


def test_one_enrollment_gives_no_such_advice(cli: CliRunner, codex_home: Path) -> None:
    assert "--only-revoked" not in ok(cli, "fix", "--dry-run")


def test_masking_is_one_rule_for_keys_values_text_and_rows() -> None:
    as_value = redact_value({"accountUserId": ACCOUNT})["accountUserId"]
    assert as_value == mask(ACCOUNT)
    assert redact_key(f"Codex Desktop\n{ACCOUNT}") == f"Codex Desktop\n{mask(ACCOUNT)}"
    assert redact_text(f"enrollment of {ACCOUNT}") == f"enrollment of {mask(ACCOUNT)}"
    assert "AbC1" not in redact_text(ACCOUNT)


def test_an_enrollment_key_is_masked_like_the_same_id_as_a_value(
    cli: CliRunner, codex_home: Path
) -> None:
    out = ok(cli, "fix", "--dry-run")
    assert mask(ACCOUNT) in out and "user_AbC1" not in out


def test_sqlite_row_keys_are_masked_by_their_column(cli: CliRunner, codex_home: Path) -> None:
    import sqlite3

    db = codex_home / "sqlite" / "codex-dev.db"
    first = ok_json(cli, "snapshot")["id"]
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("CREATE TABLE accounts (account_id TEXT PRIMARY KEY, note TEXT)")
        conn.execute("INSERT INTO accounts VALUES ('plainvalue42abcdef', 'x')")
    conn.close()
    code, out, _ = run(cli, "diff", first)
    assert code == 1 and "plainvalue42abcdef" not in out, out
    assert f'accounts › "{mask("plainvalue42abcdef")}"' in out
    assert "plainvalue42abcdef" in run(cli, "diff", first, "--show-secrets")[1]


def test_to_dir_keeps_modes_and_never_opens_files_to_others(
    cli: CliRunner, codex_home: Path, tmp_path: Path
) -> None:
    (codex_home / "config.toml").chmod(0o644)
    (codex_home / "rules" / "default.rules").chmod(0o640)
    script = codex_home / "rules" / "hook.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    first = ok_json(cli, "snapshot")["id"]
    out = tmp_path / "review"
    ok(cli, "rollback", first, "--to-dir", str(out))
    modes = {p.relative_to(out).as_posix(): stat.S_IMODE(p.lstat().st_mode) for p in out.rglob("*")}
    assert modes["config.toml"] == 0o600
    assert modes["rules/default.rules"] == 0o600
    assert modes["rules/hook.sh"] == 0o700  # the owner's bits are the snapshot's
    assert all(mode & 0o077 == 0 for mode in modes.values()), modes


def test_an_ambiguous_id_lists_the_candidates(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    real = ok_json(cli, "snapshot", "-m", "the real one")["id"]
    twin = real[:4] + ("0" if real[4] != "0" else "1") * 36
    with (
        SnapshotStore.open(store_root, create=False) as store,
        pytest.raises(AmbiguousSnapshotIdError) as raised,
    ):
        resolve(store.git, codex_home, [real, twin], {}, real[:4], {}, {})
    message = raised.value.message
    assert f"matches 2 snapshots: {real[:10]} (" in message and "snapshot)" in message
    assert f"{twin[:10]} (unreadable)" in message


def test_a_mistyped_recipe_or_command_gets_did_you_mean(cli: CliRunner, codex_home: Path) -> None:
    err = fails(cli, 2, "fix", "remote-contrl", "--dry-run")
    assert "Did you mean 'remote-control'?" in err
    code, _, err = run(cli, "histroy")
    assert code == 2 and "Did you mean 'history'?" in err


def test_the_lock_message_names_the_pid_holding_it(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    ok(cli, "snapshot")
    with store_lock(store_root / "codexsnap.lock"):
        (codex_home / "AGENTS.md").write_text("changed\n")
        err = fails(cli, 6, "snapshot")
    assert f"pid {os.getpid()}" in err
    assert not (store_root / "codexsnap.lock.pid").exists()


def test_fix_json_lists_no_note_for_one_enrollment(cli: CliRunner, codex_home: Path) -> None:
    result = json.loads(run(cli, "fix", "--dry-run", "--json")[1])
    assert result["notes"] == []
