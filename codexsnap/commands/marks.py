"""codexsnap pin / unpin / note: marks that keep a snapshot or explain it."""

from __future__ import annotations

from pathlib import Path

from codexsnap.commands import open_existing_store
from codexsnap.store import Snapshot
from codexsnap.store.tables import NOTES, PINS, load_marks, save_marks


def set_mark(
    home: Path, store_root: Path, snapshot_id: str, table: str, value: str | None
) -> tuple[Snapshot, str | None]:
    """Set (or with None, clear) one snapshot's entry in a marks table; the old entry."""
    with open_existing_store(store_root) as store, store.locked():
        snapshot = store.resolve(home, snapshot_id)
        marks = load_marks(store_root, table)
        previous = marks.get(snapshot.id)
        if value is None:
            marks.pop(snapshot.id, None)
        else:
            marks[snapshot.id] = value
        if previous != value:
            save_marks(store_root, table, marks)
        return snapshot, previous


def pin(home: Path, store_root: Path, snapshot_id: str, reason: str) -> Snapshot:
    """Keep a snapshot whatever prune's policy says."""
    return set_mark(home, store_root, snapshot_id, PINS, reason)[0]


def unpin(home: Path, store_root: Path, snapshot_id: str) -> tuple[Snapshot, bool]:
    """Let prune's policy decide about a snapshot again; False when it was not pinned."""
    snapshot, previous = set_mark(home, store_root, snapshot_id, PINS, None)
    return snapshot, previous is not None


def note(home: Path, store_root: Path, snapshot_id: str, text: str) -> Snapshot:
    """Attach a note to a snapshot (an empty text removes it)."""
    return set_mark(home, store_root, snapshot_id, NOTES, text.strip() or None)[0]
