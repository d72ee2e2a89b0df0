"""One module per subcommand: plain typed functions returning frozen result objects."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from codexsnap.errors import NotConfirmedError, SnapshotNotFoundError
from codexsnap.report import DiffReport
from codexsnap.store import SnapshotStore

# Called with the report of what is about to change; True means go ahead.
Confirm = Callable[[DiffReport], bool]


def open_existing_store(store_root: Path) -> SnapshotStore:
    """Open a store that must already hold snapshots."""
    if not SnapshotStore.exists(store_root):
        raise SnapshotNotFoundError(
            f"no snapshots yet (no store at {store_root})",
            hint="Run 'codexsnap snapshot' or 'codexsnap fix' first.",
        )
    return SnapshotStore.open(store_root, create=False)


def ask(confirm: Confirm, report: DiffReport) -> None:
    """Raise unless the user agreed to the change."""
    if not confirm(report):
        raise NotConfirmedError(
            "nothing was changed", hint="Run again and answer 'y', or add --yes."
        )
