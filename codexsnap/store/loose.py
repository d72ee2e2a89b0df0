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
import os
import zlib
from pathlib import Path

from codexsnap.atomic_io import fsync_folder
from codexsnap.faults import fault_point
from codexsnap.store.objects import object_id

# What git writes in this store (core.sharedRepository=0600): read-only for the owner.
_OBJECT_MODE = 0o400


def write_loose(git_dir: Path, kind: bytes, data: bytes, replace: bool = False) -> str:
    """Store ``data`` as a loose object of ``kind``; its id.

    An object already there is kept, as git keeps it (``replace``: write it again, for
    healing a damaged copy).
    """
    oid = object_id(kind, data)
    folder = git_dir / "objects" / oid[:2]
    final = folder / oid[2:]
    if not replace and final.exists():
        return oid
    if not folder.is_dir():
        folder.mkdir(mode=0o700, exist_ok=True)
        fsync_folder(folder.parent)  # the new folder's own name must last too
    temporary = folder / f"tmp_obj_codexsnap_{os.getpid()}_{oid[2:10]}"
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()  # a leftover of a killed run of the same pid
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _OBJECT_MODE)
    with os.fdopen(fd, "wb") as out:
        # Level 1, git's core.looseCompression; streamed, so a 55 MB blob healed through
        # here is not copied once more behind its header.
        packer = zlib.compressobj(1)
        out.write(packer.compress(b"%s %d\0" % (kind, len(data))))
        out.write(packer.compress(data))
        out.write(packer.flush())
        out.flush()
        os.fsync(out.fileno())
    fault_point("loose-object")
    os.replace(temporary, final)
    fsync_folder(folder)
    return oid


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
