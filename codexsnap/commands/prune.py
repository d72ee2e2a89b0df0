"""codexsnap prune: forget old snapshots by a policy; --gc deletes them from disk for good."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from codexsnap.commands import open_existing_store
from codexsnap.errors import UsageError
from codexsnap.faults import fault_point
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


def _protected(history: list[Snapshot], aliases: dict[str, str]) -> set[str]:
    """The latest snapshot and the newest before/after pair: the undo of the last change."""
    keep = {history[0].id} if history else set()
    for snapshot in history:
        if snapshot.operation.startswith("after-"):
            before = snapshot.trailers.get("Before", "")
            # A trailer written before a rewrite names the old id (stores gc'd before 0.x).
            keep |= {snapshot.id, aliases.get(before, before)}
            break
    return keep


def _with_pairs(history: list[Snapshot], keep: set[str], aliases: dict[str, str]) -> set[str]:
    """A before and its after go together: half a pair would look like a run that died."""
    keep = set(keep)
    for snapshot in history:
        partner = snapshot.trailers.get("Before")
        partner = aliases.get(partner, partner) if partner else partner
        if partner and (snapshot.id in keep or partner in keep):
            keep |= {snapshot.id, partner}
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
        aliases = load_marks(store_root, ALIASES)
        keep = _protected(history, aliases) | set(load_marks(store_root, PINS))
        if keep_last is not None:
            keep |= {s.id for s in history[:keep_last]}
        if keep_within is not None:
            since = datetime.now(UTC) - parse_duration(keep_within)
            keep |= {s.id for s in history if s.created_at >= since}
        keep = _with_pairs(history, keep, aliases)
        policy = keep_last is not None or keep_within is not None
        marked = tuple(s for s in history if policy and s.id not in keep and s.id not in pruned)
        if dry_run:
            return PruneResult(marked, len(history) - len(marked), 0, 0, True)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        pruned.update({s.id: now for s in marked})
        save_marks(store_root, PRUNED, pruned)
        collected = _collect(store, home, store_root, history, pruned) if gc else 0
        return PruneResult(marked, len(history) - len(marked), collected, 0, False)


def _collect(
    store: SnapshotStore,
    home: Path,
    store_root: Path,
    history: list[Snapshot],
    pruned: dict[str, str],
) -> int:
    """Rewrite the chain without the pruned snapshots, carry marks over, delete the objects.

    The order makes every step safe to kill: the new commits are only objects; the tables
    then name both the old and the new ids; one ref transaction switches the home to the new
    chain; only then are the old ids forgotten. A run killed anywhere leaves either the old
    chain or the new one with every pin, note and alias in place, and the next run (which
    finds the same new ids, the rewrite being deterministic) finishes the job.
    """
    ids = {s.id for s in history}
    aliases = load_marks(store_root, ALIASES)
    _settle(store, store_root, ids, aliases)
    # Marked earlier, pinned (or made the last change's pair) since: it stays, and so does
    # its pin.
    keep = _with_pairs(
        history, _protected(history, aliases) | set(load_marks(store_root, PINS)), aliases
    )
    dropped = {i for i in pruned if i in ids and i not in keep}
    pruned = {k: v for k, v in pruned.items() if k not in keep}
    save_marks(store_root, PRUNED, pruned)
    if not dropped:
        store.collect_garbage()
        return 0
    head, new_head, renamed = store.rewrite_without(home, dropped)
    fault_point("gc-rewritten")
    aliases = {old: renamed.get(new, new) for old, new in aliases.items() if new not in dropped}
    aliases.update(renamed)
    save_marks(store_root, ALIASES, aliases)
    fault_point("gc-aliases-saved")
    for table in (PINS, NOTES):
        marks = load_marks(store_root, table)
        marks.update({renamed[k]: v for k, v in marks.items() if k in renamed})
        save_marks(store_root, table, marks)
        fault_point(f"gc-{table.split('.')[0]}-saved")
    for snapshot_id, reason in store.quarantined().items():
        if snapshot_id in renamed:
            store.quarantine(renamed[snapshot_id], reason)
    fault_point("gc-quarantine-saved")
    store.move_rewritten(home, head, new_head, dropped, renamed)
    fault_point("gc-refs-moved")
    save_marks(store_root, PRUNED, {k: v for k, v in pruned.items() if k not in dropped})
    fault_point("gc-pruned-saved")
    # A quarantine ref would keep a dropped snapshot's objects from the collection.
    for snapshot_id in dropped & store.quarantined().keys():
        store.drop_quarantine_ref(snapshot_id)
    store.forget_quarantined(dropped)
    _settle(store, store_root, ids - dropped - renamed.keys() | set(renamed.values()), aliases)
    fault_point("gc-settled")
    store.collect_garbage()
    return len(dropped)


def _settle(store: SnapshotStore, store_root: Path, ids: set[str], aliases: dict[str, str]) -> None:
    """Forget the old ids a finished rewrite left in the tables (kept until its refs moved).

    Only an id that is gone from this home's chain and whose alias is in it is touched: the
    tables are shared by every home of the store.
    """

    def gone(snapshot_id: str) -> bool:
        return snapshot_id not in ids and aliases.get(snapshot_id) in ids

    for table in (PINS, NOTES):
        marks = load_marks(store_root, table)
        settled = {aliases[k] if gone(k) else k: v for k, v in marks.items() if not gone(k)}
        settled |= {aliases[k]: v for k, v in marks.items() if gone(k) and aliases[k] not in marks}
        if settled != marks:
            save_marks(store_root, table, settled)
    old = {k for k in store.quarantined() if gone(k)}
    for snapshot_id in old:
        store.drop_quarantine_ref(snapshot_id)
    if old:
        store.forget_quarantined(old)
    pruned = load_marks(store_root, PRUNED)
    left = {aliases[k] if gone(k) else k: v for k, v in pruned.items()}
    if left != pruned:
        save_marks(store_root, PRUNED, left)
