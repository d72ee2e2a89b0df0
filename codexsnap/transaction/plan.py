"""What a write will do, planned before anything is written, and the report that shows it.

Every writing command plans here or hands its own planner to ``transact``: a plan is the
writes, the report the user confirms, and the names the snapshots around it get.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from codexsnap.compare import read_live
from codexsnap.diff_report import DiffReport, FileDiff
from codexsnap.errors import TamperedSnapshotError, UsageError
from codexsnap.report import diff_file, unread_diff
from codexsnap.roots import PROFILE_PREFIX, in_sqlite_root, live_path
from codexsnap.scope import Scope
from codexsnap.store import Snapshot, SnapshotStore
from codexsnap.store.manifest import FileRecord
from codexsnap.store.objects import blob_id
from codexsnap.store.trailers import encode

__all__ = ["Plan", "PlannedWrite", "Shown", "blob_id", "planned_report"]


@dataclass(frozen=True)
class PlannedWrite:
    """One file to replace or remove, and what it held when the plan was made."""

    relpath: str
    new: bytes | None  # None removes the file (unless ``blob`` names its content)
    mode: int | None = None
    kind: str = "file"  # "file", "symlink" or "sqlite"
    expected_blob: str | None = None  # git blob id at planning time; None: absent
    # False for files whose stored form is not their bytes (SQLite copies) or that snapshots
    # leave out (runtime files a recipe removes): the planning-time check cannot apply.
    check_expected: bool = True
    # The stored blob to write, read from the store only when this file is written: a
    # rollback of a thousand transcripts must not hold them all in memory (issue 15).
    blob: str | None = None

    @property
    def removes(self) -> bool:
        """True when the write removes the file."""
        return self.new is None and self.blob is None

    @property
    def new_blob(self) -> str | None:
        """The blob id the file will hold; None when it is removed."""
        return self.blob if self.new is None else blob_id(self.new)


@dataclass(frozen=True)
class Shown:
    """One planned change as the report shows it: the bytes on both sides of a write.

    ``unread``: the change's status when its bytes were not read (past the files a report
    shows, it only counts them).
    """

    path: str  # as the user names it (a link inside the home, not its target)
    old: bytes | None
    new: bytes | None
    kind: str = "file"
    mode_change: tuple[int, int] | None = None
    unread: str | None = None


# A restore's report compares this many files in full; the others are listed and counted.
SHOWN_FILES = 50


@dataclass(frozen=True)
class Plan:
    """The writes of one operation, the report the user confirms, and how to record it."""

    writes: tuple[PlannedWrite, ...]
    report: DiffReport
    scope: Scope
    name: str  # "fix remote-control", "rollback to 1a2b3c4d": the snapshots' messages
    trailers: dict[str, str] = field(default_factory=dict)
    target: Snapshot | None = None  # the snapshot restored (rollback, undo)
    warnings: tuple[str, ...] = ()  # risks the user went ahead with (--force)
    notes: tuple[str, ...] = ()  # what the user is told about the plan (the snapshot used)
    # Files whose exact bytes the store keeps before they are written (store/aside.py):
    # those snapshots hold only as a copy, or leave out (a database's -wal, logs_2.sqlite).
    aside: tuple[str, ...] = ()


def planned_report(shown: Iterable[Shown], show_secrets: bool) -> DiffReport:
    """The report of planned writes, the same for fix, rollback, undo and partial rollback."""
    compared: dict[tuple[object, ...], FileDiff] = {}
    diffs: list[FileDiff] = []
    for item in shown:
        if item.unread is not None:
            diffs.append(unread_diff(item.path, item.unread, item.kind))
            continue
        # The .bak usually gets the primary's exact edit: compare those bytes only once. A
        # JSON file's report does not depend on its name; any other file's may (its format
        # is guessed from it, identity files are masked), so only its own path shares it.
        named = "json" if item.path.endswith((".json", ".json.bak")) else item.path
        pair = (
            named,
            item.kind,
            item.mode_change,
            None if item.old is None else blob_id(item.old),
            None if item.new is None else blob_id(item.new),
        )
        if pair not in compared:
            compared[pair] = diff_file(
                item.path, item.old, item.new, item.kind, show_secrets, item.mode_change
            )
        diffs.append(replace(compared[pair], path=item.path))
    return DiffReport(tuple(diffs))


def within(relpath: str, prefixes: list[str]) -> bool:
    """True when ``relpath`` is one of ``prefixes`` or lies in one of those folders."""
    return any(p == "" or relpath == p or relpath.startswith(p + "/") for p in prefixes)


def plan_rollback(
    store: SnapshotStore,
    home: Path,
    scope: Scope,
    target: Snapshot,
    paths: Sequence[str],
    key: str | None,
    show_secrets: bool,
) -> Plan:
    """The writes (and their report) that restore ``target``, some ``paths`` or one ``key``."""
    # Paths now excluded by the scope are left alone: their current version would not
    # be in the "before" snapshot, so restoring them could not be undone.
    # Only the paths asked for are read and checked against the snapshot's tree.
    stored = store.records(target, under=list(paths) if paths else None)
    wanted = {p: r for p, r in stored.items() if scope.includes(p)}
    # Hash without storing: the store is written only under the lock, in run_operation.
    # A rollback of some paths of the home plans on those alone (the "before" snapshot
    # walks the whole home anyway): one transcript, not the 2,800 files around it.
    plain = paths and key is None and all(_plain_path(p) for p in paths)
    current = store.scan_home(home, scope, write=False, tops=list(paths) if plain else None)
    # A file the target's own scope left out is not "missing" from it: keep it.
    target_scope = store.scope_of(target) or scope
    current = {p: r for p, r in current.items() if p in wanted or target_scope.includes(p)}
    for path in paths:  # a typo must not read as "the home already matches"
        if not any(within(p, [path]) for p in (*wanted, *current)):
            raise UsageError(
                f"--path {path}: no such file or folder in snapshot {target.short_id} "
                "or in the home",
                hint=f"'codexsnap show {target.short_id}' lists the snapshot's files.",
            )
    if key is not None:
        from codexsnap.transaction.key_restore import key_restore  # it builds on this module

        writes = key_restore(store, home, wanted, current, paths[0], key, scope.sqlite_home)
        # Only the key is written: the report shows those bytes, not the whole file.
        shown: Iterable[Shown] = [
            Shown(w.relpath, live_path(home, w.relpath, scope.sqlite_home).read_bytes(), w.new)
            for w in writes
        ]
    else:
        # Select before reading: a damaged file outside ``paths`` must not stop the rest.
        selected = [*paths] if paths else [""]
        writes = plan_restore(
            store,
            {p: r for p, r in wanted.items() if within(p, selected)},
            {p: r for p, r in current.items() if within(p, selected)},
            target,
        )
        # A generator: each file's bytes are dropped once its part of the report is made.
        shown = (
            _shown_restore(
                store,
                home,
                w,
                current.get(w.relpath),
                wanted,
                scope.sqlite_home,
                n < SHOWN_FILES,
                target,
            )
            for n, w in enumerate(writes)
        )
    return Plan(
        tuple(writes),
        planned_report(shown, show_secrets),
        scope,
        f"rollback to {target.short_id}",
        encode({"Target": target.id, "Paths": list(paths), "Key": key}),
        target,
    )


def _plain_path(relpath: str) -> bool:
    """A path of the home itself: not all of it, nor the outside SQLite home's or the app
    profile's (walked apart from the home, roots.py)."""
    return relpath != "" and not in_sqlite_root(relpath) and not relpath.startswith(PROFILE_PREFIX)


