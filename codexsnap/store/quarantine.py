"""Healing damaged blobs from the live home, and releasing the quarantine of healed files.

git's ``hash-object -w`` keeps an object file it already has, even a corrupt one, so taking
a snapshot of a file does not repair its stored copy: ``GitRepository.write_back`` replaces
it. Everything here runs with the store locked.
"""

from __future__ import annotations

import os
from pathlib import Path

from codexsnap.roots import live_path
from codexsnap.store.git import GitRepository
from codexsnap.store.manifest import FileRecord
from codexsnap.store.tables import Quarantine, load_quarantine, save_quarantine


def heal_from_home(
    git: GitRepository,
    home: Path,
    sqlite_home: Path | None,
    records: dict[str, FileRecord],
    blobs: set[str],
) -> list[str]:
    """Write back each of ``blobs`` that a live file of ``records`` still holds: the paths
    healed (each blob once)."""
    healed: list[str] = []
    if not blobs:
        return healed  # the usual case: no sort of every record on every snapshot
    for record in sorted(records.values(), key=lambda r: r.relpath):
        # A database's blob is a consistent copy, not the live file's bytes.
        if record.blob not in blobs or record.kind == "sqlite":
            continue
        path = live_path(home, record.relpath, sqlite_home)
        try:
            data = os.fsencode(os.readlink(path)) if record.kind == "symlink" else path.read_bytes()
        except OSError:
            continue
        if git.write_back(record.blob, data):
            healed.append(record.relpath)
            blobs = blobs - {record.blob}
    return healed


def release_healed(git: GitRepository, store_root: Path) -> list[str]:
    """Drop from the quarantine table every file whose blob reads back whole; the ids of
    the snapshots left with no damaged file (removed from the table)."""
    entries = load_quarantine(store_root)
    blobs = {b for e in entries.values() for b in e.files.values()}
    healed = {b for b in blobs if git.read_verified(b) is not None}
    if not healed:
        return []
    released: list[str] = []
    for snapshot_id, entry in list(entries.items()):
        if entry.whole or not healed & set(entry.files.values()):
            continue
        left = {p: b for p, b in entry.files.items() if b not in healed}
        if left:
            entries[snapshot_id] = Quarantine(entry.reason, left)
        else:
            del entries[snapshot_id]
            released.append(snapshot_id)
    save_quarantine(store_root, entries)
    return released
