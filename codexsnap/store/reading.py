"""SnapshotStore's reading facet: its snapshots listed, resolved and read back.

The store's attributes (root, bare repository, the commits this process wrote) are set
here; store/damage.py, store/snapshotting.py and store/repository.py build on it.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from codexsnap.errors import (
    CodexsnapError,
    SnapshotNotFoundError,
    StoreError,
    TamperedSnapshotError,
)
from codexsnap.scratch import use_store
from codexsnap.store import history as history_
from codexsnap.store import index
from codexsnap.store.git import GitRepository
from codexsnap.store.history import Snapshot
from codexsnap.store.index import home_id
from codexsnap.store.location import check_format, store_exists
from codexsnap.store.manifest import (
    FILES_PREFIX,
    MANIFEST_NAME,
    SCOPE_NAME,
    FileRecord,
    check_relpath,
    load_manifest,
)
from codexsnap.store.tables import ALIASES, Quarantine, load_marks, load_quarantine

if TYPE_CHECKING:
    from codexsnap.scope import Scope

_Method = TypeVar("_Method", bound=Callable[..., Any])


def reads_store(method: _Method) -> _Method:
    """A corrupt object or pack can make reading raise anything: report a damaged store."""

    @functools.wraps(method)
    def guarded(self: StoreReading, *args: Any, **kwargs: Any) -> Any:
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


class StoreReading:
    """Listing and reading snapshots: the base facet of ``SnapshotStore``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.git_dir = root / "repo.git"
        self.git = GitRepository(root, self.git_dir)
        # Files of the snapshots this process committed: the next commit compares against
        # them without reading and parsing the manifest it just wrote.
        self._committed: dict[str, dict[str, FileRecord]] = {}
        use_store(root)  # temporary copies go to its tmp/, not the system temp folder

    @staticmethod
    def exists(root: Path) -> bool:
        """True when a store was created at ``root``; anything else in its place is an error."""
        return store_exists(root)

    @classmethod
    def open_existing(cls, root: Path) -> Self:
        """Open the store at ``root`` to read it; SnapshotNotFoundError when there is none.

        ``SnapshotStore.open`` creates stores too; a command that only reads (history) opens
        this facet alone, without loading the scan and commit code it never runs.
        """
        if not store_exists(root):
            raise SnapshotNotFoundError(
                f"no snapshots yet: the store {root} does not exist",
                hint="Run 'codexsnap snapshot' or 'codexsnap fix' first.",
            )
        store = cls(root)
        check_format(root, store.git_dir)
        return store

    def close(self) -> None:
        """Stop the persistent git process that reads objects."""
        self.git.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _ref(self, home: Path) -> str:
        return f"refs/codexsnap/homes/{home_id(home)}"

    def _head(self, home: Path) -> str | None:
        return index.read_head(self.git_dir, home_id(home))

    # ----- reading --------------------------------------------------------------------

    @reads_store
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

    @reads_store
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

    def quarantined(self) -> dict[str, Quarantine]:
        """Snapshots ``codexsnap check`` found damaged, whole or in some files (tables.py)."""
        return load_quarantine(self.root)

    @reads_store
    def records(
        self, snapshot: Snapshot, under: Sequence[str] | None = None
    ) -> dict[str, FileRecord]:
        """The files of a snapshot, checked against its tree: a mismatch means tampering.

        ``under``: only the files at or inside those paths, and only the trees on the way
        to them read to check them (a rollback of one transcript read the 600 folders of
        the home, issue 15).
        """
        manifest = self.git.file_in(snapshot.id, MANIFEST_NAME)
        if manifest is None:
            raise TamperedSnapshotError(
                f"snapshot {snapshot.short_id} has no manifest", hint="Use another snapshot."
            )
        records = load_manifest(manifest)
        folder = FILES_PREFIX.rstrip("/")
        if under is None or "" in under:
            found = self.git.tree_files(snapshot.id, folder)
        else:
            found = self.git.tree_files_at(snapshot.id, folder, list(under))
            records = {p: r for p, r in records.items() if _within(p, under)}
        tree_entries: dict[str, tuple[str, int]] = {}
        for path, blob, mode in found:
            relpath = path[len(FILES_PREFIX) :]
            check_relpath(relpath)
            if under is None or _within(relpath, under):
                tree_entries[relpath] = (blob, mode)
        expected = {p: (r.blob, int(r.git_mode, 8)) for p, r in records.items()}
        if tree_entries != expected:
            raise TamperedSnapshotError(
                f"snapshot {snapshot.short_id}: its files do not match its manifest",
                hint="The store may have been tampered with; use another snapshot.",
            )
        return records

    @reads_store
    def read_blob(self, blob: str) -> bytes:
        """The bytes of one stored file."""
        return self.git.read_blob(blob)

    @reads_store
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
        from codexsnap.scope import Scope  # its rules: not needed to list history

        return Scope.from_config(config) if isinstance(config, dict) else None

    # ----- checking -------------------------------------------------------------------

    def home_heads(self) -> dict[str, str | None]:
        """Every home's id and what its ref holds (None or garbage when it is damaged)."""
        return {h: index.read_head(self.git_dir, h) for h in index.listed_homes(self.git_dir)}

    def fsck(self) -> list[str]:
        """git's own verdict on the repository: every problem it prints."""
        return self.git.fsck()

    def object_sizes(self, blobs: list[str]) -> dict[str, int | None]:
        """Size of each object, None when the store lacks it."""
        return self.git.object_sizes(blobs)


def _within(relpath: str, paths: Sequence[str]) -> bool:
    """True when ``relpath`` is one of ``paths`` or lies in one of those folders."""
    return any(p == "" or relpath == p or relpath.startswith(p + "/") for p in paths)
