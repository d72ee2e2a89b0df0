"""Loose git objects written by codexsnap itself, durable before any ref names them.

A snapshot of a one-file change makes a handful of small objects (the trees on that file's
path, the manifest and the notes that changed, the commit). A git process for them costs
more than writing them: here each is zlib-compressed into a temporary file in its
``objects/xx`` folder, fsynced, renamed to its name, and the folder fsynced. That is what
git's ``core.fsync=committed`` (the store's setting) does for a loose object, plus the
folder's fsync git leaves out, so a crash can lose neither the file nor its name once the
ref that follows (``update-ref``, fsynced as ``reference``) points at it.

They do not stay loose for good: once ``loose_estimate`` reaches ``LOOSE_LIMIT``, the next
locked run moves every loose object into one pack first (``git_pack.pack_loose``).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO

from codexsnap.atomic_io import fsync_folder
from codexsnap.errors import StoreWriteError
from codexsnap.faults import fault_point
from codexsnap.store.objects import blob_id, object_id

# What git writes in this store (core.sharedRepository=0600): read-only for the owner.
_OBJECT_MODE = 0o400


def write_loose(git_dir: Path, kind: bytes, data: bytes, replace: bool = False) -> str:
    """Store ``data`` as a loose object of ``kind``; its id.

    An object already there is kept, as git keeps it (``replace``: write it again, for
    healing a damaged copy). A write the store's disk refuses is a ``StoreWriteError``.
    """
    oid = object_id(kind, data)
    folder = git_dir / "objects" / oid[:2]
    final = folder / oid[2:]
    if not replace and final.exists():
        return oid
    temporary = folder / f"tmp_obj_codexsnap_{os.getpid()}_{oid[2:10]}"
    try:
        _make_folder(folder)
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()  # a leftover of a killed run of the same pid
        with _open_temporary(temporary) as out:
            # Level 1, git's core.looseCompression; streamed, so a 55 MB blob healed through
            # here is not copied once more behind its header.
            packer = zlib.compressobj(1)
            out.write(packer.compress(b"%s %d\0" % (kind, len(data))))
            out.write(packer.compress(data))
            out.write(packer.flush())
            _sync(out)
        _settle(temporary, final)
    except OSError as exc:
        _forget(temporary)
        raise _refused(exc) from None
    return oid


def store_file(git_dir: Path, path: Path, write: bool) -> str | None:
    """The blob id of the file at ``path``, stored as a loose object when ``write``; None
    when no regular file is there any more (gone, or a folder or another kind in its place).

    The file is read once, in chunks, for both the id and the object (git's hash-object
    reads it twice, with a SHA-1 three to seven times slower than OpenSSL's: 130 against
    50 ms for a 5 MB transcript here). Exactly the size it had when opened is read: a file
    Codex appends to meanwhile is stored as it was then, as git stores it (a file rewritten
    in place while read may be stored torn, as git would; the id is always of the bytes
    stored). One that shrank while read is read again, at last whole. An error reading the
    file is raised as it is (``PermissionError`` and the rest: the caller names the file);
    one writing the store is a ``StoreWriteError``, and leaves no temporary file.
    """
    for _ in range(_ATTEMPTS):
        oid = _store_once(git_dir, path, write)
        if oid is not _SHRANK:
            return oid
    opened = _open_regular(path)  # rewritten at every try: what it holds now, all at once
    if opened is None:
        return None
    with os.fdopen(opened[0], "rb") as source:
        data = source.read()
    return write_loose(git_dir, b"blob", data) if write else blob_id(data)


_ATTEMPTS = 3
_SHRANK = "shrank while read"  # _store_once's answer for a file to read again
_CHUNK = 1 << 20
# O_NONBLOCK: a FIFO put in the file's place must not hang the run (it is no file, and
# fstat tells so before anything is read). O_BINARY: no newline translation on Windows.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)


def _open_regular(path: Path) -> tuple[int, int] | None:
    """An open descriptor of the regular file at ``path`` and its size; None when none is."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    except PermissionError:
        if os.path.isdir(path):
            return None  # Windows opens no folder: "access denied" there means a folder
        raise
    try:
        st = os.fstat(fd)
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        return None
    return fd, st.st_size


