"""codexsnap snapshot: commit the home's current state by hand."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from codexsnap.scope import load_scope
from codexsnap.store import Snapshot, SnapshotStore


@dataclass(frozen=True)
class SnapshotTaken:
    """The snapshot that now holds the home, and whether a new one was made."""

    snapshot: Snapshot
    created: bool


def snapshot(home: Path, store_root: Path, message: str) -> SnapshotTaken:
    """Snapshot the home; when nothing changed since the last one, say so and make none."""
    with SnapshotStore.open(store_root, create=True) as store, store.locked():
        summary = f"snapshot: {message.splitlines()[0]}" if message.strip() else "snapshot"
        done = store.take_snapshot(
            home, load_scope(store_root), summary, {"Operation": "snapshot"}, message
        )
        return SnapshotTaken(done.snapshot, done.created)
