"""Writing a plan into the home: path checks, write order, atomic writes, put back, verify."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from codexsnap.atomic_io import atomic_symlink, atomic_write, remove_emptied_folder, remove_file
from codexsnap.errors import HomeWriteError, StoreError, TamperedSnapshotError
from codexsnap.faults import fault_point
from codexsnap.progress import report as report_progress
from codexsnap.roots import SQLITE_PREFIX, live_path, split_root
from codexsnap.sqlite_copy import journal_of, sidecars
from codexsnap.store import Snapshot, SnapshotStore
from codexsnap.store.aside import kept as aside_files
from codexsnap.store.manifest import FileRecord
from codexsnap.transaction.journal import JournalFile
from codexsnap.transaction.outcome import (
    HALF_RECORDED,
    NOTHING_WRITTEN,
    PUT_BACK,
    Outcome,
    RunInterrupted,
)
from codexsnap.transaction.plan import PlannedWrite, blob_id, damaged_error
from codexsnap.transaction.staging import Staged, rename_one, stage, sync_folders


def check_inside_home(
    home: Path,
    relpath: str,
    removed_first: frozenset[str] = frozenset(),
    sqlite_home: Path | None = None,
    checked: set[Path] | None = None,
) -> Path:
    """The path to write, refusing any parent folder that is a link (it could lead outside).

    ``removed_first``: paths the plan removes before writing, so a link there is no threat.
    ``sqlite_home``: where ``@sqlite/`` paths go (roots.py), the same checks applying there.
    ``checked``: folders found to be no link in this same pass, not looked at again.
    """
    root, inner = split_root(home, relpath, sqlite_home)
    prefix = "" if root is home else SQLITE_PREFIX
    target = root / inner
    if checked is not None and target.parent in checked:
        return target
    current = root
    for part in Path(inner).parts[:-1]:
        current = current / part
        if prefix + current.relative_to(root).as_posix() in removed_first:
            break
        try:
            if stat.S_ISLNK(os.lstat(current).st_mode):
                raise TamperedSnapshotError(
                    f"refusing to write {relpath}: {current} is a symbolic link",
                    hint="Move that link away, or restore that file by hand.",
                )
        except FileNotFoundError:
            break
    else:
        if checked is not None:  # every folder on the way is there and no link
            checked.add(target.parent)
    return target


def check_paths(home: Path, writes: list[PlannedWrite], sqlite_home: Path | None = None) -> None:
    """Refuse an unsafe path before touching anything."""
    removed_first = frozenset(w.relpath for w in writes if w.removes)
    checked: set[Path] = set()  # 2,500 transcripts share a few hundred folders
    for write in writes:
        check_inside_home(home, write.relpath, removed_first, sqlite_home, checked)


def in_write_order(writes: list[PlannedWrite]) -> list[PlannedWrite]:
    """Removals first, deepest first; then writes, shallowest first.

    A folder that becomes a file (or a link) must be emptied before the file can take its
    place; a file that becomes a folder must go before the folder's files are written.
    """
    removals = [w for w in writes if w.removes]
    others = [w for w in writes if not w.removes]
    removals.sort(key=lambda w: (-w.relpath.count("/"), w.relpath))
    others.sort(key=lambda w: (w.relpath.count("/"), w.relpath))
    return removals + others


def apply_writes(
    store: SnapshotStore,
    home: Path,
    writes: list[PlannedWrite],
    before: dict[str, FileRecord],
    journal: JournalFile,
    sqlite_home: Path | None = None,
    before_id: str | None = None,
    target: Snapshot | None = None,
) -> dict[str, list[Any]]:
    """Write every file; on any failure, Ctrl-C included, put back what was written.

    Every new file is first written to a synced temporary file beside it (staging.py), its
    stored blob read once and checked: a damaged one refuses the plan (naming ``target``,
    the snapshot restored) before any file of the home changes. Then the renames and
    removals, in write order; then each folder is synced once. ``before_id``: the "before"
    snapshot, beside which files kept aside are put back from.

    The journal is gone when this returns or raises with the home whole (all written, or
    all put back); it stays only when some file could not be put back. Returns what the
    staged files hold once renamed, as stat cache entries (staging.py).
    """
    ordered = in_write_order(writes)
    removed_first = frozenset(w.relpath for w in writes if w.removes)
    checked: set[Path] = set()

    def target_of(write: PlannedWrite) -> Path:
        # Checked again though run_operation did before the journal: the home may have moved.
        return check_inside_home(home, write.relpath, removed_first, sqlite_home, checked)

    staged = Staged()
    try:
        stage(
            staged,
            ordered,
            target_of,
            home,
            sqlite_home,
            store.read_verified,
            lambda paths: damaged_error(store, target, paths),
        )
    except BaseException as exc:
        # Nothing in the home was renamed or removed: only the journal is left to forget.
        put_back(store, home, [], before, journal, sqlite_home, before_id)
        raise undone(exc, True, [], staged.current or "the home") from None
    done: list[PlannedWrite] = []
    folders: set[Path] = set()
    try:
        for write in ordered:
            done.append(write)
            if write.relpath in staged.later:
                write_one(home, write, sqlite_home, store.read_blob)
            else:
                rename_one(staged, write, folders)
            fault_point("between-writes")
            report_progress(len(done), len(writes), "Restoring")
        sync_folders(folders)
        return staged.written
    except BaseException as exc:
        staged.discard()
        failed = done[-1].relpath if done else "the home"
        kept = {} if before_id is None else aside_files(store.root, before_id)
        if done and unchanged(home, done[-1], before, sqlite_home, kept):
            done.pop()  # it failed (or was interrupted) before touching the file
        complete = put_back(store, home, done, before, journal, sqlite_home, before_id)
        raise undone(exc, complete, done, failed) from None


def undone(
    exc: BaseException, complete: bool, done: list[PlannedWrite], failed: str
) -> BaseException:
    """The error to raise once the written files were put back (or could not all be)."""
    if isinstance(exc, KeyboardInterrupt):
        if not complete:
            return RunInterrupted(Outcome(HALF_RECORDED))
        return RunInterrupted(Outcome(PUT_BACK if done else NOTHING_WRITTEN, len(done)))
    if isinstance(exc, OSError):
        where = getattr(exc, "filename", None) or failed
        if not done:
            said = "nothing was written (no file needed to be put back)"
        elif complete:
            said = f"{len(done)} written files were put back as they were"
        else:
            said = "some written files could not be put back: run 'codexsnap recover'"
        return HomeWriteError(
            f"could not write {where}: {exc.strerror or exc}; {said}",
            hint="Free disk space or fix the permissions, then run the command again.",
        )
    return exc


def unchanged(
    home: Path,
    write: PlannedWrite,
    before: dict[str, FileRecord],
    sqlite_home: Path | None,
    kept: dict[str, Path] | None = None,
) -> bool:
    """True when the path still holds what the "before" snapshot has (never for databases).

    A database's stored form is a copy, not its bytes, and its -wal may be gone already. A
    file kept aside is judged by its kept bytes: the snapshot may not hold it at all.
    """
    if write.kind == "sqlite":
        return False
    live = live_blob(live_path(home, write.relpath, sqlite_home), write.kind)
    if kept and write.relpath in kept:
        return live == blob_id(kept[write.relpath].read_bytes())
    record = before.get(write.relpath)
    return live == (record.blob if record else None)


def live_blob(path: Path, kind: str) -> str | None:
    """The blob id of what ``path`` holds now: a link's target, a file's bytes, or None."""
    try:
        if kind == "symlink" or path.is_symlink():
            return blob_id(os.fsencode(os.readlink(path)))
        if not path.is_file():
            return None if not os.path.lexists(path) else "special"
        return blob_id(path.read_bytes())
    except FileNotFoundError:
        return None
    except OSError:
        return "unreadable"


def put_back(
    store: SnapshotStore,
    home: Path,
    done: list[PlannedWrite],
    before: dict[str, FileRecord],
    journal: JournalFile,
    sqlite_home: Path | None = None,
    before_id: str | None = None,
) -> bool:
    """Put back what was written and forget the journal; False when a file could not be.

    Then the journal stays in the store: the next run finishes the job from it.
    """
    kept = {} if before_id is None else aside_files(store.root, before_id)
    complete = _put_back(store, home, done, before, sqlite_home, kept)
    if complete:
        journal.clear()
    return complete


def write_one(
    home: Path,
    write: PlannedWrite,
    sqlite_home: Path | None = None,
    read: Callable[[str], bytes] | None = None,
) -> None:
    """Replace or remove one file atomically; ``read`` gives a stored blob's bytes (a write
    naming its ``blob`` is read only now, so one file at a time is in memory)."""
    target = check_inside_home(home, write.relpath, sqlite_home=sqlite_home)
    if write.kind == "sqlite" or (write.removes and write.kind == "sqlite"):
        # Stale -wal frames would be replayed onto the restored database and corrupt it.
        for sidecar in (*sidecars(target), journal_of(target)):
            remove_file(sidecar)
    if write.removes:
        remove_file(target)
        return
    if write.new is not None:
        data = write.new
    else:
        assert write.blob is not None and read is not None, write.relpath
        data = read(write.blob)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_dir() and not target.is_symlink():
        # A folder becomes a file: its files in scope were removed first; a folder that still
        # holds something (caches, sessions) is not ours to delete, and rmdir says so.
        remove_emptied_folder(target)
    if write.kind == "symlink":
        atomic_symlink(target, os.fsdecode(data))
    else:
        # No setuid/setgid/sticky bits from a snapshot: nothing in a Codex home needs them.
        atomic_write(target, data, None if write.mode is None else write.mode & 0o777)
    del data  # before the next file is read


def _put_back(
    store: SnapshotStore,
    home: Path,
    done: list[PlannedWrite],
    before: dict[str, FileRecord],
    sqlite_home: Path | None,
    kept: dict[str, Path],
) -> bool:
    """Restore what was written; False when some file could not be (the journal stays)."""
    complete = True
    originals: list[PlannedWrite] = []
    for write in done:
        if write.relpath in kept:  # its exact bytes, which the snapshot may not hold
            try:
                originals.append(aside_write(write.relpath, kept[write.relpath]))
            except OSError:
                complete = False
            continue
        record = before.get(write.relpath)
        kind = record.kind if record else write.kind
        mode = record.mode if record else None
        # Read when written, one at a time, as the run's own writes are.
        blob = record.blob if record else None
        originals.append(PlannedWrite(write.relpath, None, mode, kind, blob=blob))
    for original in in_write_order(originals):
        try:
            write_one(home, original, sqlite_home, store.read_blob)
        except Exception:
            # Could not even put it back (disk full...): the "before" snapshot holds it,
            # and the journal left in the store lets the next run finish the job.
            complete = False
    return complete


def aside_write(relpath: str, kept: Path) -> PlannedWrite:
    """The write that puts a file kept aside back, byte for byte, with its mode."""
    return PlannedWrite(
        relpath, kept.read_bytes(), stat.S_IMODE(kept.stat().st_mode), check_expected=False
    )


def verify(writes: list[PlannedWrite], after: dict[str, FileRecord]) -> None:
    """Refuse to call it done when the "after" snapshot does not hold what was written."""
    for write in writes:
        if not write.check_expected:
            continue
        record = after.get(write.relpath)
        if write.removes:
            ok = record is None
        else:
            ok = record is not None and (write.kind == "sqlite" or record.blob == write.new_blob)
        if not ok:
            raise StoreError(
                f"{write.relpath} does not hold what was written (something else changed it)",
                hint="Run 'codexsnap history' and 'codexsnap show' to see what happened.",
            )
