"""codexsnap undo: roll back the last operation (an undo is an operation too)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from codexsnap.codex_files import DB_SIDECARS
from codexsnap.commands import Confirm, open_existing_store
from codexsnap.commands.rollback import RollbackResult, plan_snapshot_restore, rollback_result
from codexsnap.errors import SnapshotNotFoundError, TamperedSnapshotError
from codexsnap.roots import PROFILE_PREFIX
from codexsnap.scope import load_scope
from codexsnap.store import Snapshot
from codexsnap.store.aside import kept as aside_files
from codexsnap.store.trailers import encode
from codexsnap.transaction.apply import aside_write
from codexsnap.transaction.operation import OnRecovery, transact
from codexsnap.transaction.plan import Plan, PlannedWrite, Shown, planned_report


@dataclass(frozen=True)
class LastOperation:
    """The newest fix, rollback or undo: its "after" snapshot, its "before", what it wrote."""

    after: Snapshot
    before: str
    wrote: list[str]

    @property
    def what(self) -> str:
        """The operation as its snapshots name it: "fix remote-control --reset"."""
        return self.after.summary.removeprefix("after ")


def last_operation(home: Path, store_root: Path) -> LastOperation:
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
                return LastOperation(snapshot, snapshot.before, [str(p) for p in wrote])
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
        last = last_operation(home, store_root)
        kept = aside_files(store_root, last.before)
        if kept:
            return _as_undo(
                plan_put_back_aside(home, store_root, last.before, kept, show_secrets), last
            )
        scope = load_scope(store_root).with_sqlite_home(sqlite_home)
        # Runtime files (sockets, pid files) are never in a snapshot: nothing brings them back.
        # The desktop app's profile (@codex-profile/, desktop-singleton) is never snapshotted.
        wrote = [p for p in last.wrote if scope.includes(p) and not p.startswith(PROFILE_PREFIX)]
        if not wrote:
            raise SnapshotNotFoundError(
                f"the last operation ({last.what}) removed only runtime files, which Codex "
                "recreates and snapshots never keep: there is nothing to undo",
                hint="'codexsnap rollback ID' restores any snapshot ('codexsnap history' "
                "lists them).",
            )
        plan = plan_snapshot_restore(
            home,
            store_root,
            last.before,
            wrote,
            None,
            show_secrets,
            sqlite_home,
            refuse_newer=not (force or dry_run),
        )
        return _as_undo(plan, last)

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


def _as_undo(plan: Plan, last: LastOperation) -> Plan:
    """Recorded as an undo, naming what it reversed: not as a partial rollback of the files
    it puts back (those are in Wrote)."""
    trailers = {k: v for k, v in plan.trailers.items() if k != "Paths"}
    trailers |= encode({"Undoes": last.after.id})
    return replace(plan, name=f"undo of {last.what}", trailers=trailers)


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
        encode({"Target": target.id, "Paths": sorted(kept)}),
        target,
    )


def _bytes(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() and not path.is_symlink() else None
