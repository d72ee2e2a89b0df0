"""SnapshotStore's snapshotting facet: the home scanned and committed as a snapshot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codexsnap.codex_version import CODEX_NAME, codex_note
from codexsnap.errors import StoreError
from codexsnap.outside import sqlite_home_outside
from codexsnap.scope import Scope
from codexsnap.store import commit, index
from codexsnap.store.commit import SnapshotResult
from codexsnap.store.damage import StoreDamage
from codexsnap.store.manifest import FileRecord
from codexsnap.store.scan import Scanned, cache_file, rescan_paths, scan_home


class StoreSnapshotting(StoreDamage):
    """Scanning and committing, on top of reading and healing (a facet of ``SnapshotStore``)."""

    def scan_home(
        self, home: Path, scope: Scope, write: bool = True, tops: list[str] | None = None
    ) -> dict[str, FileRecord]:
        """Hash every file in scope, re-reading only files whose stat changed.

        With ``write`` False nothing in the store changes (dry runs): blobs are hashed but not
        stored and the stat cache is not updated. ``tops`` (only without ``write``): just
        the files at or under those home paths.
        """
        return scan_home(self.git, home, scope, write, tops=tops)

    def scan(self, home: Path, scope: Scope) -> Scanned:
        """One walk of the home, its blobs stored: what a snapshot (or two) is made of."""
        outside: dict[str, list[int]] = {}
        fresh: set[str] = set()
        records = scan_home(self.git, home, scope, True, outside, fresh)
        if not commit.blobs_present(self.git, self._head(home), records, fresh):
            # The stat cache named content the store lost (a crash before git's objects
            # reached the disk, a pruned blob): forget it and read every file again.
            cache_file(self.root, home).unlink(missing_ok=True)
            outside = {}
            records = scan_home(self.git, home, scope, True, outside)
        # The outside SQLite home's bulky files too (logs_*.sqlite, recovery copies): its
        # walk in roots.py takes only what is in scope.
        outside.update(sqlite_home_outside(scope))
        self.heal_from_home(home, scope, records)
        return Scanned(records, outside)

    def rescan(
        self,
        home: Path,
        scope: Scope,
        scanned: Scanned,
        relpaths: list[str],
        written: dict[str, list[Any]] | None = None,
    ) -> Scanned:
        """``scanned`` with only ``relpaths`` read again: the files an operation wrote (those
        in ``written`` only if their stat moved since they were written, scan.py)."""
        records = rescan_paths(self.git, home, scope, scanned.records, relpaths, written)
        return Scanned(records, scanned.outside)

    def take_snapshot(
        self,
        home: Path,
        scope: Scope,
        summary: str,
        trailers: dict[str, str],
        message: str = "",
        allow_unchanged: bool = False,
        scanned: Scanned | None = None,
    ) -> SnapshotResult:
        """Scan the home (unless ``scanned`` is given) and commit it; unchanged homes give
        back the latest snapshot."""
        if scanned is None:
            scanned = self.scan(home, scope)
        records = scanned.records
        head = self._head(home)
        previous = commit.manifest_bytes(self.git, head, CODEX_NAME) if head else None
        extras = commit.extras_of(home, scope, scanned.outside)
        extras[CODEX_NAME] = codex_note(
            home, records, self.git.read_blob, previous, scope.sqlite_home
        )
        if scope.sqlite_home is not None:
            trailers = {**trailers, "Sqlite-Home": str(scope.sqlite_home)}
        return self.commit_records(
            home, records, summary, trailers, message, allow_unchanged, extras
        )

    def commit_records(
        self,
        home: Path,
        records: dict[str, FileRecord],
        summary: str,
        trailers: dict[str, str],
        message: str = "",
        allow_unchanged: bool = False,
        extras: dict[str, bytes] | None = None,
    ) -> SnapshotResult:
        """Commit ``records`` as the next snapshot of ``home`` (skipped when nothing changed).

        ``extras`` are notes kept beside the files (``outside.json``, ``auth-fingerprint.json``):
        they never make a snapshot on their own.
        """
        head = self._head(home)
        tip = self._readable_tip(home, head)
        done = commit.commit_records(
            self.git,
            home,
            self._ref(home),
            head,
            records,
            summary,
            trailers,
            message,
            allow_unchanged,
            extras or {},
            tip=tip,
            tip_records=self._committed.get(tip) if tip else None,
        )
        if done.created:  # only trees this run wrote are trusted whole (commit._same_tree)
            self._committed = {done.snapshot.id: done.records}
        return done

    def _readable_tip(self, home: Path, head: str | None) -> str | None:
        """``head`` when its commit reads; else the newest snapshot that does (or None)."""
        if head is None:
            return None
        if index.is_object_id(head):
            try:
                self.git.commit(head)
                return head
            except (ValueError, StoreError):
                pass
        found = self.history(home, limit=1)
        return found[0].id if found else None
