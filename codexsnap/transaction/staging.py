"""Writing many files into the home at once: every temporary file first, then the renames.

A rollback of 2,500 transcripts wrote, fsynced and renamed them one by one, reading each
stored blob twice (once to check it against its id while planning, once to write it) and
syncing each file's folder after its rename (issue 15). Here each blob is read once and
checked as its temporary file is written; nothing in the home is renamed or removed until
every temporary file is written and synced, so a damaged blob, a full disk or Ctrl-C while
staging leaves the home as it was (the temporary files removed); the renames follow in write
order, and each folder is synced once at the end, before the "after" snapshot records them.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codexsnap.atomic_io import (
    fsync_folder,
    remove_emptied_folder,
    rename_temp,
    temp_path_for,
    write_temp,
)
from codexsnap.faults import fault_point
from codexsnap.progress import report as report_progress
from codexsnap.roots import split_root
from codexsnap.sqlite_copy import journal_of, sidecars
from codexsnap.transaction.plan import PlannedWrite

# Reads a stored blob checked against its id: None when it is missing or damaged.
ReadVerified = Callable[[str], "bytes | None"]
# The refusal of a restore whose stored files are damaged, naming them.
Damaged = Callable[[list[str]], BaseException]


@dataclass
class Staged:
    """The temporary files written for a plan, and what is left to do in the home."""

    # relpath: (temp, mode), the mode None for a link
    temps: dict[str, tuple[Path, int | None]] = field(default_factory=dict)
    targets: dict[str, Path] = field(default_factory=dict)  # relpath: the path it replaces
    # Writes whose folder is still a file (or a link) that a removal clears first: written
    # in place once the removals are done (write_one), their blob checked already.
    later: set[str] = field(default_factory=set)
    created: list[Path] = field(default_factory=list)  # folders staging made
    folders: set[Path] = field(default_factory=set)  # folders found (or made) real folders
    current: str = ""  # the write being staged: the one a failure names
    # relpath: its stat cache entry once renamed (store/scan.py's form), for the "after" scan
    written: dict[str, list[Any]] = field(default_factory=dict)

    def discard(self) -> None:
        """Remove every temporary file not yet renamed, and the folders staging made."""
        for temp, _ in self.temps.values():
            with contextlib.suppress(OSError):
                os.unlink(temp)
        self.temps.clear()
        for folder in reversed(self.created):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when still empty
        self.created.clear()


def stage(
    staged: Staged,
    writes: list[PlannedWrite],
    target_of: Callable[[PlannedWrite], Path],
    home: Path,
    sqlite_home: Path | None,
    read_verified: ReadVerified,
    damaged: Damaged,
) -> None:
    """Write every file of ``writes`` (in write order) to a synced temporary file beside it,
    into ``staged``.

    ``target_of`` checks a write's path (no link on the way) and gives it. A stored blob is
    read once and checked against its id; any that is missing or damaged refuses the whole
    plan with ``damaged``, naming them all, once every temporary file is removed again. Any
    failure, Ctrl-C included, leaves no temporary file behind.
    """
    bad: list[str] = []
    try:
        for count, write in enumerate(writes, start=1):
            staged.current = write.relpath
            target = staged.targets[write.relpath] = target_of(write)
            if write.removes:
                continue
            data = write.new
            if data is None:
                assert write.blob is not None, write.relpath
                data = read_verified(write.blob)
                if data is None:
                    bad.append(write.relpath)
                    continue
            if bad:
                continue  # refused already: the rest is only checked, to name every file
            if target.parent not in staged.folders:
                if not _folder_for(home, write.relpath, sqlite_home, staged.created):
                    staged.later.add(write.relpath)
                    continue
                staged.folders.add(target.parent)
            if write.kind == "symlink":
                temp = temp_path_for(target)
                os.symlink(os.fsdecode(data), temp)
                staged.temps[write.relpath] = (temp, None)
            else:
                # No setuid/setgid/sticky bits from a snapshot: nothing in a Codex home needs them.
                mode_given = None if write.mode is None else write.mode & 0o777
                if mode_given is None and _is_folder(target):
                    mode_given = 0o600  # a folder becoming a file: a new, private file
                staged.temps[write.relpath] = write_temp(target, data, mode_given)
            del data  # before the next file is read
            fault_point("staged")
            report_progress(count, len(writes), "Writing")
        if bad:
            raise damaged(bad)
    except BaseException:
        staged.discard()
        raise


def rename_one(staged: Staged, write: PlannedWrite, folders: set[Path]) -> None:
    """Put one staged write in place (or remove its file); its folder is synced later.

    What it put there is noted in ``staged.written`` as the stat cache notes a file (its
    stat just after the rename, its checked blob): the "after" snapshot need not read back
    a file whose stat has not moved since (store/scan.py).
    """
    target = staged.targets[write.relpath]
    if write.kind == "sqlite":
        # Stale -wal frames would be replayed onto the restored database and corrupt it.
        for sidecar in (*sidecars(target), journal_of(target)):
            _unlink(sidecar, folders)
    if write.removes:
        _unlink(target, folders)
        return
    if _is_folder(target):
        # A folder becomes a file: its files in scope were removed first; a folder that still
        # holds something (caches, sessions) is not ours to delete, and rmdir says so.
        remove_emptied_folder(target)
    temp, mode = staged.temps.pop(write.relpath)
    rename_temp(temp, target, mode)
    folders.add(target.parent)
    # Only a blob read from the store: new bytes (a fix's) must still be stored, and a
    # database's snapshot is a copy, never its bytes.
    if write.new is None and write.blob is not None and write.kind != "sqlite":
        st = os.lstat(target)
        staged.written[write.relpath] = [
            st.st_size,
            st.st_mtime_ns,
            st.st_ino,
            st.st_ctime_ns,
            stat.S_IMODE(st.st_mode),
            write.kind,
            st.st_size,
            write.blob,
        ]


def sync_folders(folders: set[Path]) -> None:
    """Make every rename and removal durable: each folder once, deepest first."""
    fault_point("before-folder-sync")
    for folder in sorted(folders, key=lambda f: (-len(f.parts), str(f))):
        fsync_folder(folder)


def _unlink(path: Path, folders: set[Path]) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
        folders.add(path.parent)


def _is_folder(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return False


def _folder_for(home: Path, relpath: str, sqlite_home: Path | None, created: list[Path]) -> bool:
    """Make the folders ``relpath`` goes in; False when one of them is a file or a link now
    (a removal makes room first), so the write waits for the removals."""
    root, inner = split_root(home, relpath, sqlite_home)
    current = root
    for part in Path(inner).parts[:-1]:
        current = current / part
        try:
            mode = os.lstat(current).st_mode
        except FileNotFoundError:
            current.mkdir()
            created.append(current)
            continue
        if not stat.S_ISDIR(mode):
            return False
    return True
