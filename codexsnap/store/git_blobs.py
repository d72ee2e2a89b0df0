"""Writing blobs into the store: hashing home files, storing new contents, healing.

``BlobWriting`` is the writing half of ``GitRepository``'s object access (store/git.py runs
every git process; this module only decides what to hand it).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path
from typing import IO

from codexsnap.errors import StateFileInvalidError, StoreError
from codexsnap.store.git_objects import ObjectReading
from codexsnap.store.loose import store_file, write_loose
from codexsnap.store.objects import blob_id

# From this many new files on, one pack instead of loose objects (store/git_pack.py).
BULK_FILES = 100


class BlobWriting(ObjectReading):
    """Blobs hashed, written and written back (a mixin of ``GitRepository``)."""

    git_dir: Path
    root: Path

    def close(self) -> None:
        raise NotImplementedError  # GitRepository.close stops the reader

    def start(self, *args: str, stderr: IO[bytes]) -> subprocess.Popen[bytes]:
        raise NotImplementedError  # GitRepository.start, isolated as run is

    def failed(self, command: str, stderr: bytes, returncode: int) -> StoreError:
        raise NotImplementedError  # GitRepository.failed

    def hash_files(self, paths: list[Path], write: bool) -> list[str | None]:
        """Blob ids, in order; None for a file that vanished before it could be read.

        With ``write``, many files go into one pack (store/git_pack.py; call with the store
        locked), a few as loose objects written here (store/loose.py: one read of each
        file for its id and its object, no git process).
        """
        if not paths:
            return []
        blobs: dict[Path, str | None] = {}
        if write and len(paths) >= BULK_FILES:
            from codexsnap.store import git_pack  # tempfile and the rest: only for a pack

            # --stdin-paths reads lines and strips a trailing CR: such names go one by one.
            plain = [p for p in paths if "\n" not in str(p) and "\r" not in str(p)]
            packed, again = git_pack.write_pack(self, plain)
            blobs.update(zip(plain, packed, strict=True))
            blobs.update((plain[i], self._hash_one(plain[i], write)) for i in again)
            git_pack.consolidate(self)
        rest = {path: self._hash_one(path, False) for path in paths if path not in blobs}
        if write:
            # Only contents the store lacks are compressed and written (git's hash-object
            # keeps what it has too, packed or loose): a loose copy of a packed object would
            # stay loose until the next pack, and a 5 MB transcript costs 45 ms to compress.
            objects = self.git_dir / "objects"
            ids = {b for b in rest.values() if b}
            wanted = sorted(b for b in ids if not (objects / b[:2] / b[2:]).exists())
            missing = {b for b, size in self.object_sizes(wanted).items() if size is None}
            written: set[str] = set()
            for path, blob in rest.items():
                # Two files with the same bytes make one object; but only one that was
                # written spares the other file its write: the first may have changed
                # since pass 1, and then its new bytes were stored, not these.
                if blob in missing and blob not in written:
                    # Read again: what it holds now is what is stored, and named.
                    stored = rest[path] = self._hash_one(path, True)
                    if stored is not None:
                        written.add(stored)
        blobs.update(rest)
        return [blobs[p] for p in paths]

    def _hash_one(self, path: Path, write: bool) -> str | None:
        try:
            # Gone since the walk, or a folder now in its place (or in its parent's): None,
            # no file of that name is there to hold. The next snapshot sees what replaced it.
            return store_file(self.git_dir, path, write)
        except PermissionError:
            raise StateFileInvalidError(
                f"{path} cannot be read (permission denied), so it cannot be snapshotted",
                hint="Run codexsnap as the owner of the Codex home, or exclude that path in "
                "the store's scope.toml.",
            ) from None

    def write_back(self, blob: str, data: bytes) -> bool:
        """Store ``data`` again as the object ``blob``, found missing or corrupt (call with
        the store locked): True when the object now reads back whole."""
        if blob_id(data) != blob:
            return False
        try:
            # git keeps an object file it already has, even a corrupt one: remove it first.
            (self.git_dir / "objects" / blob[:2] / blob[2:]).unlink(missing_ok=True)
            self.close()  # the reader may hold the bad object's pack entry in mind
            written = self.run("hash-object", "-w", "--stdin", stdin=data).strip()
            if written == blob and self.read_verified(blob) is not None:
                return True
            # A corrupt copy in a pack makes hash-object write nothing ("already there");
            # git reads the loose object once the pack entry fails, so write that ourselves,
            # then repack so the pack holds it whole again (git fsck would go on naming the
            # bad entry). -A: an unreachable packed object is kept loose, never dropped.
            self._write_loose(blob, data)
            self.close()
            with contextlib.suppress(StoreError):  # the loose copy already serves reads
                self.run("repack", "-A", "-d", "-q")
        except (OSError, StoreError):
            return False  # a full disk, a read-only store: the damage stays, and is named
        finally:
            self.close()
        return self.read_verified(blob) is not None

    def _write_loose(self, blob: str, data: bytes) -> None:
        # Fsynced with its folder (store/loose.py), as every object a ref may point at.
        write_loose(self.git_dir, b"blob", data, replace=True)

    def write_blobs(self, datas: list[bytes], known: set[str]) -> list[str]:
        """Store each of ``datas`` as a blob (one git process for all); their ids.

        Ids are computed here; those in ``known`` (objects the store has) are not written
        again. The rest go through ``hash-object -w``, so git writes them as it writes every
        object, under the store's ``core.fsync`` setting.
        """
        ids = [blob_id(data) for data in datas]
        missing = {i: d for i, d in zip(ids, datas, strict=True) if i not in known}
        if missing:
            # Named relative to the store (git runs there): a line break in the store's own
            # path cannot split a line of --stdin-paths.
            name = f"tmp/blobs-{os.getpid()}-{os.urandom(4).hex()}"
            folder = self.root / name
            folder.mkdir(parents=True, exist_ok=True)
            try:
                paths = []
                for number, data in enumerate(missing.values()):
                    (folder / str(number)).write_bytes(data)
                    paths.append(f"{name}/{number}")
                written = self.run(
                    "hash-object",
                    "-w",
                    "--no-filters",
                    "--stdin-paths",
                    stdin="".join(f"{p}\n" for p in paths).encode(),
                ).split()
            finally:
                for child in folder.iterdir():
                    child.unlink()
                folder.rmdir()
            if written != list(missing):
                raise StoreError(
                    f"git stored blobs under other ids than their contents give: {written[:1]}",
                    hint="Run 'codexsnap check'.",
                )
        return ids
