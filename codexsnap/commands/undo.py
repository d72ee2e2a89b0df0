"""codexsnap undo: roll back the last operation (an undo is an operation too)."""

from __future__ import annotations

from pathlib import Path

from codexsnap.commands import Confirm, open_existing_store
from codexsnap.commands.rollback import RollbackResult, rollback
from codexsnap.errors import SnapshotNotFoundError


def last_operation_start(home: Path, store_root: Path) -> str:
    """The "before" snapshot of the newest fix or rollback of this home."""
    with open_existing_store(store_root) as store:
        for snapshot in store.history(home, 500):
            if snapshot.operation.startswith("after-") and "Before" in snapshot.trailers:
                return snapshot.trailers["Before"]
    raise SnapshotNotFoundError(
        f"no fix or rollback to undo for the Codex home {home}",
        hint="See 'codexsnap history'; 'codexsnap rollback ID' restores any snapshot.",
    )


def undo(
    home: Path,
    store_root: Path,
    *,
    dry_run: bool,
    force: bool,
    show_secrets: bool,
    confirm: Confirm,
) -> RollbackResult:
    """Restore the state before the last operation; running it again undoes the undo."""
    before = last_operation_start(home, store_root)
    return rollback(
        home,
        store_root,
        before,
        dry_run=dry_run,
        force=force,
        show_secrets=show_secrets,
        confirm=confirm,
    )
