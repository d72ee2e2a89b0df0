"""codexsnap diff: the live home against a snapshot, or two snapshots against each other."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from codexsnap.commands import open_existing_store
from codexsnap.compare import compare, live_state, snapshot_state
from codexsnap.diff_report import DiffReport
from codexsnap.errors import SnapshotNotFoundError
from codexsnap.scope import load_scope
from codexsnap.store import Snapshot


@dataclass(frozen=True)
class DiffResult:
    """What differs between ``old`` and ``new`` (``new`` None: the live home)."""

    old: Snapshot
    new: Snapshot | None
    report: DiffReport


def diff(
    home: Path,
    store_root: Path,
    old_id: str | None,
    new_id: str | None,
    *,
    show_secrets: bool,
    sqlite_home: Path | None = None,
) -> DiffResult:
    """Compare without writing anything, in the home or in the store."""
    with open_existing_store(store_root) as store:
        if old_id is None:
            latest = store.latest(home)
            if latest is None:
                raise SnapshotNotFoundError(
                    f"no snapshots yet for the Codex home {home}",
                    hint="Run 'codexsnap snapshot' first.",
                )
            old = latest
        else:
            old = store.resolve(home, old_id)
        old_state = snapshot_state(store, old)
        if new_id is not None:
            new = store.resolve(home, new_id)
            report = compare(old_state, snapshot_state(store, new), show_secrets)
            return DiffResult(old, new, report)
        scope = load_scope(store_root).with_sqlite_home(sqlite_home)
        records = store.scan_home(home, scope, write=False)
        report = compare(old_state, live_state(home, scope, records), show_secrets)
        return DiffResult(old, None, report)
