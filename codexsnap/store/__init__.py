"""The private snapshot store: a bare git repository and the tables kept beside it.

- ``git``: GitRepository, the only code that runs git (a new environment for every process)
- ``location``: whether a folder is a store (``store_state``), creating one, its format
- ``history``: Snapshot, trailers, the one ``git log``, resolving ids
- ``scan``: hashing the home with the stat cache
- ``manifest``: the record of every file in a snapshot
- ``commit``: writing a snapshot's tree and commit
- ``tables``: pins, notes, pruned, aliases and quarantine
- ``quarantine``: healing damaged blobs from the live home, releasing healed files
- ``rewrite``: prune --gc
- ``repository``: SnapshotStore, the object the rest of codexsnap uses
"""

from __future__ import annotations

from codexsnap.store.commit import AUTH_NAME, OUTSIDE_NAME, SCOPE_NAME, SnapshotResult
from codexsnap.store.history import Snapshot
from codexsnap.store.location import STORE_FORMAT, StoreState, store_state
from codexsnap.store.repository import SnapshotStore
from codexsnap.store.scan import home_id

__all__ = [
    "AUTH_NAME",
    "OUTSIDE_NAME",
    "SCOPE_NAME",
    "STORE_FORMAT",
    "Snapshot",
    "SnapshotResult",
    "SnapshotStore",
    "StoreState",
    "home_id",
    "store_state",
]
