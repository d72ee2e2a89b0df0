"""SnapshotStore: a store folder opened for use, delegating each concern to its module.

git never sees the Codex home as a work tree: files are hashed by path, so a ``.gitignore``,
``.gitattributes`` or planted ``.git/config`` inside the home changes nothing.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

from codexsnap.codex_version import CODEX_NAME, codex_note
from codexsnap.errors import (
    CodexsnapError,
    SnapshotNotFoundError,
    StoreError,
    TamperedSnapshotError,
)
from codexsnap.file_lock import store_lock
from codexsnap.outside import sqlite_home_outside
from codexsnap.scope import Scope
from codexsnap.scratch import use_store
from codexsnap.store import adopt, commit, index, quarantine, rewrite
from codexsnap.store import history as history_
from codexsnap.store.commit import SCOPE_NAME, SnapshotResult
from codexsnap.store.git import GitRepository
from codexsnap.store.history import Snapshot
from codexsnap.store.location import (
    MARKER,
    check_format,
    check_writable,
    clear_half_created,
    clear_leftovers,
    create_store,
    store_exists,
)
from codexsnap.store.manifest import (
    FILES_PREFIX,
    MANIFEST_NAME,
    FileRecord,
    check_relpath,
    load_manifest,
)
from codexsnap.store.scan import Scanned, cache_file, home_id, rescan_paths, scan_home
from codexsnap.store.tables import (
    ALIASES,
    Quarantine,
    load_marks,
    load_quarantine,
    save_quarantine,
)

_Method = TypeVar("_Method", bound=Callable[..., Any])


def _reads_store(method: _Method) -> _Method:
    """A corrupt object or pack can make reading raise anything: report a damaged store."""

    @functools.wraps(method)
    def guarded(self: SnapshotStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except CodexsnapError:
            raise
        except Exception as exc:
            lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
            raise StoreError(
                f"the store {self.root} is damaged "
                f"({type(exc).__name__}: {lines[-1] if lines else 'unreadable object'})",
                hint="Run 'codexsnap check' to find and quarantine the damaged snapshots.",
            ) from None

    return cast(_Method, guarded)


class SnapshotStore:
    """A store folder: the bare repository, a stat cache per home, scratch space, the lock."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.git_dir = root / "repo.git"
        self.git = GitRepository(root, self.git_dir)
        # Files of the snapshots this process committed: the next commit compares against
        # them without reading and parsing the manifest it just wrote.
        self._committed: dict[str, dict[str, FileRecord]] = {}
        use_store(root)  # temporary copies go to its tmp/, not the system temp folder

    # ----- opening and creating -------------------------------------------------------

    @staticmethod
    def exists(root: Path) -> bool:
        """True when a store was created at ``root``; anything else in its place is an error."""
        return store_exists(root)

    @classmethod
    def open(cls, root: Path, create: bool) -> SnapshotStore:
        """Open the store at ``root``; create it (owner-only) when ``create`` is set."""
        store = cls(root)
        if not store_exists(root):
            if not create:
                raise SnapshotNotFoundError(
                    f"no snapshots yet: the store {root} does not exist",
                    hint="Run 'codexsnap snapshot' or 'codexsnap fix' first.",
                )
            try:
                root.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot create the store {root}: {exc.strerror or exc}",
                    hint="Choose a writable place with --store or CODEXSNAP_STORE.",
                ) from None
            # Under the lock: two first runs must not both build (or clean) the store.
            with store_lock(root / "codexsnap.lock"):
                if not (root / MARKER).is_file():
                    clear_half_created(root)
                    try:
                        create_store(store.git)
                    except OSError as exc:
                        raise StoreError(
                            f"cannot create the store {root}: {exc.strerror or exc}",
                            hint="Free disk space, or choose a writable place with --store.",
                        ) from None
        check_format(root, store.git_dir)
        return store

    @contextlib.contextmanager
    def locked(self, brief: bool = False) -> Iterator[None]:
        """Hold the store for a mutating operation and clear what a killed run left.

        ``brief``: for one automatic snapshot, which other commands wait for (file_lock.py).
        """
        with store_lock(self.root / "codexsnap.lock", brief=brief):
            check_writable(self.root, self.git_dir)
            clear_leftovers(self.root, self.git_dir)
            for home, head in self.home_heads().items():
                index.index_chain(self.git, home, head)
            yield

    def close(self) -> None:
        """Stop the persistent git process that reads objects."""
        self.git.close()

    def __enter__(self) -> SnapshotStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _ref(self, home: Path) -> str:
        return f"refs/codexsnap/homes/{home_id(home)}"

    def _head(self, home: Path) -> str | None:
        return index.read_head(self.git_dir, home_id(home))

    # ----- reading --------------------------------------------------------------------

    @_reads_store
    def history(
        self, home: Path, limit: int | None = None, include_damaged: bool = False
    ) -> list[Snapshot]:
        """Snapshots of this home, newest first; unreadable ones only when asked for."""
        found = self.snapshots_of(home_id(home), self._head(home), limit)
        if not include_damaged:
            found = [s for s in found if not s.damaged]
        return found[:limit] if limit else found

    def snapshots_of(self, home: str, head: str | None, limit: int | None = None) -> list[Snapshot]:
        """One home's snapshots (by home id): one ``git log``, or past damaged commits."""
        if index.is_object_id(head):
            assert head is not None
            with contextlib.suppress(StoreError):
                return history_.log(self.git, head, limit)
        return self.walk(home, head)

    def walk(self, home: str, head: str | None) -> list[Snapshot]:
        """Every snapshot of one home (by id), past damaged commits (store/index.py)."""
        return history_.walk(self.git, head, index.listed_ids(self.git_dir, home))

    def latest(self, home: Path) -> Snapshot | None:
        """The newest snapshot of this home, if any."""
        found = self.history(home, limit=1)
        return found[0] if found else None

    @_reads_store
    def resolve(self, home: Path, snapshot_id: str) -> Snapshot:
        """Find this home's snapshot by a unique id prefix of 4 or more hex characters."""
        aliases = load_marks(self.root, ALIASES)
        head = self._head(home)
        damaged: dict[str, str] = {}
        try:
            ids = self.git.run("rev-list", head).split() if head else []
        except StoreError:
            walked = self.walk(home_id(home), head)
            ids = [s.id for s in walked]
            damaged = {s.id: s.damaged for s in walked if s.damaged}
        return history_.resolve(
            self.git, home, ids, damaged, snapshot_id, aliases, self.set_aside()
        )

    def set_aside(self) -> dict[str, str]:
        """The snapshots quarantined whole (id -> why): nothing of them may be used."""
        return {k: v.reason for k, v in self.quarantined().items() if v.whole}

    @_reads_store
    def records(self, snapshot: Snapshot) -> dict[str, FileRecord]:
        """The files of a snapshot, checked against its tree: a mismatch means tampering."""
        manifest = self.git.file_in(snapshot.id, MANIFEST_NAME)
        if manifest is None:
            raise TamperedSnapshotError(
                f"snapshot {snapshot.short_id} has no manifest", hint="Use another snapshot."
            )
        records = load_manifest(manifest)
        tree_entries: dict[str, tuple[str, int]] = {}
        for path, blob, mode in self.git.tree_files(snapshot.id, FILES_PREFIX.rstrip("/")):
            relpath = path[len(FILES_PREFIX) :]
            check_relpath(relpath)
            tree_entries[relpath] = (blob, mode)
        expected = {p: (r.blob, int(r.git_mode, 8)) for p, r in records.items()}
        if tree_entries != expected:
            raise TamperedSnapshotError(
                f"snapshot {snapshot.short_id}: its files do not match its manifest",
                hint="The store may have been tampered with; use another snapshot.",
            )
        return records

    @_reads_store
    def read_blob(self, blob: str) -> bytes:
        """The bytes of one stored file."""
        return self.git.read_blob(blob)

    @_reads_store
    def extra(self, snapshot: Snapshot, name: str) -> bytes | None:
        """A note kept beside a snapshot's files (None when that snapshot has none)."""
        return self.git.file_in(snapshot.id, name)

    def scope_of(self, snapshot: Snapshot) -> Scope | None:
        """The scope a snapshot was taken with (None for snapshots that did not record it)."""
        raw = self.extra(snapshot, SCOPE_NAME)
        if raw is None:
            return None
        try:
            config = json.loads(raw)
        except ValueError:
            return None
        return Scope.from_config(config) if isinstance(config, dict) else None

    # ----- checking -------------------------------------------------------------------

    def home_heads(self) -> dict[str, str | None]:
        """Every home's id and what its ref holds (None or garbage when it is damaged)."""
        return {h: index.read_head(self.git_dir, h) for h in index.listed_homes(self.git_dir)}

    def adopt(self, old_id: str, home: Path) -> Snapshot:
        """Give ``home`` the history kept under the home id ``old_id`` (store/adopt.py)."""
        head = index.read_head(self.git_dir, old_id)
        if not index.is_object_id(head):
            raise SnapshotNotFoundError(f"no readable history under the home id {old_id}")
        assert head is not None
        made = adopt.adopt_chain(self.git, old_id, head, home_id(home), home)
        return history_.snapshot_from_commit(self.git.commit(made))

    def fsck(self) -> list[str]:
        """git's own verdict on the repository: every problem it prints."""
        return self.git.fsck()

    def object_sizes(self, blobs: list[str]) -> dict[str, int | None]:
        """Size of each object, None when the store lacks it."""
        return self.git.object_sizes(blobs)

    def quarantined(self) -> dict[str, Quarantine]:
        """Snapshots ``codexsnap check`` found damaged, whole or in some files (tables.py)."""
        return load_quarantine(self.root)

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

    # ----- pruning --------------------------------------------------------------------

    def rewrite_without(self, home: Path, dropped: set[str]) -> tuple[str, str, dict[str, str]]:
        """Write this home's chain without ``dropped`` (objects only, no ref moves):
        (current head, new head, old id -> new id of the rest)."""
        head = self._head(home)
        if head is None:
            raise StoreError(f"no snapshots of {home} to prune", hint="Nothing to do.")
        return (head, *rewrite.rewrite_chain(self.git, head, dropped))

    def move_rewritten(
        self, home: Path, head: str, new_head: str, dropped: set[str], renamed: dict[str, str]
    ) -> None:
        """Point the home (and its snapshot refs) at the rewritten chain: one transaction."""
        rewrite.move_refs(
            self.git, home_id(home), self._ref(home), head, new_head, dropped, renamed
        )

    def collect_garbage(self) -> None:
        """Really delete what no snapshot references any more (prune --gc)."""
        rewrite.collect_garbage(self.git)

    # ----- writing --------------------------------------------------------------------

    def scan_home(self, home: Path, scope: Scope, write: bool = True) -> dict[str, FileRecord]:
        """Hash every file in scope, re-reading only files whose stat changed.

        With ``write`` False nothing in the store changes (dry runs): blobs are hashed but not
        stored and the stat cache is not updated.
        """
        return scan_home(self.git, home, scope, write)

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

    def rescan(self, home: Path, scope: Scope, scanned: Scanned, relpaths: list[str]) -> Scanned:
        """``scanned`` with only ``relpaths`` read again: the files an operation wrote."""
        records = rescan_paths(self.git, home, scope, scanned.records, relpaths)
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
