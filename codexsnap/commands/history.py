"""codexsnap history: the snapshots of this Codex home, newest first, told as operations."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from codexsnap.store.history import Snapshot
from codexsnap.store.index import home_id
from codexsnap.store.reading import StoreReading
from codexsnap.store.tables import NOTES, PINS, PRUNED, Quarantine, load_marks


def quarantine_marks(entry: Quarantine | None) -> dict[str, Any]:
    """The Snapshot fields that show a quarantine entry (history, show)."""
    if entry is None:
        return {"quarantined": "", "damaged_files": ()}
    return {"quarantined": entry.reason, "damaged_files": tuple(sorted(entry.files))}


class Marks(NamedTuple):
    """The tables kept beside the repository, read once."""

    pins: dict[str, str]
    notes: dict[str, str]
    pruned: dict[str, str]
    quarantined: dict[str, Quarantine]

    @classmethod
    def load(cls, store: StoreReading) -> Marks:
        root = store.root
        return cls(
            load_marks(root, PINS),
            load_marks(root, NOTES),
            load_marks(root, PRUNED),
            store.quarantined(),
        )

    def apply(self, snapshot: Snapshot) -> Snapshot:
        """The snapshot with its pin (and why), note, prune mark and quarantine reason."""
        marked = (self.pins, self.notes, self.pruned, self.quarantined)
        if not any(snapshot.id in table for table in marked):
            return snapshot  # most are unmarked: no copy (a tenth of history's own work)
        return snapshot._replace(
            pinned=snapshot.id in self.pins,
            pin_reason=self.pins.get(snapshot.id, ""),
            note=self.notes.get(snapshot.id, ""),
            pruned=snapshot.id in self.pruned,
            **quarantine_marks(self.quarantined.get(snapshot.id)),
        )


class HistoryEntry(NamedTuple):
    """One entry of history: a snapshot, or an operation told once by its "after" snapshot.

    ``before`` is the operation's "before" snapshot; ``drift`` the outside changes saved
    just before it when that "before" is identical to it (two ids, one state).
    """

    snapshot: Snapshot
    before: Snapshot | None = None
    drift: Snapshot | None = None

    @property
    def runtime_only(self) -> bool:
        """A fix that removed only runtime files (never in a snapshot): its pair changed none."""
        return (
            self.before is not None
            and self.snapshot.operation == "after-fix"
            and self.snapshot.files_changed == 0
        )


def history(
    home: Path, store_root: Path, limit: int | None, include_pruned: bool = False
) -> list[Snapshot]:
    """Newest first, with pins and notes; pruned snapshots only when asked for."""
    if not StoreReading.exists(store_root):
        return []
    with StoreReading.open_existing(store_root) as store:
        marks = Marks.load(store)
        found: list[Snapshot] = []
        # Pruned snapshots are hidden, so read past them until the limit is reached.
        for snapshot in store.history(home, None if marks.pruned else limit, include_damaged=True):
            if snapshot.id in marks.pruned and not include_pruned:
                continue
            found.append(marks.apply(snapshot))
            if limit is not None and len(found) >= limit:
                break
        return found


def history_entries(home: Path, store_root: Path, limit: int | None) -> list[HistoryEntry]:
    """History as operations: each before/after pair one entry, noise folded in."""
    # An entry holds up to three snapshots: read enough of them for ``limit`` entries.
    found = history(home, store_root, None if limit is None else limit * 3 + 2)
    return fold(found)[:limit] if limit else fold(found)


def fold(snapshots: Sequence[Snapshot]) -> list[HistoryEntry]:
    """Pair each "after" with its "before", and a drift with the identical "before" after it."""
    by_id = {s.id: s for s in snapshots}
    taken: set[str] = set()
    entries: list[HistoryEntry] = []
    for snap in snapshots:
        if snap.id in taken:
            continue
        before = by_id.get(snap.before) if snap.operation.startswith("after-") else None
        if before is None or before.id in taken or before.damaged:
            entries.append(HistoryEntry(snap))
            continue
        taken.add(before.id)
        drift = by_id.get(before.parent or "")
        if (
            drift is None
            or drift.operation != "drift"
            or before.files_changed != 0
            or drift.id in taken
        ):
            drift = None
        else:
            taken.add(drift.id)
        entries.append(HistoryEntry(snap, before, drift))
    return entries


def marked(store: StoreReading, snapshot: Snapshot) -> Snapshot:
    """One snapshot with the marks history shows (show, pin, unpin)."""
    return Marks.load(store).apply(snapshot)


class OtherHome(NamedTuple):
    """The history of another home path that this store holds."""

    path: str
    snapshots: int
    latest: Snapshot


def other_homes(home: Path, store_root: Path) -> list[OtherHome]:
    """Histories in the store kept under another home path (a home that moved)."""
    if not StoreReading.exists(store_root):
        return []
    found: list[OtherHome] = []
    with StoreReading.open_existing(store_root) as store:
        for other, head in sorted(store.home_heads().items()):
            if other == home_id(home) or head is None:
                continue
            snapshots = [s for s in store.snapshots_of(other, head) if not s.damaged]
            if snapshots:
                path = snapshots[0].trailers.get("Home", "")
                found.append(OtherHome(path, len(snapshots), snapshots[0]))
    return found
