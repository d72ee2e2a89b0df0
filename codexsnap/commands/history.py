"""codexsnap history: the snapshots of this Codex home, newest first."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from codexsnap.store import Snapshot, SnapshotStore
from codexsnap.store.tables import NOTES, PINS, PRUNED, Quarantine, load_marks


def quarantine_marks(entry: Quarantine | None) -> dict[str, Any]:
    """The Snapshot fields that show a quarantine entry (history, show)."""
    if entry is None:
        return {"quarantined": "", "damaged_files": ()}
    return {"quarantined": entry.reason, "damaged_files": tuple(sorted(entry.files))}


def history(
    home: Path, store_root: Path, limit: int | None, include_pruned: bool = False
) -> list[Snapshot]:
    """Newest first, with pins and notes; pruned snapshots only when asked for."""
    if not SnapshotStore.exists(store_root):
        return []
    pins, notes = load_marks(store_root, PINS), load_marks(store_root, NOTES)
    pruned = load_marks(store_root, PRUNED)
    with SnapshotStore.open(store_root, create=False) as store:
        quarantined = store.quarantined()
        found: list[Snapshot] = []
        # Pruned snapshots are hidden, so read past them until the limit is reached.
        for snapshot in store.history(home, None if pruned else limit, include_damaged=True):
            if snapshot.id in pruned and not include_pruned:
                continue
            found.append(
                replace(
                    snapshot,
                    pinned=snapshot.id in pins,
                    note=notes.get(snapshot.id, ""),
                    pruned=snapshot.id in pruned,
                    **quarantine_marks(quarantined.get(snapshot.id)),
                )
            )
            if limit is not None and len(found) >= limit:
                break
        return found
