"""What must hold before the home is written: Codex quit, databases idle, the plan still true."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from codexsnap.compare import read_live
from codexsnap.errors import (
    CodexRunningError,
    CodexsnapError,
    HomeWriteError,
    TamperedSnapshotError,
)
from codexsnap.processes import find_codex_processes
from codexsnap.roots import live_path
from codexsnap.scope import Scope
from codexsnap.sqlite_copy import is_busy
from codexsnap.store import Snapshot, SnapshotStore
from codexsnap.store.manifest import FileRecord
from codexsnap.transaction.plan import PlannedWrite


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


def running_warning() -> str | None:
    """What --force goes past when Codex runs: said on stderr, never silently."""
    running = find_codex_processes()
    if not running:
        return None
    names = ", ".join(f"{p.name} (pid {p.pid})" for p in running)
    return (
        f"Codex is running ({names}): --force goes ahead, but the app may write its old "
        "state back when it quits and undo this change; quit it, then run 'codexsnap doctor'."
    )


def refuse_busy_databases(
    home: Path, writes: Iterable[PlannedWrite], sqlite_home: Path | None = None
) -> None:
    """A database another process is writing to would be corrupted by replacing it."""
    for write in writes:
        if write.kind == "sqlite" and is_busy(live_path(home, write.relpath, sqlite_home)):
            raise HomeWriteError(
                f"{write.relpath} is in use: another process holds a write transaction on it; "
                "nothing was changed",
                hint="Quit Codex (and any 'codex app-server'), then run the command again.",
            )


def check_unchanged(writes: Iterable[PlannedWrite], records: dict[str, FileRecord]) -> None:
    """Refuse when a file changed between the plan the user saw and the "before" snapshot."""
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


def ensure_way_back(
    store: SnapshotStore,
    home: Path,
    scope: Scope,
    before: Snapshot,
    writes: list[PlannedWrite],
    records: dict[str, FileRecord],
    written: set[str] | frozenset[str] = frozenset(),
) -> None:
    """Every file the run will overwrite or remove reads back whole from ``before``, the
    way back (put back on failure, ``undo``), before anything is written.

    The snapshot reuses blobs already in the store, and ``git hash-object -w`` keeps an
    existing object even when it is corrupt: a damaged one is written anew from the live
    file (the snapshot was just taken from it: the same bytes), or the run is refused,
    so a fix never prints a ``To undo:`` line the store would refuse. ``written``: blobs
    the store did not have before that snapshot, so it wrote them from the live files
    just now; only the reused ones can be damaged, and only those are read back (a
    rollback of 2,500 transcripts read every one of them, issue 15).
    """
    needed = {
        w.relpath: records[w.relpath]
        for w in writes
        if w.relpath in records and records[w.relpath].blob not in written
    }
    damaged = {p: r for p, r in needed.items() if store.read_verified(r.blob) is None}
    if not damaged:
        return
    healed = False
    for record in damaged.values():
        try:
            data = read_live(home, record, scope.sqlite_home)
        except (OSError, CodexsnapError):
            continue
        healed = store.heal(record.blob, data) or healed
    if healed:
        store.release_healed()
    left = sorted(p for p, r in damaged.items() if store.read_verified(r.blob) is None)
    if left:
        names = ", ".join(left[:5]) + (f" and {len(left) - 5} more" if len(left) > 5 else "")
        raise TamperedSnapshotError(
            f"the snapshot before this run ({before.short_id}) cannot hold {names}: the "
            "store's object for it is damaged and could not be written anew, so the run "
            "could not be undone; nothing was changed",
            hint="Run 'codexsnap check' to see the damage; free space or fix the store "
            "folder's permissions, then run the command again.",
        )
