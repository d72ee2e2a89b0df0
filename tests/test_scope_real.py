"""Scope on the files of a real late-2026 home: Codex's recovery copies, writer locks, the
desktop app's ``sqlite/`` folder and other tools' backups."""

from __future__ import annotations

from pathlib import Path

import pytest

from codexsnap.errors import ConfigError
from codexsnap.scope import Scope, load_scope, walk_scope

TS = "1764633600"


@pytest.mark.parametrize(
    ("relpath", "category"),
    [
        # The desktop app's databases are state like the CLI's top-level ones.
        ("sqlite/state_5.sqlite", None),
        ("sqlite/goals_1.sqlite", None),
        ("sqlite/memories_1.sqlite", None),
        ("sqlite/codex-dev.db", None),
        ("sqlite/codex-history-snapshots-dev.db", None),
        ("state_5.sqlite", None),
        ("sqlite/logs_2.sqlite", "bulky"),
        ("logs_2.sqlite", "bulky"),
        ("sqlite/state_5.sqlite-wal", "runtime"),
        ("sqlite/state_5.sqlite-shm", "runtime"),
        # Codex's automatic recovery (codex-rs/state/src/runtime/recovery.rs) and repair.
        (f"state_5.sqlite.codex-recovery-{TS}.0.bak", "bulky"),
        (f"state_5.sqlite-wal.codex-recovery-{TS}.0.bak", "bulky"),
        (f"sqlite/state_5.sqlite.codex-recovery-{TS}.1.bak", "bulky"),
        (f"logs_2.sqlite.codex-recovery-{TS}.0.bak", "bulky"),
        (f"state_5.sqlite.codex-repair-{TS}.0.bak", "bulky"),
        (f"sqlite/goals_1.sqlite-shm.codex-repair-{TS}.0.bak", "bulky"),
        ("state_5.sqlite.codex-recovery.lock", "runtime"),
        (f"state_5.sqlite.codex-recovery-{TS}.0.recovered", "runtime"),
        (
            f"state_5.sqlite.codex-recovery-{TS}.0.recovered.codex-recovery-normalized.0.sqlite",
            "runtime",
        ),
        ("thread-writer-locks/019a1b2c-3d4e-7f60-8a9b-0c1d2e3f4a5b.lock", "runtime"),
        ("thread-writer-locks", "runtime"),
        ("backups_state/2026-11-20/state_5.sqlite", "bulky"),
        ("app-server-control/app-server-startup.lock", "runtime"),
        ("app-server-daemon/app-server.pid.lock", "runtime"),
        ("app-server-daemon/settings.json", None),
    ],
)
def test_each_real_file_has_its_class(relpath: str, category: str | None) -> None:
    rule = Scope().excluded_by(relpath)
    assert (rule.category if rule else None) == category, relpath


def test_a_snapshot_walk_keeps_the_databases_and_leaves_the_copies(tmp_path: Path) -> None:
    home = tmp_path / "home"
    kept = ["sqlite/state_5.sqlite", "sqlite/codex-dev.db", "state_5.sqlite", "config.toml"]
    left = [
        f"sqlite/state_5.sqlite.codex-recovery-{TS}.0.bak",
        f"state_5.sqlite.codex-repair-{TS}.0.bak",
        "sqlite/state_5.sqlite.codex-recovery.lock",
        "sqlite/logs_2.sqlite",
        "thread-writer-locks/019a1b2c-3d4e-7f60-8a9b-0c1d2e3f4a5b.lock",
        "backups_state/snap-1/state_5.sqlite",
    ]
    for relpath in kept + left:
        (home / relpath).parent.mkdir(parents=True, exist_ok=True)
        (home / relpath).write_bytes(b"x")
    assert sorted(e.relpath for e in walk_scope(home, Scope())) == sorted(kept)


def test_recovery_copies_can_be_taken_back_but_writer_locks_cannot(tmp_path: Path) -> None:
    (tmp_path / "scope.toml").write_text('include = ["*.codex-recovery-*.bak", "backups_state/"]\n')
    scope = load_scope(tmp_path)
    assert scope.includes(f"sqlite/state_5.sqlite.codex-recovery-{TS}.0.bak")
    assert scope.includes("backups_state/x")
    (tmp_path / "scope.toml").write_text('include = ["thread-writer-locks/"]\n')
    with pytest.raises(ConfigError, match="cannot be included"):
        load_scope(tmp_path)
