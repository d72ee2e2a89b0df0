"""The safety pattern every command that writes into the home goes through.

lock -> refuse while Codex runs -> commit drift -> snapshot "before" -> check nothing moved
-> atomic writes -> snapshot "after" -> verify. Any failure while writing, Ctrl-C included,
puts the touched files back from the "before" snapshot and re-raises.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from codexsnap.atomic_io import TEMP_SUFFIX, atomic_symlink, atomic_write, remove_file
from codexsnap.errors import CodexRunningError, HomeWriteError, StoreError, TamperedSnapshotError
from codexsnap.faults import fault_point
from codexsnap.journal import Journal, JournalEntry, clear_journal, load_journal, save_journal
from codexsnap.processes import find_codex_processes
from codexsnap.progress import report as report_progress
from codexsnap.scope import Scope
from codexsnap.sqlite_copy import is_busy, journal_of, sidecars
from codexsnap.store import Snapshot, SnapshotStore
from codexsnap.store.manifest import FileRecord


@dataclass(frozen=True)
class PlannedWrite:
    """One file to replace or remove, and what it held when the plan was made."""

    relpath: str
    new: bytes | None  # None removes the file
    mode: int | None = None
    kind: str = "file"  # "file", "symlink" or "sqlite"
    expected_blob: str | None = None  # git blob id at planning time; None: absent
    # False for files whose stored form is not their bytes (SQLite copies) or that snapshots
    # leave out (runtime files a recipe removes): the planning-time check cannot apply.
    check_expected: bool = True


@dataclass(frozen=True)
class OperationResult:
    """The snapshots an operation made."""

    drift: Snapshot | None
    before: Snapshot
    after: Snapshot


def blob_id(data: bytes) -> str:
    """The id git gives these bytes, computed without a git process."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def refuse_if_codex_running(force: bool) -> None:
    """Codex rewrites its state from memory on quit, undoing any edit made while it runs."""
    if force:
        return
    running = find_codex_processes()
    if running:
        names = ", ".join(f"{p.name} (pid {p.pid}, {p.kind})" for p in running)
        raise CodexRunningError(
            f"Codex is running: {names}",
            hint="Quit the Codex app (and any 'codex app-server'), then run this again; "
            "--force skips this check, but Codex may undo the change when it quits.",
        )


def check_inside_home(
    home: Path, relpath: str, removed_first: frozenset[str] = frozenset()
) -> Path:
    """The path to write, refusing any parent folder that is a link (it could lead outside).

    ``removed_first``: paths the plan removes before writing, so a link there is no threat.
    """
    target = home / relpath
    current = home
    for part in Path(relpath).parts[:-1]:
        current = current / part
        if current.relative_to(home).as_posix() in removed_first:
            break
        try:
            if stat.S_ISLNK(os.lstat(current).st_mode):
                raise TamperedSnapshotError(
                    f"refusing to write {relpath}: {current} is a symbolic link",
                    hint="Move that link away, or restore that file by hand.",
                )
        except FileNotFoundError:
            break
    return target


def run_operation(
    store: SnapshotStore,
    home: Path,
    scope: Scope,
    writes: list[PlannedWrite],
    name: str,
    trailers: dict[str, str],
    force: bool,
) -> OperationResult:
    """Apply ``writes`` to the home with snapshots before and after; undoable by rollback."""
    with store.locked():
        refuse_if_codex_running(force)
        _refuse_busy_databases(home, writes)  # before any snapshot: a refusal leaves no trace
        recover_interrupted(store, home, scope)  # a plan made on a half-changed home fails below
        drift = None
        if store.latest(home) is not None:
            found = store.take_snapshot(
                home, scope, "drift: changes made outside codexsnap", {"Operation": "drift"}
            )
            drift = found.snapshot if found.created else None
        before = store.take_snapshot(
            home,
            scope,
            f"before {name}",
            {**trailers, "Operation": f"before-{_verb(name)}"},
            allow_unchanged=True,
        ).snapshot
        before_records = store.records(before)
        _check_unchanged(writes, before_records)
        refuse_if_codex_running(force)  # it may have started while we took the snapshot
        journal = store.journal_path(home)
        save_journal(journal, _journal_for(name, home, before, writes, before_records))
        fault_point("after-journal")
        _apply(store, home, writes, before_records)
        fault_point("before-after-snapshot")
        after = store.take_snapshot(
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
        ).snapshot
        clear_journal(journal)
        _verify(writes, store.records(after))
        return OperationResult(drift, before, after)


