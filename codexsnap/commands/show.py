"""codexsnap show: what one snapshot changed against the snapshot before it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from codexsnap.commands import open_existing_store
from codexsnap.commands.history import marked
from codexsnap.compare import HomeState, compare, snapshot_state
from codexsnap.diff_report import DiffReport
from codexsnap.store import Snapshot
from codexsnap.store.manifest import FileRecord


@dataclass(frozen=True)
class Tally:
    """How many files, and how many bytes."""

    files: int = 0
    size: int = 0

    def add(self, record: FileRecord) -> Tally:
        return Tally(self.files + 1, self.size + record.size)


@dataclass(frozen=True)
class Summary:
    """A first snapshot in brief: every file is new, so its contents are not listed."""

    total: Tally
    kinds: dict[str, Tally]  # file, sqlite, symlink
    folders: dict[str, Tally]  # top-level folder ("" for files at the top)


@dataclass(frozen=True)
class ShowResult:
    """A snapshot and its changes against its parent (a summary for a first snapshot)."""

    snapshot: Snapshot
    report: DiffReport
    files_total: int
    summary: Summary | None = None


def show(
    home: Path, store_root: Path, snapshot_id: str, *, show_secrets: bool, details: bool = False
) -> ShowResult:
    """Report the files a snapshot changed, with DeepDiff detail for structured files.

    A first snapshot adds every file of the home (drafts and prompt history among them):
    without ``details`` it is summed up from its manifest and no file is read.
    """
    with open_existing_store(store_root) as store:
        snapshot = marked(store, store.resolve(home, snapshot_id))
        new = snapshot_state(store, snapshot)
        if snapshot.parent:
            old = snapshot_state(store, store.resolve(home, snapshot.parent))
        else:
            old = HomeState({}, lambda record: b"")
        if snapshot.parent is None and not details:
            # The notes (outside the scope, auth.json) are cheap; no file is read.
            report = compare(old, new, show_secrets, paths=set())
            return ShowResult(snapshot, report, len(new.records), summarize(new.records))
        return ShowResult(snapshot, compare(old, new, show_secrets), len(new.records))


def summarize(records: dict[str, FileRecord]) -> Summary:
    total = Tally()
    kinds: dict[str, Tally] = {}
    folders: dict[str, Tally] = {}
    for relpath, record in records.items():
        total = total.add(record)
        kinds[record.kind] = kinds.get(record.kind, Tally()).add(record)
        folder = relpath.split("/", 1)[0] + "/" if "/" in relpath else ""
        folders[folder] = folders.get(folder, Tally()).add(record)
    return Summary(total, dict(sorted(kinds.items())), dict(sorted(folders.items())))
