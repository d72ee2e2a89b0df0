"""codexsnap undo: roll back the last operation (an undo is an operation too)."""

from __future__ import annotations

import json
from pathlib import Path

from codexsnap.commands import Confirm, open_existing_store
from codexsnap.commands.rollback import RollbackResult, rollback
from codexsnap.errors import SnapshotNotFoundError


def last_operation(home: Path, store_root: Path) -> tuple[str, list[str]]:
    """The "before" snapshot of the newest fix or rollback, and the files that it wrote."""
    with open_existing_store(store_root) as store:
        for snapshot in store.history(home, 500):
            if snapshot.operation.startswith("after-") and "Before" in snapshot.trailers:
                try:
                    wrote = json.loads(snapshot.trailers.get("Wrote", "[]"))
                except ValueError:
                    wrote = []
                return snapshot.trailers["Before"], [str(p) for p in wrote]
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
    """Put back the files the last operation wrote, as they were before it; what Codex
    changed elsewhere since stays. Running it again undoes the undo."""
    before, wrote = last_operation(home, store_root)
    return rollback(
        home,
        store_root,
        before,
        dry_run=dry_run,
        force=force,
        show_secrets=show_secrets,
        confirm=confirm,
        paths=wrote,
    )
