"""codexsnap undo: roll back the last operation (an undo is an operation too)."""

from __future__ import annotations

import json
from pathlib import Path

from codexsnap.codex_files import DB_SIDECARS
from codexsnap.commands import Confirm, open_existing_store
from codexsnap.commands.rollback import RollbackResult, plan_snapshot_restore, rollback_result
from codexsnap.errors import SnapshotNotFoundError, TamperedSnapshotError
from codexsnap.scope import load_scope
from codexsnap.store.aside import kept as aside_files
from codexsnap.transaction.apply import aside_write
from codexsnap.transaction.operation import OnRecovery, transact
from codexsnap.transaction.plan import Plan, PlannedWrite, Shown, planned_report


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
        kept = aside_files(store_root, before)
        if kept:
            return plan_put_back_aside(home, store_root, before, kept, show_secrets)
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


def plan_put_back_aside(
    home: Path, store_root: Path, before: str, kept: dict[str, Path], show_secrets: bool
) -> Plan:
    """Put back, byte for byte, the files the last operation moved into the store.

    What took their place goes: a database Codex rebuilt meanwhile, and any sidecar of it
    that was not moved (its -wal would be replayed onto the old database).
    """
    with open_existing_store(store_root) as store:
        target = store.resolve(home, before)
    scope = load_scope(store_root)
    databases = {p for p in kept if not p.endswith(DB_SIDECARS)}
    stale = [
        f"{db}{suffix}"
        for db in databases
        for suffix in DB_SIDECARS
        if f"{db}{suffix}" not in kept and (home / f"{db}{suffix}").is_file()
    ]
    writes = [aside_write(relpath, path) for relpath, path in sorted(kept.items())]
    writes += [PlannedWrite(relpath, None, check_expected=False) for relpath in stale]
    shown = [Shown(w.relpath, _bytes(home / w.relpath), w.new) for w in writes]
    report = planned_report(shown, show_secrets)
    return Plan(
        tuple(writes),
        report,
        scope,
        f"rollback to {target.short_id}",
        {"Target": target.id, "Paths": " ".join(sorted(kept))},
        target,
    )


def _bytes(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() and not path.is_symlink() else None
