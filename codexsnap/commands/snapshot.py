"""codexsnap snapshot: commit the home's current state by hand (and, for ``watch``, by itself)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from codexsnap.errors import StoreWriteError
from codexsnap.scope import load_scope
from codexsnap.store import Snapshot, SnapshotStore
from codexsnap.store.commit import SnapshotResult
from codexsnap.store.location import journal_pending
from codexsnap.transaction.outcome import record_snapshot

if TYPE_CHECKING:
    from codexsnap.transaction.operation import OnRecovery
    from codexsnap.transaction.recovery import Recovery

# The Operation trailer of a snapshot `codexsnap watch` took (store/history.py).
AUTOMATIC = "automatic"


@dataclass(frozen=True)
class SnapshotTaken:
    """The snapshot that now holds the home, and whether a new one was made."""

    snapshot: Snapshot
    created: bool
    recovery: Recovery | None = None  # a killed run undone before the snapshot


def snapshot(
    home: Path,
    store_root: Path,
    message: str,
    sqlite_home: Path | None = None,
    on_recovery: OnRecovery | None = None,
) -> SnapshotTaken:
    """Snapshot the home; with nothing changed, make none unless a note asks to mark it.

    ``sqlite_home``: a SQLite home outside the Codex home, whose databases it holds too.
    """
    # A snapshot of a half-written home would record a state that never was.
    recovery = None
    if journal_pending(home, store_root):  # the write path is loaded only when there is one
        from codexsnap.transaction.operation import begin

        begun = begin(
            home, store_root, force=False, sqlite_home=sqlite_home, on_recovery=on_recovery
        )
        recovery = begun.recovery
    with SnapshotStore.open(store_root, create=True) as store, store.locked():
        done = take(store, home, sqlite_home, message)
        if done.created:
            record_snapshot(done.snapshot.short_id)
        return SnapshotTaken(done.snapshot, done.created, recovery)


def take(
    store: SnapshotStore,
    home: Path,
    sqlite_home: Path | None,
    message: str = "",
    operation: str = "snapshot",
) -> SnapshotResult:
    """The snapshot of ``snapshot`` and of ``watch`` (``operation`` AUTOMATIC), store locked."""
    summary = "automatic snapshot (watch)" if operation == AUTOMATIC else "snapshot"
    try:
        return store.take_snapshot(
            home,
            load_scope(store.root).with_sqlite_home(sqlite_home),
            summary,
            {"Operation": operation},
            message,
            allow_unchanged=bool(message.strip()),
        )
    except StoreWriteError as refused:
        raise refused.saying("no snapshot was taken") from None  # none writes the home
