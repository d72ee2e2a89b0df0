"""codexsnap history: the snapshots of this Codex home, newest first."""

from __future__ import annotations

from pathlib import Path

from codexsnap.store import Snapshot, SnapshotStore


def history(home: Path, store_root: Path, limit: int | None) -> list[Snapshot]:
    """Newest first; an empty list when nothing was snapshotted yet."""
    if not SnapshotStore.exists(store_root):
        return []
    with SnapshotStore.open(store_root, create=False) as store:
        return store.history(home, limit)
