"""Atomic file changes: a crash leaves the old file or the new one, never a mix."""

from __future__ import annotations

import contextlib
import os
import stat
import time
from pathlib import Path

from codexsnap.faults import fault_point

TEMP_SUFFIX = ".codexsnap-tmp"
# Windows refuses a rename while another process (an antivirus, the app) holds the file
# open (openai/codex#41578); a short retry usually gets through.
_REPLACE_ATTEMPTS = 5
_REPLACE_DELAY_S = 0.1


_NAME_MAX = 255  # bytes in one file name on ext4, APFS, NTFS (UTF-16 units there) and most others
_TEMP_EXTRA = len(f"..{'0' * 8}{TEMP_SUFFIX}")


def _temp_prefix(name: str) -> str:
    """The part of ``name`` a temporary name carries: all of it, unless that is too long.

    A file named near the limit (a 250-byte name restores fine) must not fail only because
    its temporary name is 23 bytes longer: such names are cut, on a character boundary.
    """
    room = _NAME_MAX - _TEMP_EXTRA
    encoded = os.fsencode(name)
    if len(encoded) <= room:
        return name
    cut = encoded[:room]
    while cut:
        try:
            return os.fsdecode(cut.decode("utf-8").encode("utf-8"))
        except UnicodeDecodeError:
            cut = cut[:-1]
    return os.fsdecode(encoded[:room])


def temp_path_for(path: Path) -> Path:
    """A fresh temporary name in the same folder, so the final rename stays atomic."""
    return path.with_name(f".{_temp_prefix(path.name)}.{os.urandom(4).hex()}{TEMP_SUFFIX}")


def leftover_temps(path: Path) -> list[Path]:
    """Temporary files a killed ``atomic_write`` of ``path`` may have left beside it."""
    prefix = f".{_temp_prefix(path.name)}."
    try:
        names = os.listdir(path.parent)
    except OSError:
        return []
    return sorted(
        path.parent / n
        for n in names
        if n.startswith(prefix)
        and n.endswith(TEMP_SUFFIX)
        and len(n) == len(prefix) + 8 + len(TEMP_SUFFIX)
    )


def fsync_folder(folder: Path) -> None:
    """Make a rename or unlink durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _replace(source: Path, target: Path) -> None:
    for attempt in range(_REPLACE_ATTEMPTS):
        try:
            fault_point("replace")
            os.replace(source, target)
            return
        except PermissionError:
            if attempt == _REPLACE_ATTEMPTS - 1:
                raise
            time.sleep(_REPLACE_DELAY_S)


def _write_all(fd: int, view: memoryview) -> None:
    while view:
        written = os.write(fd, view)
        view = view[written:]


def atomic_write(path: Path, data: bytes, mode: int | None = None) -> None:
    """Replace ``path`` with ``data``: temp file in the same folder, fsync, rename, fsync folder.

    The mode is kept from the file being replaced unless given. ``path`` itself is replaced,
    never a file a link points to: callers resolve links first when they mean to.
    """
    temp, mode = write_temp(path, data, mode)
    rename_temp(temp, path, mode)
    fsync_folder(path.parent)


def write_temp(path: Path, data: bytes, mode: int | None = None) -> tuple[Path, int]:
    """The first half of ``atomic_write``: ``data`` in a synced temporary file beside ``path``.

    Returns the temporary file and the mode it was given (kept from ``path`` unless given);
    ``rename_temp`` puts it in place. On any failure the temporary file is gone.
    """
    if mode is None:
        try:
            mode = stat.S_IMODE(os.lstat(path).st_mode)
        except FileNotFoundError:
            mode = 0o600  # a new file in the Codex home is private until someone says otherwise
    temp = temp_path_for(path)
    # Created 0600 so that no other user can read the content while it is being written.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    try:
        try:
            view = memoryview(data)
            half = len(view) // 2
            _write_all(fd, view[:half])
            # A kill here leaves half the bytes written: only the temporary file may hold them.
            fault_point("half-written")
            _write_all(fd, view[half:])
            fault_point("atomic-write")
            os.fsync(fd)
            if hasattr(os, "fchmod"):
                os.fchmod(fd, mode)
        finally:
            os.close(fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return temp, mode


def rename_temp(temp: Path, path: Path, mode: int | None) -> None:
    """The second half of ``atomic_write``: the synced ``temp`` renamed over ``path``.

    ``mode`` is set after the rename where files cannot be changed through an open handle
    (None for a link). The folder is not synced here: the caller does, once per folder for
    many renames. On failure the temporary file is gone and ``path`` untouched.
    """
    try:
        fault_point("before-rename")
        _replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    if mode is not None and not hasattr(os, "fchmod"):
        os.chmod(path, mode)


def atomic_symlink(path: Path, target: str) -> None:
    """Replace ``path`` with a symbolic link to ``target`` in one rename."""
    temp = temp_path_for(path)
    os.symlink(target, temp)
    try:
        _replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    fsync_folder(path.parent)


def remove_file(path: Path) -> None:
    """Remove a file or link durably; a file already gone is fine."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    fsync_folder(path.parent)


def remove_emptied_folder(path: Path) -> None:
    """Remove the folder ``path``, and the folders under it, when none holds an entry.

    A folder that becomes a file: its files in scope were removed first, but the folders
    they sat in stay (a snapshot holds no empty folder, so none of them is written back).
    Anything else still inside (caches, sessions: not ours to delete) stops it, as rmdir
    says (OSError: Directory not empty); only empty folders may have gone by then.
    """
    for folder, _, files in os.walk(path, topdown=False):  # never into a linked folder
        if files:
            break  # the folders above cannot go either: the top one's rmdir says why
        if folder != os.fspath(path):
            os.rmdir(folder)  # a link to a folder left inside refuses here, as it should
    path.rmdir()
