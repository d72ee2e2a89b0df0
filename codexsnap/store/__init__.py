"""The private snapshot store: a bare git repository and the tables kept beside it.

- ``git``: GitRepository, the only code that runs git (a new environment for every process)
- ``location``: whether a folder is a store (``store_state``), creating one, its format
- ``history``: Snapshot, trailers, the one ``git log``, resolving ids
- ``scan``: hashing the home with the stat cache
- ``manifest``: the record of every file in a snapshot, and the names of the notes beside it
- ``commit``: writing a snapshot's tree and commit
- ``tables``: pins, notes, pruned, aliases and quarantine
- ``quarantine``: healing damaged blobs from the live home, releasing healed files
- ``rewrite``: prune --gc
- ``reading``: StoreReading, the reading facet alone (what ``history`` needs)
- ``repository``: SnapshotStore, the object the rest of codexsnap uses

The names below are loaded when first used (PEP 562): importing any module of the package
runs this file, and importing ``SnapshotStore`` here brought the whole write path (the
scan, the commit, SQLite) into ``history``, which only reads.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from codexsnap.store.commit import SnapshotResult
    from codexsnap.store.history import Snapshot
    from codexsnap.store.index import home_id
    from codexsnap.store.location import STORE_FORMAT, StoreState, store_state
    from codexsnap.store.manifest import AUTH_NAME, OUTSIDE_NAME, SCOPE_NAME
    from codexsnap.store.repository import SnapshotStore

_WHERE = {
    "AUTH_NAME": "manifest",
    "OUTSIDE_NAME": "manifest",
    "SCOPE_NAME": "manifest",
    "STORE_FORMAT": "location",
    "Snapshot": "history",
    "SnapshotResult": "commit",
    "SnapshotStore": "repository",
    "StoreState": "location",
    "home_id": "index",
    "store_state": "location",
}

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


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
