"""SnapshotStore's damage facet: snapshots set aside (quarantined) and blobs healed.

What ``codexsnap check`` found damaged is listed in tables.py; store/quarantine.py heals
damaged blobs from the live files that still hold them.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from codexsnap.errors import StoreError
from codexsnap.scope import Scope
from codexsnap.store import quarantine
from codexsnap.store.manifest import FileRecord
from codexsnap.store.reading import StoreReading
from codexsnap.store.tables import Quarantine, save_quarantine


class StoreDamage(StoreReading):
    """Quarantine and healing, on top of reading (a facet of ``SnapshotStore``)."""

    def quarantine(self, snapshot_id: str, entry: Quarantine) -> None:
        """Set a damaged snapshot (or some of its files) aside: a ref keeps its objects."""
        # git refuses a ref to a commit it cannot read; its snapshot ref keeps such a one.
        with contextlib.suppress(StoreError):
            self.git.run("update-ref", f"refs/codexsnap/quarantine/{snapshot_id}", snapshot_id)
        save_quarantine(self.root, {**self.quarantined(), snapshot_id: entry})

    def forget_quarantined(self, snapshot_ids: set[str]) -> None:
        """Remove ids from the quarantine list (pruned, or rewritten under a new id)."""
        kept = {k: v for k, v in self.quarantined().items() if k not in snapshot_ids}
        save_quarantine(self.root, kept)

    def release(self, snapshot_id: str) -> None:
        """Take a snapshot out of quarantine (``check`` verified it whole)."""
        self.forget_quarantined({snapshot_id})
        self.drop_quarantine_ref(snapshot_id)

    def release_healed(self) -> list[str]:
        """Drop the quarantined files whose blobs read back whole again (healed): the ids
        of the snapshots this leaves with no damaged file, released (call with the lock)."""
        released = quarantine.release_healed(self.git, self.root)
        for snapshot_id in released:
            self.drop_quarantine_ref(snapshot_id)
        return released

    def read_verified(self, blob: str) -> bytes | None:
        """The bytes of one stored file when they hash to its id; None when damaged."""
        return self.git.read_verified(blob)

    def heal(self, blob: str, data: bytes) -> bool:
        """Write a damaged blob anew from ``data`` (the live file, same id), under the lock:
        True when it reads back whole."""
        return self.git.write_back(blob, data)

    def drop_quarantine_ref(self, snapshot_id: str) -> None:
        """Forget the quarantine ref of a snapshot that was pruned."""
        self.git.run("update-ref", "-d", f"refs/codexsnap/quarantine/{snapshot_id}")

    def heal_from_home(
        self,
        home: Path,
        scope: Scope,
        records: dict[str, FileRecord],
        blobs: set[str] | None = None,
        *,
        release: bool = True,
    ) -> list[str]:
        """Write back each damaged blob (the quarantined ones, or ``blobs``) that a live file
        of ``records`` still holds (store/quarantine.py): the paths healed. Then release
        what healed, unless ``release`` is False (``check --repair`` lets its check release
        and report them). Call with the store locked.
        """
        if blobs is None:
            blobs = {b for e in self.quarantined().values() for b in e.files.values()}
        healed = quarantine.heal_from_home(self.git, home, scope.sqlite_home, records, blobs)
        if healed and release:
            self.release_healed()
        return healed
