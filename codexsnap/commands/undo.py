"""codexsnap undo: roll back the last operation (an undo is an operation too)."""

from __future__ import annotations

import json
from pathlib import Path

from codexsnap.commands import Confirm, open_existing_store
from codexsnap.commands.rollback import RollbackResult, plan_snapshot_restore, rollback_result
from codexsnap.errors import SnapshotNotFoundError, TamperedSnapshotError
from codexsnap.transaction.operation import OnRecovery, transact
from codexsnap.transaction.plan import Plan


def last_operation(home: Path, store_root: Path) -> tuple[str, list[str]]:
    """The "before" snapshot of the newest fix or rollback, and the files that it wrote."""
    with open_existing_store(store_root) as store:
        for snapshot in store.history(home, 500, include_damaged=True):
            if snapshot.damaged:
                # It may be the after-snapshot of the last operation: undoing an older one
                # instead would put back the wrong files.
                raise TamperedSnapshotError(
                    f"snapshot {snapshot.short_id} cannot be read ({snapshot.damaged}), so the "
                    "last operation is not known",
                    hint="Run 'codexsnap check'; 'codexsnap rollback ID' restores any readable "
                    "snapshot ('codexsnap history' lists them).",
                )
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
    sqlite_home: Path | None = None,
    on_recovery: OnRecovery | None = None,
) -> RollbackResult:
    """Put back the files the last operation wrote, as they were before it; what Codex
    changed elsewhere since stays. Running it again undoes the undo."""

    def plan() -> Plan:
        # After any recovery: the last operation is read from the history it completed.
        before, wrote = last_operation(home, store_root)
        return plan_snapshot_restore(
            home,
            store_root,
            before,
            wrote,
            None,
            show_secrets,
            sqlite_home,
            refuse_newer=not (force or dry_run),
        )

    done = transact(
        home,
        store_root,
        plan,
        dry_run=dry_run,
        force=force,
        confirm=confirm,
        sqlite_home=sqlite_home,
        on_recovery=on_recovery,
    )
    return rollback_result(done, dry_run)
