"""One module per subcommand: plain typed functions returning frozen result objects."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from codexsnap.errors import SnapshotNotFoundError

if TYPE_CHECKING:
    from codexsnap.store import SnapshotStore
    from codexsnap.transaction.operation import Confirm, ask

__all__ = ["Confirm", "ask", "open_existing_store"]


def open_existing_store(store_root: Path) -> SnapshotStore:
    """Open a store that must already hold snapshots."""
    from codexsnap.store import SnapshotStore  # history imports this package, and reads only

    if not SnapshotStore.exists(store_root):
        raise SnapshotNotFoundError(
            f"no snapshots yet (no store at {store_root})",
            hint="Run 'codexsnap snapshot' or 'codexsnap fix' first.",
        )
    return SnapshotStore.open(store_root, create=False)


def __getattr__(name: str) -> Any:
    # Loaded on first use: the write path (and the report under it) costs start-up time
    # that history and snapshot do not need.
    if name in ("Confirm", "ask"):
        from codexsnap.transaction import operation

        return getattr(operation, name)
    raise AttributeError(name)
