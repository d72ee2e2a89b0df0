"""codexsnap rollback: make the home's snapshot scope exactly what a snapshot holds."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from codexsnap.commands import Confirm, ask, open_existing_store
from codexsnap.manifest import FileRecord
from codexsnap.operation import PlannedWrite, refuse_if_codex_running, run_operation
from codexsnap.report import DiffReport, FileDiff, diff_file
from codexsnap.scope import load_scope
from codexsnap.store import Snapshot, SnapshotStore


@dataclass(frozen=True)
class RollbackResult:
    """The snapshot restored, what changed, and the snapshots that make it undoable."""

    target: Snapshot
    dry_run: bool
    report: DiffReport
    snapshot_before: Snapshot | None = None
    snapshot_after: Snapshot | None = None
    drift: Snapshot | None = None

    @property
    def changed(self) -> bool:
        """True when files in the home were written."""
        return self.snapshot_after is not None


def _live_bytes(home: Path, record: FileRecord) -> bytes:
    path = home / record.relpath
    if record.kind == "symlink":
        return os.fsencode(os.readlink(path))
    return path.read_bytes()


def plan_restore(
    store: SnapshotStore,
    home: Path,
    target: dict[str, FileRecord],
    current: dict[str, FileRecord],
    show_secrets: bool,
) -> tuple[list[PlannedWrite], DiffReport]:
    """The writes that turn ``current`` into ``target``, and the report of them."""
    writes: list[PlannedWrite] = []
    diffs: list[FileDiff] = []
    for path in sorted(target.keys() | current.keys()):
        want, have = target.get(path), current.get(path)
        if want is not None and have is not None and want.same_content(have):
            continue
        new = store.read_blob(want.blob) if want else None
        old = _live_bytes(home, have) if have else None
        kind = (want or have).kind  # type: ignore[union-attr]
        writes.append(
            PlannedWrite(path, new, want.mode if want else None, kind, have.blob if have else None)
        )
        mode_change = (have.mode, want.mode) if want and have and want.mode != have.mode else None
        diffs.append(diff_file(path, old, new, kind, show_secrets, mode_change))
    return writes, DiffReport(tuple(diffs))


def rollback(
    home: Path,
    store_root: Path,
    snapshot_id: str,
    *,
    dry_run: bool,
    force: bool,
    show_secrets: bool,
    confirm: Confirm,
) -> RollbackResult:
    """Restore a snapshot: rewrite only files that differ, remove files it did not have."""
    with open_existing_store(store_root) as store:
        target = store.resolve(home, snapshot_id)
        scope = load_scope(store_root)
        # Paths now excluded by the scope are left alone: their current version would not
        # be in the "before" snapshot, so restoring them could not be undone.
        wanted = {p: r for p, r in store.records(target).items() if scope.includes(p)}
        current = store.scan_home(home, scope, write=not dry_run)
        writes, report = plan_restore(store, home, wanted, current, show_secrets)
        if dry_run or not writes:
            return RollbackResult(target, dry_run, report)
        refuse_if_codex_running(force)
        ask(confirm, report)
        done = run_operation(
            store,
            home,
            scope,
            writes,
            f"rollback to {target.short_id}",
            {"Target": target.id},
            force,
        )
        return RollbackResult(target, False, report, done.before, done.after, done.drift)
