"""Hashing the Codex home: a stat cache, so only changed files are read again; SQLite
databases are hashed from a consistent copy, never from the live file."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sqlite3
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codexsnap.atomic_io import atomic_write
from codexsnap.errors import StateFileInvalidError
from codexsnap.progress import report as report_progress
from codexsnap.roots import live_path, walk_roots
from codexsnap.scope import HomeEntry, Scope, walk_scope
from codexsnap.scratch import make_scratch_folder, remove_scratch_folder
from codexsnap.sqlite_copy import backup_database, is_sqlite_file, sidecars
from codexsnap.store.git import GitRepository
from codexsnap.store.index import home_id
from codexsnap.store.manifest import FileRecord

# A file modified this close to the scan that hashed it may change again within the
# filesystem's timestamp granularity (1-2 s on HFS+, FAT, some network mounts) without its
# stat changing: such entries are not cached, so the next scan hashes them again (as git does).
_RACY_WINDOW_NS = 2_000_000_000
_KINDS = ("file", "symlink", "sqlite")


def cache_file(store_root: Path, home: Path) -> Path:
    """The stat cache of one home."""
    return store_root / "cache" / f"{home_id(home)}.json"


@dataclass(frozen=True)
class Scanned:
    """One walk of the home: its records, what it saw outside the scope, the blobs it wrote."""

    records: dict[str, FileRecord]
    outside: dict[str, list[int]] = field(default_factory=dict)
    fresh: frozenset[str] = frozenset()


def scan_home(
    git: GitRepository,
    home: Path,
    scope: Scope,
    write: bool = True,
    outside: dict[str, list[int]] | None = None,
    fresh: set[str] | None = None,
    tops: list[str] | None = None,
) -> dict[str, FileRecord]:
    """Hash every file in scope, re-reading only files whose stat changed.

    With ``write`` False nothing in the store changes (dry runs): blobs are hashed but not
    stored and the stat cache is not updated. ``outside`` receives what the same walk saw
    of the files left out (outside.py), ``fresh`` the ids of the blobs it hashed. ``tops``
    (only without ``write``): just the files at or under those paths of the home, as the
    whole walk would find them (a rollback of one transcript plans on that one file).
    """
    cache_path = cache_file(git.root, home)
    cache = _load_cache(cache_path)
    new_cache: dict[str, list[Any]] = {}
    if tops is None:
        entries: Iterable[HomeEntry] = walk_roots(home, scope, outside)
    else:
        assert not write, "a partial walk must not replace the stat cache"
        entries = (e for top in _outermost(tops) for e in _entries_under(home, scope, top))
    records = _hash_entries(git, entries, cache, new_cache, write, fresh)
    if write and (new_cache != cache or not cache_path.exists()):
        _save_cache(cache_path, new_cache)
    return records


def rescan_paths(
    git: GitRepository,
    home: Path,
    scope: Scope,
    records: dict[str, FileRecord],
    relpaths: Iterable[str],
    written: dict[str, list[Any]] | None = None,
) -> dict[str, FileRecord]:
    """``records`` with only ``relpaths`` read again from the home (the files a run wrote).

    An operation holds the store's lock and refuses to run while Codex does, so the rest of
    the home is as its "before" scan found it: walking it again would only cost time.
    ``written``: stat cache entries of files the run wrote itself (their stat just after
    the rename, and the blob it checked): one whose stat has not moved since is not read
    again. Like any entry that new, they are not kept in the stat cache (the racy window).
    """
    wanted = sorted(set(relpaths))
    entries = [e for e in (_entry(home, scope, p) for p in wanted) if e is not None]
    cache_path = cache_file(git.root, home)
    cache = _load_cache(cache_path)
    new_cache: dict[str, list[Any]] = {}
    written = written or {}
    fresh = _hash_entries(git, entries, {**cache, **written}, new_cache, True)
    now_ns = _now_ns()
    for relpath, entry in written.items():
        # Taken as it was noted, so never checked against the racy window: check it here.
        if new_cache.get(relpath) is entry and now_ns - entry[1] <= _RACY_WINDOW_NS:
            del new_cache[relpath]
    updated = {p: r for p, r in records.items() if p not in wanted}
    updated.update(fresh)
    kept = {p: v for p, v in cache.items() if p not in wanted}
    kept.update(new_cache)
    if kept != cache:
        _save_cache(cache_path, kept)
    return dict(sorted(updated.items()))


def _outermost(tops: list[str]) -> list[str]:
    """``tops`` without those inside another one (each file walked once)."""
    ordered = sorted(set(tops))
    kept: list[str] = []
    for top in ordered:
        if not any(top.startswith(k + "/") for k in kept):
            kept.append(top)
    return kept


def _entries_under(home: Path, scope: Scope, top: str) -> Iterable[HomeEntry]:
    """What the whole walk finds at or under ``top`` (a home path): nothing when a folder on
    the way is left out of scope, or is a link or a file (the walk never enters those)."""
    parts = top.split("/")
    for depth in range(1, len(parts)):
        folder = "/".join(parts[:depth])
        if scope.excluded_by(folder) or scope.excluded_by(folder + "/"):
            return []
        try:
            if not stat.S_ISDIR(os.lstat(home / folder).st_mode):
                return []
        except (FileNotFoundError, NotADirectoryError):
            return []
    try:
        st = os.lstat(home / top)
    except (FileNotFoundError, NotADirectoryError):
        return []
    if not stat.S_ISDIR(st.st_mode):
        entry = _entry(home, scope, top)
        return [entry] if entry is not None else []
    if scope.excluded_by(top) or scope.excluded_by(top + "/"):
        return []
    return walk_scope(home, scope, top=top)


def _entry(home: Path, scope: Scope, relpath: str) -> HomeEntry | None:
    """The walk's entry for one path, or None when it is gone or not in scope."""
    if not scope.includes(relpath):
        return None
    path = live_path(home, relpath, scope.sqlite_home)
    try:
        st = path.lstat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
        return None
    return HomeEntry(
        relpath=relpath,
        where=str(path),
        is_symlink=stat.S_ISLNK(st.st_mode),
        mode=stat.S_IMODE(st.st_mode),
        size=st.st_size,
        mtime_ns=st.st_mtime_ns,
        inode=st.st_ino,
        ctime_ns=st.st_ctime_ns,
    )