def _journal_for(
    name: str,
    home: Path,
    before: Snapshot,
    writes: list[PlannedWrite],
    records: dict[str, FileRecord],
) -> Journal:
    entries = tuple(
        JournalEntry(
            write.relpath,
            records[write.relpath].blob if write.relpath in records else None,
            None if write.new is None else blob_id(write.new),
            write.kind,
        )
        for write in writes
    )
    return Journal(name, str(home), before.id, os.getpid(), entries)


@dataclass(frozen=True)
class Recovery:
    """What the next run did about an interrupted one."""

    operation: str
    restored: tuple[str, ...]
    left_alone: tuple[str, ...]  # changed by someone else since: not touched
    snapshot: Snapshot | None


def _live_blob(path: Path, kind: str) -> str | None:
    try:
        if kind == "symlink" or path.is_symlink():
            return blob_id(os.fsencode(os.readlink(path)))
        if not path.is_file():
            return None if not os.path.lexists(path) else "special"
        return blob_id(path.read_bytes())
    except FileNotFoundError:
        return None


def recover_interrupted(store: SnapshotStore, home: Path, scope: Scope) -> Recovery | None:
    """Undo the writes of a run that was killed half-way (call with the store locked).

    A path is put back only when it holds exactly what the killed run wrote; anything
    else (Codex or the user changed it since) is left alone and reported.
    """
    path = store.journal_path(home)
    journal = load_journal(path)
    if journal is None:
        return None
    before = store.resolve(home, journal.before)
    records = store.records(before)
    # What the killed run left is kept too, so the recovery itself can be undone.
    store.take_snapshot(
        home, scope, "drift: the home as an interrupted run left it", {"Operation": "drift"}
    )
    restored: list[str] = []
    left: list[str] = []
    puts: list[PlannedWrite] = []
    for entry in journal.entries:
        live = _live_blob(home / entry.path, entry.kind)
        if live == entry.old_blob:
            continue
        # A database's stored form is a consistent copy, never its raw bytes, and the run
        # may have removed its -wal already: put the "before" copy back in every case.
        if live != entry.new_blob and entry.kind != "sqlite":
            left.append(entry.path)
            continue
        record = records.get(entry.path)
        puts.append(
            PlannedWrite(
                entry.path,
                store.read_blob(record.blob) if record else None,
                record.mode if record else None,
                record.kind if record else entry.kind,
            )
        )
    for put in _in_write_order(puts):
        _write_one(home, put)
        restored.append(put.relpath)
    for entry in journal.entries:  # the killed run's unfinished temp files
        folder = (home / entry.path).parent
        name = Path(entry.path).name
        for leftover in folder.glob(f".{glob.escape(name)}.*{TEMP_SUFFIX}"):
            remove_file(leftover)
    # Always recorded, even when nothing had been written yet: it closes the "before"
    # snapshot of the interrupted run, so `check` sees a complete pair.
    snapshot = store.take_snapshot(
        home,
        scope,
        f"recovery: undid the interrupted {journal.operation}",
        {"Operation": "recovery", "Before": before.id},
        allow_unchanged=True,
    ).snapshot
    clear_journal(path)
    return Recovery(journal.operation, tuple(restored), tuple(left), snapshot)


def _refuse_busy_databases(home: Path, writes: list[PlannedWrite]) -> None:
    for write in writes:
        if write.kind == "sqlite" and is_busy(home / write.relpath):
            raise HomeWriteError(
                f"{write.relpath} is in use: another process holds a write transaction on it; "
                "nothing was changed",
                hint="Quit Codex (and any 'codex app-server'), then run the command again.",
            )


def _verb(name: str) -> str:
    return name.split()[0]


