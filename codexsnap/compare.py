"""Comparing two states of a home (live or snapshot) into one DiffReport."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codexsnap.diff_report import DiffReport, FileDiff, diff_auth, diff_outside
from codexsnap.outside import auth_fingerprint, scan_outside
from codexsnap.report import diff_file
from codexsnap.roots import live_path
from codexsnap.scope import Scope
from codexsnap.scratch import scratch_folder
from codexsnap.sqlite_copy import backup_database
from codexsnap.store import AUTH_NAME, OUTSIDE_NAME, Snapshot, SnapshotStore
from codexsnap.store.manifest import FileRecord


@dataclass(frozen=True)
class HomeState:
    """One side of a comparison: its files, how to read them, and its notes."""

    records: dict[str, FileRecord]
    read: Callable[[FileRecord], bytes]
    outside: dict[str, list[int]] = field(default_factory=dict)
    auth: dict[str, Any] | None = None


class DamagedFile(Exception):
    """A stored file whose bytes are missing or do not hash to their id."""


def snapshot_state(store: SnapshotStore, snapshot: Snapshot) -> HomeState:
    """A snapshot as one side of a comparison."""
    outside_raw = store.extra(snapshot, OUTSIDE_NAME)
    auth_raw = store.extra(snapshot, AUTH_NAME)

    def read(record: FileRecord) -> bytes:
        data = store.read_verified(record.blob)
        if data is None:
            raise DamagedFile(record.relpath)
        return data

    return HomeState(
        store.records(snapshot),
        read,
        json.loads(outside_raw) if outside_raw else {},
        json.loads(auth_raw) if auth_raw else None,
    )


def read_live(home: Path, record: FileRecord, sqlite_home: Path | None = None) -> bytes:
    """A file's bytes as a snapshot would hold them (a consistent copy for databases)."""
    path = live_path(home, record.relpath, sqlite_home)
    if record.kind == "symlink":
        return os.fsencode(os.readlink(path))
    if record.kind == "sqlite":
        with scratch_folder() as scratch:
            copy = scratch / "copy.sqlite"
            backup_database(path, copy)
            return copy.read_bytes()
    return path.read_bytes()


def live_state(home: Path, scope: Scope, records: dict[str, FileRecord]) -> HomeState:
    """The home as it is now, given its scanned records."""
    return HomeState(
        records,
        lambda record: read_live(home, record, scope.sqlite_home),
        scan_outside(home, scope),
        auth_fingerprint(home),
    )


def compare(
    old: HomeState, new: HomeState, show_secrets: bool, paths: set[str] | None = None
) -> DiffReport:
    """Every file that differs, with content detail; ``paths`` limits which are read."""
    diffs: list[FileDiff] = []
    for path in sorted(old.records.keys() | new.records.keys()):
        before, after = old.records.get(path), new.records.get(path)
        if before is not None and after is not None and before.same_content(after):
            continue
        if paths is not None and path not in paths:
            continue
        mode_change = (
            (before.mode, after.mode) if before and after and before.mode != after.mode else None
        )
        kind = (after or before).kind  # type: ignore[union-attr]
        try:
            diffs.append(
                diff_file(
                    path,
                    old.read(before) if before else None,
                    new.read(after) if after else None,
                    kind,
                    show_secrets,
                    mode_change,
                )
            )
        except DamagedFile:
            # One damaged file must not hide what the others changed (per-file quarantine).
            status = "added" if before is None else "removed" if after is None else "modified"
            note = "its stored bytes are damaged: the content cannot be shown"
            diffs.append(FileDiff(path, status, "damaged", (), (note,)))
    return DiffReport(
        tuple(diffs), diff_outside(old.outside, new.outside), diff_auth(old.auth, new.auth)
    )
