"""Many new blobs written as one pack: home files streamed through ``git fast-import``.

``hash-object -w`` writes each new blob as a loose object, and under the store's
``core.fsync=committed,reference`` git fsyncs every one of them: 171 s for the 100,000
session files of the huge benchmark home, against 12 s for the same blobs streamed into
one pack (docs/performance.md, "Scale"). Measured here on session-sized files, one pack
is faster from about ten files on; packs are only made from ``BULK_FILES`` files on
(store/git_blobs.py), so that a store does not fill with small packs, and ``consolidate``
rolls them up.

Durability, read in git 2.39's fast-import.c and checked with strace: fast-import fsyncs
the pack (``fixup_pack_header_footer``) and its index (``finalize_hashfile``, with the
pack-metadata component that core.fsync adds to, never removes), then links both into
objects/pack without fsyncing that folder. So the folder is fsynced here, and the pack and
index once more (nothing to flush when git did it; it also holds for a store made before
core.fsync was set), before any id is returned that a ref could then point at.

The ids are computed here from the bytes streamed (the file is read once) and checked
against the marks git exports.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import tempfile
import zlib
from pathlib import Path
from typing import IO, TYPE_CHECKING

from codexsnap.atomic_io import fsync_folder
from codexsnap.errors import StoreError
from codexsnap.faults import fault_point

if TYPE_CHECKING:
    from codexsnap.store.git_blobs import BlobWriting

PACK_LIMIT = 12  # more packs than this are rolled up (reads look in every pack's index)
_WHOLE = 1 << 20  # a file this small is read whole, so its size is what was read
_CHUNK = 1 << 18  # a bigger one streams in chunks: memory stays bounded by these
_HELD = 8 << 20  # git holds a blob this size whole (a few times over, while compressing)


def write_pack(git: BlobWriting, paths: list[Path]) -> tuple[list[str | None], list[int]]:
    """Store ``paths`` as blobs of one new pack (call with the store locked).

    Returns the ids, in order, with None for a file gone since the walk, and the indexes of
    the files to store again one by one: one that shrank while it was read (the pack holds
    bytes padded to its size, under an id nothing will name) or could not be opened
    (permission denied: the one-by-one path says so in its own words).
    """
    pack_dir = git.git_dir / "objects" / "pack"
    before = set(pack_dir.glob("pack-*.idx"))
    marks = git.root / "tmp" / f"marks-{os.getpid()}-{os.urandom(4).hex()}"
    args = ["-c", "pack.compression=1"]  # as loose objects are (core.looseCompression)
    # fast-import would unpack a pack of 100 objects or fewer into loose ones, each fsynced.
    args += ["-c", "fastimport.unpackLimit=0"]
    # --depth=0: no blob deltified against the previous one (CPU spent for little: loose
    # objects have no deltas either). Up to --big-file-threshold git holds a blob whole and
    # hashes it first, so one the store's packs already hold is skipped, not compressed
    # again (a rollback's "after" snapshot is made of such blobs); a bigger one streams.
    args += ["fast-import", "--quiet", "--done", "--depth=0", f"--big-file-threshold={_HELD}"]
    args.append(f"--export-marks={marks}")
    pid = 0
    ids: list[str | None] = []
    again: list[int] = []
    try:
        with tempfile.TemporaryFile() as errors:
            process = git.start(*args, stderr=errors)
            pid = process.pid
            assert process.stdin is not None
            cut = False
            try:
                _stream(process.stdin, paths, ids, again)
                process.stdin.write(b"done\n")
                process.stdin.close()
            except BrokenPipeError:
                cut = True  # fast-import died (a full disk): its own message says why
            except BaseException:
                # Ctrl-C or an unreadable disk: nothing of this pack is named by anything.
                # The folder's leftovers go with the next locked run (clear_leftovers).
                process.kill()
                process.wait()
                raise
            if process.wait() != 0 or cut:
                errors.seek(0)
                raise git.failed("fast-import", errors.read(), process.returncode)
        written = _read_marks(marks)
    finally:
        marks.unlink(missing_ok=True)
        if pid:  # fast-import writes a crash report into the repository when it dies
            (git.git_dir / f"fast_import_crash_{pid}").unlink(missing_ok=True)
    redo = set(again)
    for mark, blob in enumerate(ids, start=1):
        if blob is not None and mark - 1 not in redo and written.get(mark) != blob:
            raise StoreError(
                f"git stored a blob under another id than its contents give: {blob}",
                hint="Run 'codexsnap check'.",
            )
    for index in sorted(set(pack_dir.glob("pack-*.idx")) - before):
        _fsync_file(index.with_suffix(".pack"))
        _fsync_file(index)
    fsync_folder(pack_dir)
    fault_point("pack-written")
    return ids, again


def _stream(stream: IO[bytes], paths: list[Path], ids: list[str | None], again: list[int]) -> None:
    """Send each file as a blob (mark n for paths[n - 1]); its id, or None, to ``ids``."""
    for mark, path in enumerate(paths, start=1):
        fault_point("pack-stream")
        try:
            # O_NONBLOCK: a FIFO put in the file's place must not hang the snapshot.
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            # Gone since the walk, or a folder in its place: the next snapshot sees that.
            ids.append(None)
            continue
        except PermissionError:
            ids.append(None)
            again.append(mark - 1)
            continue
        with open(fd, "rb", buffering=0) as handle:
            status = os.fstat(fd)
            if not stat.S_ISREG(status.st_mode):
                ids.append(None)  # a FIFO or a device now: no file of that name to hold
                continue
            blob, whole = _send(stream, handle, mark, status.st_size)
        ids.append(blob)
        if not whole:
            again.append(mark - 1)


def _send(stream: IO[bytes], handle: IO[bytes], mark: int, size: int) -> tuple[str, bool]:
    """One blob command; its id, and False when the file shrank under the read."""
    if size <= _WHOLE:
        data = handle.read()  # to its end: a file grown since its stat is stored as read
        size = len(data)
        chunks = [data]
    else:
        chunks = []
    digest = hashlib.sha1(b"blob %d\0" % size, usedforsecurity=False)
    stream.write(b"blob\nmark :%d\ndata %d\n" % (mark, size))
    for chunk in chunks:
        digest.update(chunk)
        stream.write(chunk)
    left = size if not chunks else 0
    while left:
        # The size went out before the bytes: exactly that many follow. A file that grew
        # is stored as its first ``size`` bytes, the ones its stat described.
        chunk = handle.read(min(_CHUNK, left))
        if not chunk:
            break
        digest.update(chunk)
        stream.write(chunk)
        left -= len(chunk)
    whole = left == 0
    while left:  # it shrank: pad the blob to keep the stream in step, then store it anew
        pad = min(_CHUNK, left)
        stream.write(bytes(pad))
        left -= pad
    stream.write(b"\n")
    return digest.hexdigest(), whole


def _read_marks(marks: Path) -> dict[int, str]:
    """mark -> object id, from fast-import's --export-marks file."""
    written: dict[int, str] = {}
    with contextlib.suppress(FileNotFoundError):  # nothing stored: no marks either
        for line in marks.read_text().splitlines():
            mark, _, blob = line.partition(" ")
            written[int(mark.lstrip(":"))] = blob
    return written


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno != errno.EINVAL:  # a filesystem that cannot fsync: as fsync_folder
            raise
    finally:
        os.close(fd)


