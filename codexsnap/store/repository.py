"""SnapshotStore: a store folder opened for use, delegating each concern to its module.

Its facets are layered: store/reading.py (listing and reading snapshots), store/damage.py
(quarantine and healing), store/snapshotting.py (scanning and committing); this module
opens, creates and locks the store, and prunes and adopts histories.

git never sees the Codex home as a work tree: files are hashed by path, so a ``.gitignore``,
``.gitattributes`` or planted ``.git/config`` inside the home changes nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from codexsnap.errors import SnapshotNotFoundError, StoreError
from codexsnap.file_lock import store_lock
from codexsnap.store import adopt, index, rewrite
from codexsnap.store import history as history_
from codexsnap.store.history import Snapshot
from codexsnap.store.index import home_id
from codexsnap.store.location import (
    MARKER,
    check_format,
    check_writable,
    clear_half_created,
    clear_leftovers,
    create_store,
    store_exists,
)
from codexsnap.store.loose import LOOSE_LIMIT, loose_estimate
from codexsnap.store.snapshotting import StoreSnapshotting


class SnapshotStore(StoreSnapshotting):
    """A store folder: the bare repository, a stat cache per home, scratch space, the lock."""

    # ----- opening and creating -------------------------------------------------------

    @classmethod
    def open(cls, root: Path, create: bool) -> SnapshotStore:
        """Open the store at ``root``; create it (owner-only) when ``create`` is set."""
        if not create or store_exists(root):
            return cls.open_existing(root)
        store = cls(root)
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
            if loose_estimate(self.git_dir) >= LOOSE_LIMIT:
                # Here, before the run writes anything: a Ctrl-C or a kill while packing
                # leaves the home untouched and every object on disk (git_pack.pack_loose).
                from codexsnap.store.git_pack import pack_loose

                with contextlib.suppress(StoreError):
                    # git failing to pack or to verify the pack (a damaged loose object is
                    # left out before): the run goes on with its objects loose.
                    pack_loose(self.git)
            yield

    def adopt(self, old_id: str, home: Path) -> Snapshot:
        """Give ``home`` the history kept under the home id ``old_id`` (store/adopt.py)."""
        head = index.read_head(self.git_dir, old_id)
        if not index.is_object_id(head):
            raise SnapshotNotFoundError(f"no readable history under the home id {old_id}")
        assert head is not None
        made = adopt.adopt_chain(self.git, old_id, head, home_id(home), home)
        return history_.snapshot_from_commit(self.git.commit(made))

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