def _store_once(git_dir: Path, path: Path, write: bool) -> str | None:
    opened = _open_regular(path)
    if opened is None:
        return None
    fd, size = opened
    with os.fdopen(fd, "rb", buffering=0) as source:
        header = b"blob %d\0" % size
        digest = hashlib.sha1(header, usedforsecurity=False)
        if not write:
            return digest.hexdigest() if _feed(source, size, digest.update) else _SHRANK
        objects = git_dir / "objects"
        temporary = objects / f"tmp_obj_codexsnap_{os.getpid()}_{os.urandom(4).hex()}"
        try:
            out = _open_temporary(temporary)
        except OSError as exc:
            raise _refused(exc) from None
        settled = False
        try:
            packer = zlib.compressobj(1)
            _write(out, packer.compress(header))

            def take(chunk: bytes) -> None:
                digest.update(chunk)
                _write(out, packer.compress(chunk))

            if not _feed(source, size, take):
                return _SHRANK
            _write(out, packer.flush())
            oid = digest.hexdigest()
            final = objects / oid[:2] / oid[2:]
            if final.exists():
                return oid  # git keeps the object it has, and so do we
            try:
                _sync(out)
                out.close()
                _make_folder(final.parent)
                _settle(temporary, final)
            except OSError as exc:
                raise _refused(exc) from None
            settled = True
            return oid
        finally:
            if not settled:
                # A failed write leaves bytes in the buffer that closing tries to flush again.
                with contextlib.suppress(OSError):
                    out.close()
                _forget(temporary)


def _feed(source: IO[bytes], size: int, take: Callable[[bytes], object]) -> bool:
    """Give ``take`` the first ``size`` bytes of ``source``; False if it has fewer now."""
    left = size
    while left:
        chunk = source.read(min(_CHUNK, left))
        if not chunk:
            return False
        take(chunk)
        left -= len(chunk)
    return True


def _open_temporary(temporary: Path) -> IO[bytes]:
    # 0600 while written (on Windows a read-only file could not be removed after a failed
    # write); 0400, what git gives objects here, once synced.
    fd = os.open(
        temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600
    )
    return os.fdopen(fd, "wb")


def _write(out: IO[bytes], data: bytes) -> None:
    # The store's write, told apart from the home file's read it is interleaved with.
    try:
        out.write(data)
    except OSError as exc:
        raise _refused(exc) from None


def _make_folder(folder: Path) -> None:
    if not folder.is_dir():
        folder.mkdir(mode=0o700, exist_ok=True)
        fsync_folder(folder.parent)  # the new folder's own name must last too


def _sync(out: IO[bytes]) -> None:
    out.flush()
    os.fsync(out.fileno())
    if hasattr(os, "fchmod"):
        os.fchmod(out.fileno(), _OBJECT_MODE)


def _settle(temporary: Path, final: Path) -> None:
    """The object under its name, durably: the rename, then its folder's fsync."""
    fault_point("loose-object")
    os.replace(temporary, final)
    if not hasattr(os, "fchmod"):
        os.chmod(final, _OBJECT_MODE)
    fsync_folder(final.parent)


def _forget(temporary: Path) -> None:
    with contextlib.suppress(OSError):
        temporary.unlink()


def _refused(exc: OSError) -> StoreWriteError:
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        hint = "Free disk space in the store's folder, then run the command again."
    elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        hint = (
            "Make the store writable again (chmod -R u+w, or remount it read-write), or give "
            "another store with --store."
        )
    else:
        hint = "Check the disk that holds the store (codexsnap check), then run the command again."
    return StoreWriteError(f"cannot write to the store ({reason})", hint=hint)


# Loose objects a store may hold before they go into one pack. Every snapshot writes four
# to six (its trees, notes and commit: write_loose above), so a store `watch` feeds for
# months holds tens of thousands: `git log` of 1,000 snapshots read them 3× slower than
# from a pack (20 against 6.5 ms here), and every locked run lists their 256 folders.
LOOSE_LIMIT = 2000
# The folders counted to estimate how many there are: 1/16 of git's fan-out, as git's own
# gc.auto counts one folder (the ids are uniform).
_SAMPLE = tuple(f"{i:02x}" for i in range(16))


def loose_estimate(git_dir: Path) -> int:
    """About how many loose objects the store holds (from a sample of its folders)."""
    objects = git_dir / "objects"
    count = 0
    for folder in _SAMPLE:
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            count += sum(1 for name in os.listdir(objects / folder) if len(name) == 38)
    return count * (256 // len(_SAMPLE))
