"""codexsnap adopt: a home that moved takes over the history kept under its old path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from codexsnap.commands import open_existing_store
from codexsnap.errors import SnapshotNotFoundError, UsageError
from codexsnap.store import Snapshot, home_id


@dataclass(frozen=True)
class AdoptResult:
    """The history taken over and the snapshot that records it (None on a dry run)."""

    old_path: Path
    snapshots: int
    latest: Snapshot
    adopted: Snapshot | None


def adopt(home: Path, store_root: Path, old_path: Path, *, dry_run: bool) -> AdoptResult:
    """Make the snapshots taken of ``old_path`` the history of ``home``.

    Refused when this home already has a history (adopting would hide it); the old path's
    history is left as it is, so nothing is lost and adopting can be done again.
    """
    old = old_path.expanduser().absolute().resolve()
    if home_id(old) == home_id(home):
        raise UsageError(
            f"{old} is this Codex home", hint="Give the path the home had before it moved."
        )
    with open_existing_store(store_root) as store:
        own = store.history(home, limit=1, include_damaged=True)
        if own:
            raise UsageError(
                f"the Codex home {home} already has its own history "
                f"(latest snapshot {own[0].short_id}); adopting would hide it",
                hint="Adopt into a home with no snapshots yet.",
            )
        found = store.history(old)
        if not found:
            raise SnapshotNotFoundError(
                f"the store {store_root} holds no history for {old}",
                hint="Run 'codexsnap history' to see which old paths it holds.",
            )
        if dry_run:
            return AdoptResult(old, len(found), found[0], None)
        with store.locked():
            if store.history(home, limit=1, include_damaged=True):  # since we looked
                raise UsageError(f"the Codex home {home} got a history meanwhile")
            made = store.adopt(home_id(old), home)
        return AdoptResult(old, len(found), found[0], made)