def _hash_entries(
    git: GitRepository,
    entries: Iterable[HomeEntry],
    cache: dict[str, list[Any]],
    new_cache: dict[str, list[Any]],
    write: bool,
    fresh: set[str] | None = None,
) -> dict[str, FileRecord]:
    """Records of ``entries``: from the cache when their stat is unchanged, else hashed."""
    records: dict[str, FileRecord] = {}
    to_hash: list[tuple[str, Path, int, int, str, list[Any]]] = []
    scratch = make_scratch_folder()  # in the store: a killed run leaves no copy outside
    now_ns = _now_ns()
    try:
        for count, entry in enumerate(entries, start=1):
            if count % 1000 == 0:
                report_progress(count, 0, "Scanning the Codex home")
            basic: list[Any] = [
                entry.size,
                entry.mtime_ns,
                entry.inode,
                entry.ctime_ns,
                entry.mode,
            ]
            cached = cache.get(entry.relpath)
            if cached and cached[:5] == basic and cached[5] in _KINDS:
                # Known file: its kind is in the cache, no need to open it to find out.
                kind = cached[5]
            else:
                kind = "symlink" if entry.is_symlink else "file"
                if kind == "file" and is_sqlite_file(entry.path):
                    kind = "sqlite"
            key: list[Any] = [*basic, kind]
            if kind == "sqlite":
                key += _sidecar_key(entry.path)
            if cached and cached[:-2] == key:
                # The stored size, not the file's: a database is stored as its copy.
                size, blob = cached[-2], cached[-1]
                records[entry.relpath] = FileRecord(entry.relpath, blob, entry.mode, size, kind)
                new_cache[entry.relpath] = cached
                continue
            source = entry.path
            if kind == "symlink":
                source = scratch / f"link-{len(to_hash)}"
                try:
                    target = os.readlink(entry.path)
                except (FileNotFoundError, NotADirectoryError):
                    continue  # gone since the walk: it is not part of this snapshot
                except OSError as exc:
                    if exc.errno != errno.EINVAL:
                        raise
                    continue  # a file or folder in its place now: the next walk holds it
                source.write_bytes(os.fsencode(target))
            elif kind == "sqlite":
                source = scratch / f"db-{len(to_hash)}.sqlite"
                if not _backup_or_fail(entry.path, source):
                    # Damaged beyond SQLite's reading: keep its bytes as they are, so a
                    # rollback (the likely cure) is not blocked by the damage itself.
                    kind, source = "file", entry.path
                    key = [*basic, kind]
            to_hash.append((entry.relpath, source, entry.mode, entry.size, kind, key))
        report_progress(len(records), len(records) + len(to_hash), "Reading changed files")
        blobs = git.hash_files([item[1] for item in to_hash], write)
        if fresh is not None and write:
            fresh.update(b for b in blobs if b)
        total = len(records) + len(to_hash)
        report_progress(total, total, "Reading changed files")
        # The manifest describes the bytes stored, not the walk's stat: a file Codex appends
        # to (history.jsonl) may have grown between the two, and check would call it damage.
        stored = git.object_sizes(sorted({b for b in blobs if b})) if write else {}
        for (relpath, source, mode, size, kind, key), blob in zip(to_hash, blobs, strict=True):
            if blob is None:
                continue  # gone since the walk: it is not part of this snapshot
            walked = size
            if kind == "sqlite":
                size = walked = source.stat().st_size
            elif kind == "file":
                held = stored.get(blob)  # 0 for an emptied file: a size, not a missing one
                size = held if held is not None else size
            records[relpath] = FileRecord(relpath, blob, mode, size, kind)
            if now_ns - key[1] > _RACY_WINDOW_NS and size == walked:
                new_cache[relpath] = [*key, size, blob]
    finally:
        remove_scratch_folder(scratch)
    return records


def _sidecar_key(path: Path) -> list[int]:
    key: list[int] = []
    for sidecar in sidecars(path)[:1]:
        try:
            st = sidecar.stat()
            key += [st.st_size, st.st_mtime_ns]
        except FileNotFoundError:
            key += [-1, -1]
    return key


def _backup_or_fail(source: Path, destination: Path) -> bool:
    """Back up a database; False when it is too damaged to read (a busy one is an error)."""
    try:
        backup_database(source, destination)
        return True
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            return False
        raise StateFileInvalidError(
            f"cannot copy the SQLite database {source}: {exc}",
            hint="If Codex is writing to it, quit Codex and try again.",
        ) from None
    except sqlite3.DatabaseError:
        return False


def _now_ns() -> int:
    return time.time_ns()


def _load_cache(path: Path) -> dict[str, list[Any]]:
    try:
        data = json.loads(path.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _save_cache(path: Path, cache: dict[str, list[Any]]) -> None:
    try:
        atomic_write(path, json.dumps(cache, separators=(",", ":")).encode(), mode=0o600)
    except OSError:
        # Only a speed-up: without it the next snapshot re-reads every file. A stale cache
        # would be worse than none, so drop it.
        with contextlib.suppress(OSError):
            path.unlink()
