"""What a write will do, planned before anything is written, and the report that shows it.

Every writing command plans here or hands its own planner to ``transact``: a plan is the
writes, the report the user confirms, and the names the snapshots around it get.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from codexsnap.compare import read_live
from codexsnap.diff_report import DiffReport, FileDiff
from codexsnap.errors import StateFileInvalidError, TamperedSnapshotError, UsageError
from codexsnap.json_edit import (
    add_top_level_member,
    remove_top_level_keys,
    replace_top_level_value,
    top_level_value,
)
from codexsnap.report import diff_file, unread_diff
from codexsnap.roots import live_path
from codexsnap.scope import Scope
from codexsnap.state_file import GLOBAL_STATE, GLOBAL_STATE_BAK, edit_state
from codexsnap.store import Snapshot, SnapshotStore
from codexsnap.store.manifest import FileRecord
from codexsnap.store.objects import blob_id
from codexsnap.store.trailers import encode

__all__ = ["Plan", "PlannedWrite", "Shown", "blob_id", "planned_report"]

_ABSENT = object()


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
    wanted = {p: r for p, r in store.records(target).items() if scope.includes(p)}
    # Hash without storing: the store is written only under the lock, in run_operation.
    current = store.scan_home(home, scope, write=False)
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
                store, home, w, current.get(w.relpath), wanted, scope.sqlite_home, n < SHOWN_FILES
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


def _shown_restore(
    store: SnapshotStore,
    home: Path,
    write: PlannedWrite,
    have: FileRecord | None,
    wanted: dict[str, FileRecord],
    sqlite_home: Path | None,
    read: bool,
) -> Shown:
    want = wanted.get(write.relpath)
    mode_change = (have.mode, want.mode) if have and want and have.mode != want.mode else None
    if not read:
        status = "added" if have is None else "removed" if want is None else "modified"
        return Shown(write.relpath, None, None, write.kind, mode_change, unread=status)
    # A database is shown as a consistent copy, as a snapshot holds it.
    old = read_live(home, have, sqlite_home) if have else None
    new = write.new if write.new is not None or write.blob is None else store.read_blob(write.blob)
    return Shown(write.relpath, old, new, write.kind, mode_change)


def plan_restore(
    store: SnapshotStore,
    target: dict[str, FileRecord],
    current: dict[str, FileRecord],
    snapshot: Snapshot | None = None,
) -> list[PlannedWrite]:
    """The writes that turn ``current`` into ``target``: only files that differ.

    Every stored file it would write is read and checked against its id; one that is
    missing or damaged refuses the whole plan, naming it (a file the home already holds
    needs no write, so its damage does not matter here).
    """
    writes: list[PlannedWrite] = []
    damaged: list[str] = []
    for path in sorted(target.keys() | current.keys()):
        want, have = target.get(path), current.get(path)
        if want is not None and have is not None and want.same_content(have):
            continue
        # Each stored file is checked now (one at a time, then dropped); a database's bytes
        # are kept (rollback compares its migrations with the live one's), any other file
        # is read again when it is written.
        data = store.read_verified(want.blob) if want else None
        if want is not None and data is None:
            damaged.append(path)
            continue
        eager = want is not None and want.kind == "sqlite"
        writes.append(
            PlannedWrite(
                path,
                data if eager else None,
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


def _nested(value: Any, keys: list[str]) -> Any:
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return _ABSENT
        value = value[key]
    return value


def key_restore(
    store: SnapshotStore,
    home: Path,
    target: dict[str, FileRecord],
    current: dict[str, FileRecord],
    relpath: str,
    key_path: str,
    sqlite_home: Path | None = None,
) -> list[PlannedWrite]:
    """The writes that give ``relpath`` the snapshot's value at ``key_path`` (a/b for nested)."""
    want, have = target.get(relpath), current.get(relpath)
    if want is None or have is None:
        missing = "the snapshot" if want is None else "the home"
        raise StateFileInvalidError(
            f"{relpath} is not in {missing}: --key needs the file on both sides",
            hint="Restore the whole file with --path instead.",
        )
    keys = [k for k in key_path.split("/") if k]
    if not keys:
        raise UsageError("--key is empty", hint="For example: --key local-projects")
    stored = store.read_verified(want.blob)
    if stored is None:
        raise damaged_error(store, None, [relpath])
    old_text = stored.decode("utf-8", "replace")
    live = live_path(home, relpath, sqlite_home).read_bytes()
    _check_key(relpath, key_path, keys, old_text, live)

    def change(text: str) -> str:
        top = keys[0]
        wanted_top = top_level_value(old_text, top) if top in _top_keys(old_text) else _ABSENT
        present = top in _top_keys(text)
        if len(keys) == 1:
            new_top = wanted_top
        else:
            new_top = copy.deepcopy(top_level_value(text, top)) if present else {}
            wanted = _nested(wanted_top, keys[1:]) if wanted_top is not _ABSENT else _ABSENT
            parent = _nested(new_top, keys[1:-1]) if len(keys) > 2 else new_top
            if not isinstance(parent, dict):
                raise UsageError(
                    f"--key {key_path}: {'/'.join(keys[:-1])} is not an object in the home's "
                    f"{relpath}",
                    hint="Restore the nearest key that is an object, or the whole file.",
                )
            if wanted is _ABSENT:
                parent.pop(keys[-1], None)
            else:
                parent[keys[-1]] = copy.deepcopy(wanted)
        if new_top is _ABSENT:
            return remove_top_level_keys(text, {top})
        if present:
            return replace_top_level_value(text, top, new_top)
        return add_top_level_member(text, top, new_top)

    new = edit_state(relpath, live, change)
    if new == live:
        return []
    writes = [PlannedWrite(relpath, new, expected_blob=blob_id(live))]
    bak = current.get(GLOBAL_STATE_BAK)
    if relpath == GLOBAL_STATE and bak is not None:
        # The app keeps .bak as a byte-identical mirror of the primary (#43393).
        writes.append(PlannedWrite(GLOBAL_STATE_BAK, new, expected_blob=bak.blob))
    return writes


def _check_key(relpath: str, key_path: str, keys: list[str], old_text: str, live: bytes) -> None:
    """A --key that neither side has is a typo, not "nothing to do"."""
    found = []
    for text in (old_text, live.decode("utf-8", "replace")):
        try:
            found.append(_nested(json.loads(text), keys) is not _ABSENT)
        except ValueError:
            return  # not JSON: edit_state says so, with the file's name
    if not any(found):
        raise UsageError(
            f"--key {key_path}: no such key in {relpath}, in the snapshot or in the home",
            hint="Keys are top-level names, a/b for nested ones; see 'codexsnap diff'.",
        )


def _top_keys(text: str) -> set[str]:
    data = json.loads(text)
    return set(data) if isinstance(data, dict) else set()
