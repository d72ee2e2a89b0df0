"""codexsnap rollback: make the home's snapshot scope exactly what a snapshot holds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from codexsnap.commands import Confirm, ask, open_existing_store
from codexsnap.commands.partial import key_restore, within
from codexsnap.compare import compare, live_state, snapshot_state
from codexsnap.errors import UsageError
from codexsnap.operation import PlannedWrite, refuse_if_codex_running, run_operation
from codexsnap.report import DiffReport, diff_file
from codexsnap.scope import load_scope
from codexsnap.store import Snapshot, SnapshotStore
from codexsnap.store.manifest import FileRecord


@dataclass(frozen=True)
class RollbackResult:
    """The snapshot restored, what changed, and the snapshots that make it undoable."""

    target: Snapshot
    dry_run: bool
    report: DiffReport
    snapshot_before: Snapshot | None = None
    snapshot_after: Snapshot | None = None
    drift: Snapshot | None = None

    @property
    def changed(self) -> bool:
        """True when files in the home were written."""
        return self.snapshot_after is not None


def plan_restore(
    store: SnapshotStore, target: dict[str, FileRecord], current: dict[str, FileRecord]
) -> list[PlannedWrite]:
    """The writes that turn ``current`` into ``target``: only files that differ."""
    writes: list[PlannedWrite] = []
    for path in sorted(target.keys() | current.keys()):
        want, have = target.get(path), current.get(path)
        if want is not None and have is not None and want.same_content(have):
            continue
        writes.append(
            PlannedWrite(
                path,
                store.read_blob(want.blob) if want else None,
                want.mode if want else None,
                (want or have).kind,  # type: ignore[union-attr]
                have.blob if have else None,
            )
        )
    return writes


def rollback(
    home: Path,
    store_root: Path,
    snapshot_id: str,
    *,
    dry_run: bool,
    force: bool,
    show_secrets: bool,
    confirm: Confirm,
    paths: Sequence[str] = (),
    key: str | None = None,
) -> RollbackResult:
    """Restore a snapshot: rewrite only files that differ, remove files it did not have.

    ``paths`` limits the rollback to those files or folders; ``key`` (with one path) restores
    a single JSON key of that file and keeps everything else Codex wrote since.
    """
    if key is not None and len(paths) != 1:
        raise UsageError(
            "--key needs exactly one --path (the JSON file)",
            hint="For example: --key local-projects --path .codex-global-state.json",
        )
    with open_existing_store(store_root) as store:
        target = store.resolve(home, snapshot_id)
        scope = load_scope(store_root)
        target_state = snapshot_state(store, target)
        # Paths now excluded by the scope are left alone: their current version would not
        # be in the "before" snapshot, so restoring them could not be undone.
        wanted = {p: r for p, r in target_state.records.items() if scope.includes(p)}
        # Hash without storing: the store is written only under the lock, in run_operation.
        current = store.scan_home(home, scope, write=False)
        # A file the target's own scope left out is not "missing" from it: keep it.
        target_scope = store.scope_of(target) or scope
        current = {p: r for p, r in current.items() if p in wanted or target_scope.includes(p)}
        if key is not None:
            writes = key_restore(store, home, wanted, current, paths[0], key)
        else:
            writes = plan_restore(store, wanted, current)
            if paths:
                writes = [w for w in writes if within(w.relpath, list(paths))]
        full = compare(
            live_state(home, scope, current),
            target_state,
            show_secrets,
            paths={w.relpath for w in writes},
        )
        # Sessions, logs and auth.json are not restored: leave them out of this report.
        report = DiffReport(full.files)
        if key is not None:
            # Only the key is written: the report shows those bytes, not the whole file.
            report = DiffReport(
                tuple(
                    diff_file(
                        w.relpath, (home / w.relpath).read_bytes(), w.new, "file", show_secrets
                    )
                    for w in writes
                )
            )
        if dry_run or not writes:
            return RollbackResult(target, dry_run, report)
        refuse_if_codex_running(force)
        ask(confirm, report)
        done = run_operation(
            store,
            home,
            scope,
            writes,
            f"rollback to {target.short_id}",
            {
                "Target": target.id,
                **({"Paths": " ".join(paths)} if paths else {}),
                **({"Key": key} if key else {}),
            },
            force,
        )
        return RollbackResult(target, False, report, done.before, done.after, done.drift)


def export_snapshot(home: Path, store_root: Path, snapshot_id: str, folder: Path) -> int:
    """Write a snapshot's files into another (new or empty) folder, for review; the home and
    the store stay untouched. Returns the number of files written."""
    from codexsnap.atomic_io import atomic_symlink, atomic_write

    folder = folder.expanduser().resolve()
    if folder == home or home in folder.parents:
        raise UsageError(
            f"--to-dir {folder} is inside the Codex home", hint="Choose a folder elsewhere."
        )
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise UsageError(
            f"--to-dir {folder} exists and is not an empty folder",
            hint="Give a new or empty folder.",
        )
    with open_existing_store(store_root) as store:
        records = store.records(store.resolve(home, snapshot_id))
        for relpath, record in sorted(records.items()):
            path = folder / relpath
            path.parent.mkdir(parents=True, exist_ok=True)
            data = store.read_blob(record.blob)
            if record.kind == "symlink":
                atomic_symlink(path, data.decode("utf-8", "surrogateescape"))
            else:
                atomic_write(path, data, record.mode)
        return len(records)
