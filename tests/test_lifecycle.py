"""History lifecycle: undo, partial rollback (--path, --key), --to-dir."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.conftest import file_states, run

GLOBAL = ".codex-global-state.json"
BAK = ".codex-global-state.json.bak"


def ok(cli: CliRunner, *args: str) -> str:
    code, out, err = run(cli, *args)
    assert code == 0, out + err
    return out


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


def test_rollback_of_one_path_leaves_the_others(cli: CliRunner, codex_home: Path) -> None:
    ok(cli, "snapshot")
    first = json.loads(ok(cli, "history", "--json"))[0]["id"]
    (codex_home / "AGENTS.md").write_text("changed\n")
    (codex_home / "config.toml").write_text('model = "other"\n')
    (codex_home / "prompts" / "new.md").write_text("new prompt\n")
    ok(cli, "rollback", first, "--path", "AGENTS.md", "--path", "prompts", "--yes")
    assert (codex_home / "AGENTS.md").read_text().startswith("# Agent rules")
    assert not (codex_home / "prompts" / "new.md").exists()
    assert (codex_home / "config.toml").read_text() == 'model = "other"\n'


def test_rollback_of_one_key_keeps_what_codex_wrote_since(cli: CliRunner, codex_home: Path) -> None:
    ok(cli, "snapshot")
    first = json.loads(ok(cli, "history", "--json"))[0]["id"]
    state = json.loads((codex_home / GLOBAL).read_bytes())
    projects = state["local-projects"]
    state["local-projects"] = {}  # an emptied registry, as the app writes it
    state["settings"]["theme"] = "dark"  # written by Codex since: must stay
    state["brand-new-key"] = 1
    raw = json.dumps(state, separators=(",", ":")).encode()
    (codex_home / GLOBAL).write_bytes(raw)
    (codex_home / BAK).write_bytes(raw)
    ok(cli, "rollback", first, "--key", "local-projects", "--path", GLOBAL, "--yes")
    after = json.loads((codex_home / GLOBAL).read_bytes())
    assert after["local-projects"] == projects
    assert after["settings"]["theme"] == "dark" and after["brand-new-key"] == 1
    assert (codex_home / BAK).read_bytes() == (codex_home / GLOBAL).read_bytes()
    ok(cli, "rollback", first, "--key", "settings/theme", "--path", GLOBAL, "--yes")
    assert json.loads((codex_home / GLOBAL).read_bytes())["settings"]["theme"] == "system"
    ok(cli, "rollback", first, "--key", "brand-new-key", "--path", GLOBAL, "--yes")
    assert "brand-new-key" not in json.loads((codex_home / GLOBAL).read_bytes())


def test_key_needs_exactly_one_path(cli: CliRunner, codex_home: Path) -> None:
    ok(cli, "snapshot")
    first = json.loads(ok(cli, "history", "--json"))[0]["id"]
    code, _, err = run(cli, "rollback", first, "--key", "local-projects", "--yes")
    assert code == 2 and "--path" in err


def test_to_dir_writes_the_snapshot_elsewhere_and_touches_nothing(
    cli: CliRunner, codex_home: Path, tmp_path: Path
) -> None:
    ok(cli, "fix", "--yes")
    before_id = json.loads(ok(cli, "history", "--json"))[1]["id"]
    home_before = file_states(codex_home)
    review = tmp_path / "review"
    out = ok(cli, "rollback", before_id, "--to-dir", str(review))
    assert "Wrote" in out
    assert file_states(codex_home) == home_before
    exported = json.loads((review / GLOBAL).read_bytes())
    assert "electron-remote-control-client-enrollments" in exported
    assert (review / "config.toml").read_bytes() == (codex_home / "config.toml").read_bytes()
    code, _, err = run(cli, "rollback", before_id, "--to-dir", str(review))
    assert code == 2 and "not an empty folder" in err
    code, _, err = run(cli, "rollback", before_id, "--to-dir", str(codex_home / "x"))
    assert code == 2 and "inside the Codex home" in err


def make_history(cli: CliRunner, home: Path, count: int) -> list[str]:
    """``count`` snapshots, each with a file only it holds; ids newest first."""
    for i in range(count):
        (home / "prompts" / "note.md").write_text(f"unique content number {i} " * 20)
        ok(cli, "snapshot")
    return [s["id"] for s in json.loads(ok(cli, "history", "--json"))]


def blob_exists(store_root: Path, text: str) -> bool:
    from codexsnap.transaction.plan import blob_id
    from tests.conftest import git_in_store

    return git_in_store(store_root, "cat-file", "-e", blob_id(text.encode())).returncode == 0


def test_prune_refuses_an_empty_policy(cli: CliRunner, codex_home: Path) -> None:
    ok(cli, "snapshot")
    code, _, err = run(cli, "prune")
    assert code == 2 and "policy" in err


def test_prune_keeps_pins_and_the_last_pair_and_gc_deletes_data(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    ids = make_history(cli, codex_home, 5)  # newest first
    ok(cli, "pin", ids[3], "-m", "known good")
    ok(cli, "note", ids[2], "before the experiment")
    dry = json.loads(ok(cli, "prune", "--keep-last", "2", "--dry-run", "--json"))
    assert [s["id"] for s in dry["pruned"]] == [ids[2], ids[4]]
    assert [s["id"] for s in json.loads(ok(cli, "history", "--json"))] == ids  # dry: no change
    ok(cli, "prune", "--keep-last", "2")
    listed = json.loads(ok(cli, "history", "--json"))
    assert [s["id"] for s in listed] == [ids[0], ids[1], ids[3]]
    assert listed[2]["pinned"] is True
    assert len(json.loads(ok(cli, "history", "--all", "--json"))) == 5
    # Recoverable until --gc: the data is there and rollback accepts the id.
    assert blob_exists(store_root, "unique content number 0 " * 20)
    assert run(cli, "rollback", ids[4], "--dry-run")[0] == 0
    ok(cli, "prune", "--gc")
    assert not blob_exists(store_root, "unique content number 0 " * 20)
    assert blob_exists(store_root, "unique content number 4 " * 20)
    after = json.loads(ok(cli, "history", "--all", "--json"))
    assert len(after) == 3 and after[2]["pinned"] is True
    # Old ids of rewritten snapshots still answer.
    assert run(cli, "rollback", ids[0], "--dry-run")[0] == 0
    code, _, _ = run(cli, "rollback", ids[4], "--dry-run")
    assert code == 7
    assert ok(cli, "check").strip().endswith("databases checked).")


def test_prune_restore_brings_pruned_snapshots_back(cli: CliRunner, codex_home: Path) -> None:
    ids = make_history(cli, codex_home, 3)
    ok(cli, "prune", "--keep-last", "1")
    assert len(json.loads(ok(cli, "history", "--json"))) == 1
    out = ok(cli, "prune", "--restore")
    assert "Brought back 2 pruned snapshots" in out
    assert [s["id"] for s in json.loads(ok(cli, "history", "--json"))] == ids


def test_the_last_fix_pair_is_never_pruned(cli: CliRunner, codex_home: Path) -> None:
    ok(cli, "fix", "--yes")
    make_history(cli, codex_home, 2)
    pair = [s["id"] for s in json.loads(ok(cli, "history", "--json"))[2:4]]
    ok(cli, "prune", "--keep-last", "1")
    left = [s["id"] for s in json.loads(ok(cli, "history", "--json"))]
    assert set(pair) <= set(left)


def test_demo_walks_through_and_touches_nothing_of_the_user(cli: CliRunner, tmp_path: Path) -> None:
    user_home = Path.home()
    before = sorted(p.as_posix() for p in user_home.rglob("*"))
    code, out, err = run(cli, "demo")
    assert code == 0, out + err
    for step in (
        "codexsnap doctor",
        "codexsnap fix --yes",
        "codexsnap history",
        "codexsnap undo --yes",
        "remote-control-revoked",
        "Snapshot before:",
        "Restored",
        "Your own Codex home was not touched",
    ):
        assert step in out, step
    assert sorted(p.as_posix() for p in user_home.rglob("*")) == before
    assert not (tmp_path / "store").exists() and not (tmp_path / "codex-home").exists()


def test_posix_names_with_a_backslash_or_colon_round_trip(cli: CliRunner, codex_home: Path) -> None:
    """On POSIX these are plain characters of a name (a skill's notes, say), not escapes."""
    odd = [codex_home / "prompts" / "a\\b.md", codex_home / "prompts" / "c:d.md"]
    for path in odd:
        path.write_text("kept\n")
    ok(cli, "snapshot")
    first = json.loads(ok(cli, "history", "--json"))[0]["id"]
    for path in odd:
        path.unlink()
    ok(cli, "rollback", first, "--yes")
    assert all(path.read_text() == "kept\n" for path in odd)
