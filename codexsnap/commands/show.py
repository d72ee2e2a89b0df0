"""codexsnap show: what one snapshot changed against the snapshot before it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from codexsnap.commands import open_existing_store
from codexsnap.report import DiffReport, FileDiff, diff_file
from codexsnap.store import Snapshot


@dataclass(frozen=True)
class ShowResult:
    """A snapshot and its changes against its parent."""

    snapshot: Snapshot
    report: DiffReport
    files_total: int


def show(home: Path, store_root: Path, snapshot_id: str, *, show_secrets: bool) -> ShowResult:
    """Report the files a snapshot changed, with DeepDiff detail for structured files."""
    with open_existing_store(store_root) as store:
        snapshot = store.resolve(home, snapshot_id)
        new = store.records(snapshot)
        old = store.records(store.resolve(home, snapshot.parent)) if snapshot.parent else {}
        diffs: list[FileDiff] = []
        for path in sorted(old.keys() | new.keys()):
            before, after = old.get(path), new.get(path)
            if before is not None and after is not None and before.same_content(after):
                continue
            mode_change = (
                (before.mode, after.mode)
                if before and after and before.mode != after.mode
                else None
            )
            diffs.append(
                diff_file(
                    path,
                    store.read_blob(before.blob) if before else None,
                    store.read_blob(after.blob) if after else None,
                    (after or before).kind,  # type: ignore[union-attr]
                    show_secrets,
                    mode_change,
                )
            )
        return ShowResult(snapshot, DiffReport(tuple(diffs)), len(new))
