"""codexsnap recover: undo what a killed codexsnap run had half-written."""

from __future__ import annotations

from pathlib import Path

from codexsnap.errors import LockHeldError
from codexsnap.operation import Recovery, recover_interrupted, refuse_if_codex_running
from codexsnap.scope import load_scope
from codexsnap.store import SnapshotStore


def pending(home: Path, store_root: Path) -> bool:
    """True when an interrupted operation on this home awaits recovery."""
    if not SnapshotStore.exists(store_root):
        return False
    return SnapshotStore(store_root).journal_path(home).exists()


def recover(home: Path, store_root: Path, *, force: bool, wait: bool = False) -> Recovery | None:
    """Undo an interrupted operation, if there is one and no other run holds the store."""
    if not pending(home, store_root):
        return None
    with SnapshotStore.open(store_root, create=False) as store:
        try:
            with store.locked():
                refuse_if_codex_running(force)
                return recover_interrupted(store, home, load_scope(store_root))
        except LockHeldError:
            if wait:
                raise
            return None  # that run is alive and will finish or undo its own work