def _check_unchanged(writes: list[PlannedWrite], records: dict[str, FileRecord]) -> None:
    for write in writes:
        if not write.check_expected:
            continue
        record = records.get(write.relpath)
        current = record.blob if record else None
        if current != write.expected_blob:
            raise HomeWriteError(
                f"{write.relpath} changed since the plan was shown; nothing was written",
                hint="Make sure Codex is quit, then run the command again.",
            )


def _in_write_order(writes: list[PlannedWrite]) -> list[PlannedWrite]:
    """Removals first, deepest first; then writes, shallowest first.

    A folder that becomes a file (or a link) must be emptied before the file can take its
    place; a file that becomes a folder must go before the folder's files are written.
    """
    removals = [w for w in writes if w.new is None]
    others = [w for w in writes if w.new is not None]
    removals.sort(key=lambda w: (-w.relpath.count("/"), w.relpath))
    others.sort(key=lambda w: (w.relpath.count("/"), w.relpath))
    return removals + others


def _apply(
    store: SnapshotStore,
    home: Path,
    writes: list[PlannedWrite],
    before: dict[str, FileRecord],
) -> None:
    removed_first = frozenset(w.relpath for w in writes if w.new is None)
    for write in writes:  # refuse an unsafe path before touching anything
        check_inside_home(home, write.relpath, removed_first)
    done: list[PlannedWrite] = []
    try:
        for write in _in_write_order(writes):
            done.append(write)
            _write_one(home, write)
            fault_point("between-writes")
            report_progress(len(done), len(writes), "Restoring")
    except BaseException as exc:
        if _put_back(store, home, done, before):
            clear_journal(store.journal_path(home))
        if isinstance(exc, OSError):
            raise HomeWriteError(
                f"could not write {getattr(exc, 'filename', None) or done[-1].relpath}: "
                f"{exc.strerror or exc}; the files were put back as they were",
                hint="Free disk space or fix the permissions, then run the command again.",
            ) from None
        raise


def _write_one(home: Path, write: PlannedWrite) -> None:
    target = check_inside_home(home, write.relpath)
    if write.kind == "sqlite" or (write.new is None and write.kind == "sqlite"):
        # Stale -wal frames would be replayed onto the restored database and corrupt it.
        for sidecar in (*sidecars(target), journal_of(target)):
            remove_file(sidecar)
    if write.new is None:
        remove_file(target)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_dir() and not target.is_symlink():
        # A folder becomes a file: its files in scope were removed first; a folder that still
        # holds something (caches, sessions) is not ours to delete, and rmdir says so.
        target.rmdir()
    if write.kind == "symlink":
        atomic_symlink(target, os.fsdecode(write.new))
    else:
        # No setuid/setgid/sticky bits from a snapshot: nothing in a Codex home needs them.
        atomic_write(target, write.new, None if write.mode is None else write.mode & 0o777)


def _put_back(
    store: SnapshotStore, home: Path, done: list[PlannedWrite], before: dict[str, FileRecord]
) -> bool:
    """Restore what was written; False when some file could not be (the journal stays)."""
    complete = True
    originals: list[PlannedWrite] = []
    for write in done:
        record = before.get(write.relpath)
        try:
            data = store.read_blob(record.blob) if record else None
        except Exception:
            complete = False
            continue
        kind = record.kind if record else write.kind
        originals.append(PlannedWrite(write.relpath, data, record.mode if record else None, kind))
    for original in _in_write_order(originals):
        try:
            _write_one(home, original)
        except Exception:
            # Could not even put it back (disk full...): the "before" snapshot holds it,
            # and the journal left in the store lets the next run finish the job.
            complete = False
    return complete


def _verify(writes: list[PlannedWrite], after: dict[str, FileRecord]) -> None:
    for write in writes:
        if not write.check_expected:
            continue
        record = after.get(write.relpath)
        if write.new is None:
            ok = record is None
        else:
            ok = record is not None and (
                write.kind == "sqlite" or record.blob == blob_id(write.new)
            )
        if not ok:
            raise StoreError(
                f"{write.relpath} does not hold what was written (something else changed it)",
                hint="Run 'codexsnap history' and 'codexsnap show' to see what happened.",
            )
