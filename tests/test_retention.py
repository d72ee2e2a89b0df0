"""Retention of automatic snapshots: the timeline, and what it never lets go."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from codexsnap.codex_files import GLOBAL_STATE
from codexsnap.commands.marks import pin
from codexsnap.commands.retention import Retention, apply_retention, expired, load_retention
from codexsnap.commands.snapshot import AUTOMATIC, snapshot, take
from codexsnap.errors import ConfigError
from codexsnap.store import Snapshot, SnapshotStore

NOW = datetime(2026, 6, 17, 12, 0, tzinfo=UTC)  # a Wednesday


def made(at: datetime, operation: str = AUTOMATIC, name: str = "") -> Snapshot:
    return Snapshot(name or at.isoformat(), at, "s", "", {"Operation": operation})


def test_the_timeline_keeps_all_of_a_day_then_one_a_day_then_one_a_week() -> None:
    def ago(**kw: float) -> datetime:
        return NOW - timedelta(**kw)

    history = [
        made(ago(minutes=1), name="latest"),
        made(ago(hours=3), name="today"),
        made(ago(hours=23), name="yesterday-late"),
        made(ago(days=3), name="day-newest"),
        made(ago(days=3, minutes=5), name="day-older"),
        made(ago(days=3, minutes=9), operation="before-fix", name="fix-snapshot"),
        made(ago(days=42), name="week-newest"),  # Wednesday and Tuesday of one ISO week
        made(ago(days=43), name="week-older"),
        made(ago(days=400), name="ancient"),
        made(ago(days=401), operation="snapshot", name="by-hand"),
        made(ago(days=402), name="ancient-pinned"),
    ]
    gone = expired(history, Retention(), {"ancient-pinned"}, NOW)
    assert [s.id for s in gone] == ["day-older", "week-older", "ancient"]


def test_a_policy_from_the_stores_retention_file(store_root: Path) -> None:
    store_root.mkdir()
    assert load_retention(store_root) == Retention()
    (store_root / "retention.toml").write_text('keep_all = "6h"\nweekly = "8w"\n')
    assert load_retention(store_root) == Retention(
        keep_all=timedelta(hours=6), weekly=timedelta(weeks=8)
    )
    for bad in ("daily = 30\n", 'monthly = "6w"\n', "keep_all = \n"):
        (store_root / "retention.toml").write_text(bad)
        with pytest.raises(ConfigError):
            load_retention(store_root)


def _automatic(home: Path, store_root: Path) -> Snapshot:
    with SnapshotStore.open(store_root, create=True) as store, store.locked():
        done = take(store, home, None, operation=AUTOMATIC)
        assert done.created
        return done.snapshot


def _state(home: Path, projects: list[str]) -> None:
    data = json.loads((home / GLOBAL_STATE).read_bytes())
    data["local-projects"] = projects
    (home / GLOBAL_STATE).write_text(json.dumps(data))


def test_retention_never_prunes_the_newest_good_state_pins_or_other_snapshots(
    codex_home: Path, store_root: Path
) -> None:
    good_old = _automatic(codex_home, store_root)
    (codex_home / "AGENTS.md").write_text("# by hand\n")
    by_hand = snapshot(codex_home, store_root, "").snapshot
    (codex_home / "rules" / "default.rules").write_text("# newer\n")
    good_new = _automatic(codex_home, store_root)
    _state(codex_home, [])  # the app emptied the registry; the watcher snapshots that too
    emptied_pinned = _automatic(codex_home, store_root)
    pin(codex_home, store_root, emptied_pinned.id, "")
    (codex_home / "prompts" / "review.md").write_text("more\n")
    emptied = _automatic(codex_home, store_root)
    (codex_home / "prompts" / "review.md").write_text("even more\n")
    latest = _automatic(codex_home, store_root)

    with SnapshotStore.open(store_root, create=False) as store, store.locked():
        later = datetime.now(UTC) + timedelta(days=800)  # all older than every tier
        gone = apply_retention(store, codex_home, Retention(), now=later)
        assert {s.id for s in gone} == {good_old.id, emptied.id}
        assert apply_retention(store, codex_home, Retention(), now=later) == []
        visible = {s.id for s in store.history(codex_home)}
    from codexsnap.commands.history import history

    shown = {s.id for s in history(codex_home, store_root, None, False)}
    kept = {by_hand.id, good_new.id, emptied_pinned.id, latest.id}
    assert shown == kept and visible >= kept


def test_the_search_for_a_good_state_looks_past_a_run_of_emptied_automatic_snapshots(
    codex_home: Path, store_root: Path
) -> None:
    """The defect: emptied automatic snapshots filled the search window (200) and
    restore-global-state and project-registry found no good state behind them."""
    from codexsnap.commands import snapshot_search

    good = snapshot(codex_home, store_root, "").snapshot
    for count in range(5):  # the app keeps rewriting the emptied file; the watcher follows
        _state(codex_home, [])
        data = json.loads((codex_home / GLOBAL_STATE).read_bytes())
        (codex_home / GLOBAL_STATE).write_text(json.dumps({**data, "rev": count}))
        _automatic(codex_home, store_root)
    searched = snapshot_search.stored_files(codex_home, store_root, GLOBAL_STATE, limit=3)
    assert good.id in [found.id for found, _ in searched]  # a window of 3, 5 automatic ones
    found = snapshot_search.newest_with_projects(codex_home, store_root)
    assert found is not None and found.snapshot_id == good.id
