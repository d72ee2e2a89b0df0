"""codexsnap show: what one snapshot changed against the snapshot before it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from codexsnap.commands import open_existing_store
from codexsnap.commands.history import quarantine_marks
from codexsnap.compare import HomeState, compare, snapshot_state
from codexsnap.report import DiffReport
from codexsnap.store import Snapshot


@dataclass(frozen=True)
class ShowResult:
    """A snapshot and its changes against its parent."""

    snapshot: Snapshot
    report: DiffReport
    files_total: int


def show(home: Path, store_root: Path, snapshot_id: str, *, show_secrets: bool) -> ShowResult:
    """Report the files a snapshot changed, with DeepDiff detail for structured files."""
    with open_existing_store(store_root) as store:
        snapshot = store.resolve(home, snapshot_id)
        snapshot = replace(snapshot, **quarantine_marks(store.quarantined().get(snapshot.id)))
        new = snapshot_state(store, snapshot)
        if snapshot.parent:
            old = snapshot_state(store, store.resolve(home, snapshot.parent))
        else:
            old = HomeState({}, lambda record: b"")
        return ShowResult(snapshot, compare(old, new, show_secrets), len(new.records))