def consolidate(git: BlobWriting) -> bool:
    """Roll small packs up when there are more than ``PACK_LIMIT`` (store locked): True if so.

    ``--geometric=2`` merges only the packs (and loose objects) it must to leave each pack
    at least twice the next one's size, so the big first pack is not rewritten each time,
    and it keeps every object it finds, reachable or not (nothing is lost that a later
    commit of this run may name). git fsyncs the new pack and index before it deletes the
    old ones.
    """
    pack_dir = git.git_dir / "objects" / "pack"
    if len(list(pack_dir.glob("pack-*.pack"))) <= PACK_LIMIT:
        return False
    git.close()  # the reader keeps the old packs open
    git.run("repack", "--geometric=2", "-d", "-q")
    fsync_folder(pack_dir)
    return True


def pack_loose(git: BlobWriting) -> bool:
    """Move every loose object into one pack (store locked): True if there were any.

    Called when ``loose.loose_estimate`` reaches ``loose.LOOSE_LIMIT``.

    Every sound loose object goes in, reachable or not (``git repack`` would leave the ones
    no ref names loose, so the count would never fall). The order is what keeps every
    object on disk at every instant: the pack written, verified (``verify-pack``; removed
    if it fails), its files and folder fsynced here, and only then the loose copies removed
    (``prune-packed`` removes only objects a pack holds). A run killed before the removal
    leaves each object twice, which the next pack removes.
    """
    objects = git.git_dir / "objects"
    # Only sound objects: one that does not inflate to its id (a bad sector, a cut write)
    # would stop pack-objects at every run; it stays loose for `check` to quarantine.
    ids = [
        f"{folder.name}{name}"
        for folder in sorted(objects.glob("[0-9a-f][0-9a-f]"))
        for name in sorted(os.listdir(folder))
        if len(name) == 38
        and all(c in "0123456789abcdef" for c in name)
        and _sound(folder / name, f"{folder.name}{name}")
    ]
    if not ids:
        return False
    pack_dir = objects / "pack"
    before = set(pack_dir.glob("pack-*.idx"))
    git.close()  # the reader keeps its list of packs: a new one starts with the new pack
    stdin = "".join(f"{i}\n" for i in ids).encode()
    # pack.compression=1 as the loose objects had; deltas are fine here (trees and notes).
    # --no-reuse-object: each object is written from its loose copy, just checked, never
    # copied from an older pack that might hold a damaged one.
    git.run(
        "-c",
        "pack.compression=1",
        "pack-objects",
        "-q",
        "--no-reuse-object",
        str(pack_dir / "pack"),
        stdin=stdin,
    )
    made = sorted(set(pack_dir.glob("pack-*.idx")) - before)
    parts = [
        part
        for index in made
        for part in (index.with_suffix(".pack"), index, index.with_suffix(".rev"))
    ]  # a .rev: git 2.41 and newer write one by default
    try:
        for index in made:
            # Every object of the new pack checked against its id before a loose copy goes.
            git.run("verify-pack", str(index))
    except StoreError:
        for part in parts:  # git reads packs first: a bad one must not shadow the loose
            part.unlink(missing_ok=True)
        raise
    for part in parts:
        if part.exists():
            _fsync_file(part)
    fsync_folder(pack_dir)
    fault_point("loose-packed")
    git.run("prune-packed", "-q")
    consolidate(git)
    return True


def _sound(path: Path, oid: str) -> bool:
    """True when a loose object inflates to bytes whose SHA-1 is its id."""
    try:
        data = zlib.decompress(path.read_bytes())
    except (OSError, zlib.error):
        return False
    return hashlib.sha1(data, usedforsecurity=False).hexdigest() == oid
