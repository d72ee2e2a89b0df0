"""undo: reverses the files the last operation wrote, and only those."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tests.helpers import file_states, ok, run

GLOBAL = ".codex-global-state.json"
BAK = ".codex-global-state.json.bak"


def test_undo_keeps_what_was_edited_after_the_fix(cli: CliRunner, codex_home: Path) -> None:
    before = file_states(codex_home)
    assert run(cli, "fix", "--yes")[0] == 0
    assert file_states(codex_home)[GLOBAL] != before[GLOBAL]
    # Written after the fix, by the user or by Codex: undo must not take these back.
    (codex_home / "config.toml").write_text('model = "edited-after-the-fix"\n')
    (codex_home / "AGENTS.md").unlink()
    (codex_home / "prompts" / "later.md").write_text("a prompt written later\n")

    code, out, err = run(cli, "undo", "--yes")
    assert code == 0, out + err
    after = file_states(codex_home)
    assert after[GLOBAL] == before[GLOBAL] and after[BAK] == before[BAK]
    assert (codex_home / "config.toml").read_text() == 'model = "edited-after-the-fix"\n'
    assert not (codex_home / "AGENTS.md").exists()
    assert (codex_home / "prompts" / "later.md").read_text() == "a prompt written later\n"


def test_undo_reverts_the_last_fix_and_undo_of_undo_redoes_it(
    cli: CliRunner, codex_home: Path
) -> None:
    original = file_states(codex_home)
    ok(cli, "fix", "--yes")
    fixed = file_states(codex_home)
    out = ok(cli, "undo", "--yes")
    assert "Restored" in out and "codexsnap undo" in out
    assert file_states(codex_home) == original
    ok(cli, "undo", "--yes")
    assert file_states(codex_home) == fixed


def test_undo_without_an_operation_says_so(cli: CliRunner, codex_home: Path) -> None:
    ok(cli, "snapshot")
    code, _, err = run(cli, "undo", "--yes")
    assert code == 7 and "no fix or rollback to undo" in err
