"""One module per subcommand: plain typed functions returning frozen result objects."""

from __future__ import annotations

from pathlib import Path

from codexsnap.errors import SnapshotNotFoundError
from codexsnap.store import SnapshotStore
from codexsnap.transaction.operation import Confirm, ask

__all__ = ["Confirm", "ask", "open_existing_store"]


def open_existing_store(store_root: Path) -> SnapshotStore:
    """Open a store that must already hold snapshots."""
    if not SnapshotStore.exists(store_root):
        raise SnapshotNotFoundError(
            f"no snapshots yet (no store at {store_root})",
            hint="Run 'codexsnap snapshot' or 'codexsnap fix' first.",
        )
    return SnapshotStore.open(store_root, create=False)