def _shown_restore(
    store: SnapshotStore,
    home: Path,
    write: PlannedWrite,
    have: FileRecord | None,
    wanted: dict[str, FileRecord],
    sqlite_home: Path | None,
    read: bool,
    target: Snapshot,
) -> Shown:
    want = wanted.get(write.relpath)
    mode_change = (have.mode, want.mode) if have and want and have.mode != want.mode else None
    if not read:
        status = "added" if have is None else "removed" if want is None else "modified"
        return Shown(write.relpath, None, None, write.kind, mode_change, unread=status)
    # A database is shown as a consistent copy, as a snapshot holds it.
    old = read_live(home, have, sqlite_home) if have else None
    new = write.new
    if new is None and write.blob is not None:
        # Read for the report, so checked now: a damaged file shown refuses the plan here
        # (the others are checked as they are written, before any file of the home changes).
        new = store.read_verified(write.blob)
        if new is None:
            raise damaged_error(store, target, [write.relpath])
    return Shown(write.relpath, old, new, write.kind, mode_change)


def plan_restore(
    store: SnapshotStore,
    target: dict[str, FileRecord],
    current: dict[str, FileRecord],
    snapshot: Snapshot | None = None,
) -> list[PlannedWrite]:
    """The writes that turn ``current`` into ``target``: only files that differ.

    A stored database is read now and checked against its id (rollback compares its
    migrations with the live one's); any other stored file is read once, when it is written,
    and checked then, before any file of the home changes (staging.py). One that is missing
    or damaged refuses the whole plan, naming it (a file the home already holds needs no
    write, so its damage does not matter here).
    """
    writes: list[PlannedWrite] = []
    damaged: list[str] = []
    for path in sorted(target.keys() | current.keys()):
        want, have = target.get(path), current.get(path)
        if want is not None and have is not None and want.same_content(have):
            continue
        eager = want is not None and want.kind == "sqlite"
        data = store.read_verified(want.blob) if want is not None and eager else None
        if eager and data is None:
            damaged.append(path)
            continue
        writes.append(
            PlannedWrite(
                path,
                data,
                want.mode if want else None,
                (want or have).kind,  # type: ignore[union-attr]
                have.blob if have else None,
                blob=want.blob if want and not eager else None,
            )
        )
    if damaged:
        raise damaged_error(store, snapshot, damaged)
    return writes


def damaged_error(
    store: SnapshotStore, snapshot: Snapshot | None, paths: Sequence[str]
) -> TamperedSnapshotError:
    """The refusal of a restore that needs stored files whose bytes are damaged."""
    names = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
    which = f"snapshot {snapshot.short_id}" if snapshot else "the snapshot"
    return TamperedSnapshotError(
        f"{which} in the store {store.root} cannot restore {names}: the stored bytes are "
        "damaged (missing or not matching their id); nothing was changed",
        hint="Its other files still restore (rollback ID --path FILE, or --to-dir DIR); "
        "'codexsnap check --repair' heals a file the Codex home still holds.",
    )
