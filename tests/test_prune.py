"""codexsnap prune: marks, pins, the last pair, --restore and --gc."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.helpers import ok, run


def make_history(cli: CliRunner, home: Path, count: int) -> list[str]:
    """``count`` snapshots, each with a file only it holds; ids newest first."""
    for i in range(count):
        (home / "prompts" / "note.md").write_text(f"unique content number {i} " * 20)
        ok(cli, "snapshot")
    return [s["id"] for s in json.loads(ok(cli, "history", "--json"))]


def blob_exists(store_root: Path, text: str) -> bool:
    from codexsnap.transaction.plan import blob_id
    from tests.helpers import git_in_store

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
