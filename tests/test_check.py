"""codexsnap check: a clean store passes, damage is found and quarantined, never deleted."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.helpers import git_in_store, run


def snapshot_ids(cli: CliRunner) -> list[str]:
    return [s["id"] for s in json.loads(run(cli, "history", "--json")[1])]


def test_clean_store_passes(cli: CliRunner, codex_home: Path) -> None:
    assert run(cli, "fix", "--yes")[0] == 0
    code, out, _ = run(cli, "check")
    assert code == 0 and "ok (2 snapshots" in out
    data = json.loads(run(cli, "check", "--json")[1])
    assert set(data) == {
        "damaged",
        "snapshots_checked",
        "databases_checked",
        "findings",
        "quarantined",
        "damaged_files",
    }
    assert data["damaged"] is False and data["databases_checked"] >= 1


def test_damaged_blob_is_found_and_the_snapshot_quarantined(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    run(cli, "snapshot", "-m", "one")
    (codex_home / "AGENTS.md").write_text("only in the second snapshot\n")
    run(cli, "snapshot", "-m", "two")
    newest, oldest = snapshot_ids(cli)
    blob = git_in_store(store_root, "rev-parse", f"{newest}:files/AGENTS.md").stdout.strip()
    loose = store_root / "repo.git" / "objects" / blob[:2] / blob[2:]
    loose.chmod(0o600)
    loose.write_bytes(b"not a zlib stream")
    code, out, err = run(cli, "check")
    assert code == 1, out + err
    assert "damage" in out and f"quarantined {newest[:10]}" in out
    # Kept, not deleted: the ref is there and history still lists it.
    assert (
        git_in_store(store_root, "rev-parse", f"refs/codexsnap/quarantine/{newest}").returncode == 0
    )
    assert newest in snapshot_ids(cli)
    # Only the damaged file is refused, and only where it would have to be written.
    (codex_home / "AGENTS.md").write_text("changed since\n")
    code, _, err = run(cli, "rollback", newest, "--yes")
    assert code == 8 and "AGENTS.md" in err and "damaged" in err and "Traceback" not in err
    assert (codex_home / "AGENTS.md").read_text() == "changed since\n"
    assert run(cli, "rollback", oldest, "--dry-run")[0] == 0
    # A second check reports the damage again but quarantines nothing new.
    data = json.loads(run(cli, "check", "--json")[1])
    assert data["damaged"] is True and data["quarantined"] == []


def test_a_before_without_after_is_a_warning_not_damage(cli: CliRunner, codex_home: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "CODEXSNAP_TEST_FAULT": "kill:after-journal"}
    killed = subprocess.run(
        [sys.executable, "-m", "codexsnap", "fix", "--yes"],
        env=env,
        capture_output=True,
        check=False,
    )
    assert killed.returncode != 0
    code, out, _ = run(cli, "check")
    assert code == 0 and "warning" in out and "no matching after-snapshot" in out
    # The next command recovers, which closes the pair.
    code, out, _ = run(cli, "recover")
    assert code == 0 and "Recovered an interrupted fix remote-control" in out
    code, out, _ = run(cli, "check")
    assert code == 0 and "no matching after-snapshot" not in out, out


def test_check_without_a_store_says_so(cli: CliRunner, codex_home: Path) -> None:
    code, _, err = run(cli, "check")
    assert code == 7 and "no snapshots yet" in err


def test_a_cached_database_keeps_its_stored_size(cli: CliRunner, codex_home: Path) -> None:
    """A database is stored as its consistent copy: the stat cache must not swap in the
    raw file's size (a WAL database's main file is smaller than its copy)."""
    import os

    old = 1_700_000_000
    for path in codex_home.rglob("*"):
        os.utime(path, (old, old), follow_symlinks=False)  # out of the racy window: cached
    assert run(cli, "snapshot")[0] == 0
    (codex_home / "AGENTS.md").write_text("changed\n")
    assert run(cli, "snapshot")[0] == 0  # state_5.sqlite comes from the cache this time
    code, out, _ = run(cli, "check")
    assert code == 0, out
