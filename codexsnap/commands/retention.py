"""Retention for automatic snapshots: what ``codexsnap watch`` prunes after each snapshot.

The model is snapper's timeline: every automatic snapshot of the last day, then the newest
of each day for a month, then the newest of each week for a year. It only ever marks
automatic snapshots (as ``prune`` does: hidden, still readable, ``prune --restore`` brings
them back); snapshots made by hand or by fix, rollback and undo, pinned ones, the latest
one and the newest one whose global state still lists projects are never marked. Losing
that last one to a timeline would defeat the point: the app empties the global state
(openai/codex #38757, #42739) and the watcher then snapshots the emptied file every day.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from codexsnap.codex_files import GLOBAL_STATE, has_projects
from codexsnap.errors import CodexsnapError, ConfigError
from codexsnap.state_file import parse_state
from codexsnap.store import Snapshot, SnapshotStore
from codexsnap.store.tables import PINS, PRUNED, load_marks, save_marks

RETENTION_FILE = "retention.toml"
_DURATION = re.compile(r"^(\d{1,6})([hdw])$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
_KEYS = ("keep_all", "daily", "weekly")


@dataclass(frozen=True)
class Retention:
    """How long each tier of automatic snapshots is kept (counted back from now)."""

    keep_all: timedelta = timedelta(hours=24)  # every automatic snapshot this recent
    daily: timedelta = timedelta(days=30)  # then the newest of each day
    weekly: timedelta = timedelta(weeks=52)  # then the newest of each week; older: pruned


def load_retention(store_root: Path) -> Retention:
    """The store's ``retention.toml`` (keys ``keep_all``, ``daily``, ``weekly``: "24h",
    "30d", "52w"), else the default policy."""
    path = store_root / RETENTION_FILE
    if not path.exists():
        return Retention()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}", hint="Fix or delete that file.") from None
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise ConfigError(
            f"{path}: unknown setting {unknown[0]!r}", hint=f"Use {', '.join(_KEYS)}."
        )
    values = {}
    for key in _KEYS:
        if key in data:
            found = _DURATION.match(str(data[key]).strip())
            if not found or not isinstance(data[key], str):
                raise ConfigError(
                    f"{path}: {key} = {data[key]!r} is not a duration",
                    hint='Use hours, days or weeks, as a string: keep_all = "24h".',
                )
            values[key] = int(found[1]) * _UNITS[found[2]]
    return Retention(**values)


def expired(
    history: list[Snapshot], policy: Retention, keep: set[str], now: datetime
) -> list[Snapshot]:
    """The automatic snapshots of ``history`` (newest first) the policy lets go.

    ``keep``: ids never let go whatever their age (pins, the newest good global state).
    """
    kept_buckets: set[tuple[str, object]] = set()
    gone = []
    for at, snapshot in enumerate(history):
        if at == 0 or not snapshot.automatic or snapshot.pruned or snapshot.damaged:
            continue
        age = now - snapshot.created_at
        if age <= policy.keep_all:
            continue
        local = snapshot.created_at.astimezone()
        if age <= policy.daily:
            bucket: tuple[str, object] = ("day", local.date())
        elif age <= policy.weekly:
            bucket = ("week", local.isocalendar()[:2])
        else:
            bucket = ("gone", None)
        if bucket[0] != "gone" and bucket not in kept_buckets:
            kept_buckets.add(bucket)  # history is newest first: the newest of its day stays
            continue
        if snapshot.id not in keep:
            gone.append(snapshot)
    return gone


def newest_good_state(store: SnapshotStore, history: list[Snapshot]) -> str | None:
    """The newest snapshot whose global state parses and lists projects (None: none does)."""
    verdicts: dict[str, bool] = {}
    for snapshot in history:
        if snapshot.damaged:
            continue
        try:
            record = store.records(snapshot).get(GLOBAL_STATE)
        except CodexsnapError:
            continue  # a damaged snapshot is nobody's last good state
        if record is None:
            continue
        if record.blob not in verdicts:
            try:
                _, parsed = parse_state(GLOBAL_STATE, store.read_blob(record.blob))
                verdicts[record.blob] = has_projects(parsed)
            except CodexsnapError:
                verdicts[record.blob] = False
        if verdicts[record.blob]:
            return snapshot.id
    return None


def apply_retention(
    store: SnapshotStore, home: Path, policy: Retention, now: datetime | None = None
) -> list[Snapshot]:
    """Mark what the policy lets go as pruned (store locked); returns the marked snapshots."""
    pruned = load_marks(store.root, PRUNED)
    history = [s._replace(pruned=s.id in pruned) for s in store.history(home, include_damaged=True)]
    keep = set(load_marks(store.root, PINS))
    candidates = expired(history, policy, keep, now or datetime.now(UTC))
    if not candidates:
        return []
    good = newest_good_state(store, [s for s in history if s.id not in pruned])
    gone = [s for s in candidates if s.id != good]
    if gone:
        stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds")
        save_marks(store.root, PRUNED, {**pruned, **{s.id: stamp for s in gone}})
    return gone
