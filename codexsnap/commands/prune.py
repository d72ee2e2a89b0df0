"""codexsnap prune: forget old snapshots by a policy; --gc deletes them from disk for good."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from codexsnap.commands import open_existing_store
from codexsnap.errors import UsageError
from codexsnap.store import Snapshot, SnapshotStore
from codexsnap.store.tables import ALIASES, NOTES, PINS, PRUNED, load_marks, save_marks

_DURATION = re.compile(r"^(\d+)([hdw])$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


@dataclass(frozen=True)
class PruneResult:
    """What a prune marked (or would mark), and what --gc removed for good."""

    marked: tuple[Snapshot, ...]
    kept: int
    collected: int
    restored: int
    dry_run: bool


def parse_duration(text: str) -> timedelta:
    """``12h``, ``30d`` or ``4w``."""
    found = _DURATION.match(text.strip())
    if not found:
        raise UsageError(
            f"--keep-within {text!r} is not a duration", hint="Use hours, days or weeks: 30d."
        )
    try:
        duration = int(found[1]) * _UNITS[found[2]]
    except OverflowError:
        duration = timedelta.max
    # The cut-off (now minus the duration) must still be a date.
    if duration >= datetime.now(UTC) - datetime.min.replace(tzinfo=UTC):
        raise UsageError(
            f"--keep-within {text!r} reaches back before the year 1",
            hint="Use a shorter duration: 520w is ten years.",
        ) from None
    return duration


def _protected(history: list[Snapshot]) -> set[str]:
    """The latest snapshot and the newest before/after pair: the undo of the last change."""
    keep = {history[0].id} if history else set()
    for snapshot in history:
        if snapshot.operation.startswith("after-"):
            keep |= {snapshot.id, snapshot.trailers.get("Before", "")}
            break
    return keep


def prune(
    home: Path,
    store_root: Path,
    *,
    keep_last: int | None,
    keep_within: str | None,
    dry_run: bool,
    gc: bool,
    restore: bool = False,
) -> PruneResult:
    """Mark every snapshot no rule keeps; pinned ones and the last change's pair always stay."""
    if keep_last is None and keep_within is None and not gc and not restore:
        raise UsageError(
            "prune needs a policy: nothing says what to keep",
            hint="For example: codexsnap prune --keep-last 50 --keep-within 30d",
        )
    with open_existing_store(store_root) as store, store.locked():
        history = store.history(home)
        ids = {s.id for s in history}
        pruned = load_marks(store_root, PRUNED)
        if restore:
            back = [i for i in pruned if i in ids]
            if not dry_run:
                save_marks(store_root, PRUNED, {k: v for k, v in pruned.items() if k not in ids})
            return PruneResult((), len(history), 0, len(back), dry_run)
        keep = _protected(history) | set(load_marks(store_root, PINS))
        if keep_last is not None:
            keep |= {s.id for s in history[:keep_last]}
        if keep_within is not None:
            since = datetime.now(UTC) - parse_duration(keep_within)
            keep |= {s.id for s in history if s.created_at >= since}
        # A before and its after go together: half a pair would look like a run that died.
        for snapshot in history:
            partner = snapshot.trailers.get("Before")
            if partner and (snapshot.id in keep or partner in keep):
                keep |= {snapshot.id, partner}
        policy = keep_last is not None or keep_within is not None
        marked = tuple(s for s in history if policy and s.id not in keep and s.id not in pruned)
        if dry_run:
            return PruneResult(marked, len(history) - len(marked), 0, 0, True)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        pruned.update({s.id: now for s in marked})
        save_marks(store_root, PRUNED, pruned)
        collected = _collect(store, home, store_root, pruned, ids) if gc else 0
        return PruneResult(marked, len(history) - len(marked), collected, 0, False)


def _collect(
    store: SnapshotStore, home: Path, store_root: Path, pruned: dict[str, str], ids: set[str]
) -> int:
    """Rewrite the chain without the pruned snapshots, carry marks over, delete the objects."""
    dropped = {i for i in pruned if i in ids}
    if not dropped:
        return 0
    renamed = store.rewrite_without(home, dropped)
    aliases = load_marks(store_root, ALIASES)
    aliases = {old: renamed.get(new, new) for old, new in aliases.items() if new not in dropped}
    aliases.update(renamed)
    save_marks(store_root, ALIASES, aliases)
    for table in (PINS, NOTES):
        marks = load_marks(store_root, table)
        save_marks(
            store_root,
            table,
            {renamed.get(k, k): v for k, v in marks.items() if k not in dropped},
        )
    quarantined = store.quarantined()
    for snapshot_id, reason in quarantined.items():
        if snapshot_id in dropped or snapshot_id in renamed:
            store.drop_quarantine_ref(snapshot_id)
        if snapshot_id in renamed:
            store.quarantine(renamed[snapshot_id], reason)
    store.forget_quarantined(dropped | renamed.keys())
    save_marks(store_root, PRUNED, {k: v for k, v in pruned.items() if k not in dropped})
    store.collect_garbage()
    return len(dropped)
