"""Undoing what a killed run half-wrote, from the journal it left in the store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from codexsnap.atomic_io import leftover_temps, remove_file
from codexsnap.errors import LockHeldError, StoreError, StoreWriteError
from codexsnap.roots import live_path
from codexsnap.scope import Scope, load_scope
from codexsnap.store import Snapshot, SnapshotStore
from codexsnap.store.aside import kept as aside_files
from codexsnap.transaction.apply import aside_write, in_write_order, live_blob, write_one
from codexsnap.transaction.guards import refuse_if_codex_running
from codexsnap.transaction.journal import Journal, JournalFile, pending
from codexsnap.transaction.outcome import HALF_RECORDED, Outcome, RunInterrupted
from codexsnap.transaction.plan import PlannedWrite, blob_id

__all__ = ["Recovery", "pending", "recover", "recover_interrupted"]


@dataclass(frozen=True)
class Recovery:
    """What the next run did about an interrupted one."""

    operation: str
    restored: tuple[str, ...]
    left_alone: tuple[str, ...]  # changed by someone else since: not touched
    snapshot: Snapshot | None


def recover(
    home: Path,
    store_root: Path,
    *,
    force: bool,
    wait: bool = False,
    sqlite_home: Path | None = None,
) -> Recovery | None:
    """Undo an interrupted operation, if there is one and no other run holds the store."""
    if not pending(home, store_root):
        return None
    with SnapshotStore.open(store_root, create=False) as store:
        try:
            with store.locked():
                refuse_if_codex_running(force)
                scope = load_scope(store_root).with_sqlite_home(sqlite_home)
                return recover_interrupted(store, home, scope)
        except LockHeldError:
            if wait:
                raise
            return None  # that run is alive and will finish or undo its own work


def recover_interrupted(store: SnapshotStore, home: Path, scope: Scope) -> Recovery | None:
    """Undo the writes of a run that was killed half-way (call with the store locked).

    A path is put back only when it holds exactly what the killed run wrote; anything
    else (Codex or the user changed it since) is left alone and reported.
    """
    journal_file = JournalFile.of(store.root, home)
    journal = journal_file.load()
    if journal is None:
        return None
    before = store.resolve(home, journal.before)
    scope = scope.with_sqlite_home(_sqlite_home_of(journal, before, scope.sqlite_home))
    records = store.records(before)
    # What the killed run left is kept too, so the recovery itself can be undone.
    try:
        store.take_snapshot(
            home, scope, "drift: the home as an interrupted run left it", {"Operation": "drift"}
        )
    except StoreWriteError as refused:
        raise refused.saying(
            f"nothing was changed: the interrupted {journal.operation} is still to be undone"
        ) from None
    restored: list[str] = []
    left: list[str] = []
    puts: list[PlannedWrite] = []
    kept = aside_files(store.root, before.id)
    for entry in journal.entries:
        live = live_blob(live_path(home, entry.path, scope.sqlite_home), entry.kind)
        if entry.path in kept:
            # Moved aside by the killed run: its exact bytes are in the store, and the
            # snapshot may not hold it at all (a -wal, logs_2.sqlite).
            if live == entry.new_blob:
                puts.append(aside_write(entry.path, kept[entry.path]))
            elif live != blob_id(kept[entry.path].read_bytes()):
                left.append(entry.path)
            continue
        if live == entry.old_blob:
            continue
        # A database's stored form is a consistent copy, never its raw bytes, and the run
        # may have removed its -wal already: put the "before" copy back in every case.
        if live != entry.new_blob and entry.kind != "sqlite":
            left.append(entry.path)
            continue
        record = records.get(entry.path)
        puts.append(
            PlannedWrite(  # its bytes read when it is written, one file at a time
                entry.path,
                None,
                record.mode if record else None,
                record.kind if record else entry.kind,
                blob=record.blob if record else None,
            )
        )
    try:
        for put in in_write_order(puts):
            write_one(home, put, scope.sqlite_home, store.read_blob)
            restored.append(put.relpath)
    except KeyboardInterrupt:
        raise RunInterrupted(Outcome(HALF_RECORDED)) from None  # the journal is still there
    for entry in journal.entries:  # the killed run's unfinished temp files
        for leftover in leftover_temps(live_path(home, entry.path, scope.sqlite_home)):
            remove_file(leftover)
    # Always recorded, even when nothing had been written yet: it closes the "before"
    # snapshot of the interrupted run, so `check` sees a complete pair.
    try:
        snapshot = store.take_snapshot(
            home,
            scope,
            f"recovery: undid the interrupted {journal.operation}",
            {"Operation": "recovery", "Before": before.id},
            allow_unchanged=True,
        ).snapshot
    except StoreWriteError as refused:
        # The journal stays: a recovery run again finds those files as they are now (put
        # back) and only records it.
        unmoved = f", {len(left)} changed since left as they are" if left else ""
        raise refused.saying(
            f"{len(restored)} files of the interrupted {journal.operation} were put back"
            f"{unmoved}, but not recorded: run 'codexsnap recover' once the store can be written"
        ) from None
    journal_file.clear()
    return Recovery(journal.operation, tuple(restored), tuple(left), snapshot)


def _sqlite_home_of(journal: Journal, before: Snapshot, given: Path | None) -> Path | None:
    """Where the killed run wrote its ``@sqlite/`` paths: the folder its journal names.

    Taken only when its own "before" snapshot (in git, beside the journal) held that same
    folder: a journal edited to name another folder must not steer a recovery there.
    """
    held = before.trailers.get("Sqlite-Home")
    if journal.sqlite_home is None:
        # A journal of an older codexsnap, or a run without an outside SQLite home.
        return given if given is not None or held is None else Path(held)
    if held != journal.sqlite_home:
        raise StoreError(
            f"the journal of the interrupted {journal.operation} names the SQLite home "
            f"{journal.sqlite_home}, but its snapshot "
            f"{before.short_id} held {held or 'none'}; nothing was changed",
            hint="Check the home by hand against 'codexsnap diff', then remove the journal.",
        )
    return Path(journal.sqlite_home)
