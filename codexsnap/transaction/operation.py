"""The one entry of every command that writes into the home, and the safety pattern under it.

``transact``: recover a killed run -> plan -> confirm -> ``run_operation``, which does
lock -> refuse while Codex runs -> commit drift -> snapshot "before" -> check nothing moved
-> journal -> atomic writes -> snapshot "after" -> verify. Any failure while writing, Ctrl-C
included, puts the touched files back from the "before" snapshot and re-raises.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codexsnap.errors import CodexsnapError, NotConfirmedError, StoreError, StoreWriteError
from codexsnap.faults import fault_point
from codexsnap.roots import live_path
from codexsnap.scope import Scope
from codexsnap.store import Snapshot, SnapshotStore
from codexsnap.store.aside import keep as keep_aside
from codexsnap.store.commit import SnapshotResult
from codexsnap.store.scan import Scanned
from codexsnap.transaction.apply import apply_writes, check_paths, put_back, verify
from codexsnap.transaction.guards import (
    check_unchanged,
    ensure_way_back,
    refuse_busy_databases,
    refuse_if_codex_running,
    running_warning,
)
from codexsnap.transaction.journal import JournalFile, journal_for
from codexsnap.transaction.outcome import (
    HALF_RECORDED,
    PUT_BACK,
    Outcome,
    RunInterrupted,
    record_commit,
)
from codexsnap.transaction.plan import Plan, PlannedWrite
from codexsnap.transaction.recovery import Recovery, pending, recover, recover_interrupted

if TYPE_CHECKING:
    from codexsnap.diff_report import DiffReport

# Called with the report of what is about to change; True means go ahead.
Confirm = Callable[["DiffReport"], bool]
# Reads the home (after any recovery) and returns what to write; writes nothing itself.
Planner = Callable[[], Plan]
# Told at once when a killed run was undone: the command may still fail after it (a refused
# recipe, an unknown id), and the user must learn that their home was changed all the same.
OnRecovery = Callable[[Recovery], None]


@dataclass(frozen=True)
class OperationResult:
    """The snapshots an operation made."""

    drift: Snapshot | None
    before: Snapshot
    after: Snapshot


@dataclass(frozen=True)
class Begun:
    """What a writing command found before planning: a killed run undone, or left waiting."""

    recovery: Recovery | None = None
    pending: bool = False  # a dry run found an interrupted run and, writing nothing, left it


@dataclass(frozen=True)
class Transaction:
    """A plan, what was recovered before it was made, and the snapshots if it was applied."""

    plan: Plan
    begun: Begun
    done: OperationResult | None = None
    codex_running: bool = False  # --force went past a running Codex (plan.warnings say so)


def ask(confirm: Confirm, report: DiffReport) -> None:
    """Raise unless the user agreed to the change."""
    if not confirm(report):
        raise NotConfirmedError(
            "nothing was changed", hint="Run again and answer 'y', or add --yes."
        )


def begin(
    home: Path,
    store_root: Path,
    *,
    force: bool,
    dry_run: bool = False,
    sqlite_home: Path | None = None,
    on_recovery: OnRecovery | None = None,
) -> Begun:
    """Undo what a killed run half-wrote before anything new is planned on the home.

    ``sqlite_home``: the SQLite home outside the Codex home (roots.py), which the killed
    run may have written too. ``on_recovery`` hears of a recovery as soon as it is done.
    """
    if dry_run:  # a dry run writes nothing, not even a recovery
        return Begun(pending=pending(home, store_root))
    recovery = recover(home, store_root, force=force, sqlite_home=sqlite_home)
    if recovery is not None and on_recovery is not None:
        on_recovery(recovery)
    return Begun(recovery=recovery)


def transact(
    home: Path,
    store_root: Path,
    planner: Planner,
    *,
    dry_run: bool,
    force: bool,
    confirm: Confirm,
    sqlite_home: Path | None = None,
    on_recovery: OnRecovery | None = None,
) -> Transaction:
    """Recover, plan, show, then apply the plan between a "before" and an "after" snapshot.

    The planner runs only once a killed run is undone: a plan read from a half-written home
    would be wrong. ``on_recovery`` is told of each recovery when it happens, before the
    command can fail.
    """
    begun = begin(
        home,
        store_root,
        force=force,
        dry_run=dry_run,
        sqlite_home=sqlite_home,
        on_recovery=on_recovery,
    )
    plan = planner()
    warning = running_warning() if force and plan.writes else None
    if warning is not None:
        plan = replace(plan, warnings=(*plan.warnings, warning))
    if dry_run or not plan.writes:
        return Transaction(plan, begun, codex_running=warning is not None)
    refuse_if_codex_running(force)
    ask(confirm, replace(plan.report, subject=plan.name))
    with SnapshotStore.open(store_root, create=True) as store:
        done = run_operation(
            store,
            home,
            plan.scope,
            list(plan.writes),
            plan.name,
            plan.trailers,
            force,
            on_recovery,
            aside=plan.aside,
            target=plan.target,
        )
    return Transaction(plan, begun, done, codex_running=warning is not None)


def run_operation(
    store: SnapshotStore,
    home: Path,
    scope: Scope,
    writes: list[PlannedWrite],
    name: str,
    trailers: dict[str, str],
    force: bool,
    on_recovery: OnRecovery | None = None,
    aside: tuple[str, ...] = (),
    target: Snapshot | None = None,
) -> OperationResult:
    """Apply ``writes`` to the home with snapshots before and after; undoable by rollback.

    ``aside``: files whose exact bytes the store keeps first (store/aside.py), so that undo,
    a put-back and a recovery bring back those bytes, not the snapshot's copy. ``target``:
    the snapshot restored, named if its stored files turn out damaged.
    """
    with store.locked():
        refuse_if_codex_running(force)
        refuse_busy_databases(
            home, writes, scope.sqlite_home
        )  # before any snapshot: a refusal leaves no trace
        check_paths(home, writes, scope.sqlite_home)  # a link in the way: no journal
        # Another killed run may have left a journal since `begin`: the check below then
        # refuses the plan made on the half-changed home.
        late = recover_interrupted(store, home, scope)
        if late is not None and on_recovery is not None:
            on_recovery(late)
        new_blobs = _not_stored_yet(store, home, writes, scope.sqlite_home)
        try:
            drift, scanned, taken = _take_before(store, home, scope, name, trailers)
        except StoreWriteError as refused:
            # Its own words: a recovery this run made first was told when it was made.
            raise refused.saying(f"the {_verb(name)} wrote nothing into the home") from None
        before, before_records = taken.snapshot, taken.records
        check_unchanged(writes, before_records)
        ensure_way_back(store, home, scope, before, writes, before_records, new_blobs)
        refuse_if_codex_running(force)  # it may have started while we took the snapshot
        if aside:
            try:
                keep_aside(store.root, before.id, home, aside)
            except OSError as exc:
                raise StoreError(
                    f"could not keep {exc.filename or 'a file'} in the store before moving it: "
                    f"{exc.strerror or exc}; nothing was changed",
                    hint="Free space in the store's folder, then run the command again.",
                ) from None
        journal = JournalFile.of(store.root, home)
        journal.save(journal_for(name, home, before, writes, before_records, scope.sqlite_home))
        try:
            fault_point("after-journal")
        except BaseException:
            journal.clear()  # nothing written yet: no half-done run to recover
            raise
        written = apply_writes(
            store, home, writes, before_records, journal, scope.sqlite_home, before.id, target
        )
        after = _record_after(
            store, home, scope, writes, before, name, trailers, journal, scanned, written
        )
        try:
            journal.clear()
            record_commit(home, store.root, after.snapshot.short_id)
        except KeyboardInterrupt:
            # Ctrl-C as the run finishes: its "after" snapshot holds the change. While the
            # journal is there the next run puts the files back (half-recorded); once it is
            # gone the change is done, and the last line must say so (it said "nothing
            # written" over a changed home).
            if journal.exists():
                raise RunInterrupted(Outcome(HALF_RECORDED)) from None
            record_commit(home, store.root, after.snapshot.short_id)
            raise
        fault_point("after-commit")
        verify(writes, after.records)
        return OperationResult(drift, before, after.snapshot)


def _take_before(
    store: SnapshotStore, home: Path, scope: Scope, name: str, trailers: dict[str, str]
) -> tuple[Snapshot | None, Scanned, SnapshotResult]:
    """The drift snapshot (when the home moved since the last one) and the "before" one."""
    drift = None
    # One walk for both: the drift snapshot and the "before" one hold the same home.
    scanned = store.scan(home, scope)
    if store.latest(home) is not None:
        found = store.take_snapshot(
            home,
            scope,
            "drift: changes made outside codexsnap",
            {"Operation": "drift"},
            scanned=scanned,
        )
        drift = found.snapshot if found.created else None
    taken = store.take_snapshot(
        home,
        scope,
        f"before {name}",
        {**trailers, "Operation": f"before-{_verb(name)}"},
        allow_unchanged=True,
        scanned=scanned,
    )
    return drift, scanned, taken


# Reading back fewer bytes than this costs less than the git process that spares it.
_READ_BACK_BYTES = 4 << 20


def _not_stored_yet(
    store: SnapshotStore, home: Path, writes: list[PlannedWrite], sqlite_home: Path | None
) -> set[str]:
    """The contents the plan saw that the store lacks: the "before" snapshot writes them
    from the live files, so the way back needs no check of those (guards.py)."""
    planned = {w.expected_blob: w for w in writes if w.expected_blob and w.kind != "sqlite"}
    size = 0
    for write in planned.values():
        with contextlib.suppress(OSError):
            size += live_path(home, write.relpath, sqlite_home).lstat().st_size
    if size < _READ_BACK_BYTES:
        return set()
    return {b for b, n in store.object_sizes(sorted(planned)).items() if n is None}


def _record_after(
    store: SnapshotStore,
    home: Path,
    scope: Scope,
    writes: list[PlannedWrite],
    before: Snapshot,
    name: str,
    trailers: dict[str, str],
    journal: JournalFile,
    scanned: Scanned,
    written: dict[str, list[Any]] | None = None,
) -> SnapshotResult:
    """The "after" snapshot; Ctrl-C puts the files back, a store failure says what is left.

    Only the written files are looked at again (``scanned`` is the "before" walk): the lock
    is held and Codex was not running, so nothing else should have moved; what a Codex let
    run with --force changed meanwhile is recorded by the next snapshot, as drift. Of those,
    a file whose stat has not moved since this run renamed it into place (``written``) is
    not read back: its blob was checked as it was written.
    """
    try:
        fault_point("before-after-snapshot")
        rescanned = store.rescan(home, scope, scanned, [w.relpath for w in writes], written)
        return store.take_snapshot(
            home,
            scope,
            f"after {name}",
            {
                **trailers,
                "Operation": f"after-{_verb(name)}",
                "Before": before.id,
                "Wrote": json.dumps(sorted(w.relpath for w in writes)),
            },
            allow_unchanged=True,
            scanned=rescanned,
        )
    except KeyboardInterrupt:
        records = store.records(before)
        if not put_back(store, home, writes, records, journal, scope.sqlite_home, before.id):
            raise RunInterrupted(Outcome(HALF_RECORDED)) from None
        raise RunInterrupted(Outcome(PUT_BACK, len(writes))) from None
    except (CodexsnapError, OSError) as exc:
        # The home holds the change but no snapshot records it: the journal stays, and the
        # next run puts the files back from the "before" snapshot before anything else.
        detail = exc.message if isinstance(exc, CodexsnapError) else (exc.strerror or exc)
        raise StoreError(
            f"the Codex home WAS changed ({len(writes)} files written) but the store could "
            f"not record it: {detail}. The next codexsnap command will put those files back "
            f"from the snapshot before ({before.short_id}) before doing anything else",
            hint="Free space in the store's folder, then run 'codexsnap recover' and the "
            "command again.",
        ) from None


def _verb(name: str) -> str:
    return name.split()[0]
