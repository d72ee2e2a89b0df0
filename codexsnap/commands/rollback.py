"""codexsnap rollback: make the home's snapshot scope exactly what a snapshot holds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from codexsnap.codex_version import newer_databases
from codexsnap.commands import Confirm, open_existing_store
from codexsnap.diff_report import DiffReport
from codexsnap.errors import SchemaAheadError, TamperedSnapshotError, UsageError
from codexsnap.roots import live_path
from codexsnap.scope import load_scope
from codexsnap.store import Snapshot
from codexsnap.transaction.operation import OnRecovery, Transaction, transact
from codexsnap.transaction.plan import Plan, plan_restore, plan_rollback
from codexsnap.transaction.recovery import Recovery
from codexsnap.wording import plural

__all__ = [
    "Exported",
    "RollbackResult",
    "export_damage",
    "export_snapshot",
    "plan_restore",
    "rollback",
]


@dataclass(frozen=True)
class RollbackResult:
    """The snapshot restored, what changed, and the snapshots that make it undoable."""

    target: Snapshot
    dry_run: bool
    report: DiffReport
    snapshot_before: Snapshot | None = None
    snapshot_after: Snapshot | None = None
    drift: Snapshot | None = None
    recovery: Recovery | None = None  # a killed run undone before planning
    recovery_pending: bool = False  # a dry run found a killed run and left it
    warnings: tuple[str, ...] = ()  # what --force (or a dry run) went past

    @property
    def changed(self) -> bool:
        """True when files in the home were written."""
        return self.snapshot_after is not None


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
    sqlite_home: Path | None = None,
    on_recovery: OnRecovery | None = None,
) -> RollbackResult:
    """Restore a snapshot: rewrite only files that differ, remove files it did not have.

    ``paths`` limits the rollback to those files or folders; ``key`` (with one path) restores
    a single JSON key of that file and keeps everything else Codex wrote since.
    ``sqlite_home``: a SQLite home outside the Codex home, restored too (roots.py).
    """
    if key is not None and len(paths) != 1:
        raise UsageError(
            "--key needs exactly one --path (the JSON file)",
            hint="For example: --key local-projects --path .codex-global-state.json",
        )
    done = transact(
        home,
        store_root,
        lambda: plan_snapshot_restore(
            home,
            store_root,
            snapshot_id,
            paths,
            key,
            show_secrets,
            sqlite_home,
            refuse_newer=not (force or dry_run),
        ),
        dry_run=dry_run,
        force=force,
        confirm=confirm,
        sqlite_home=sqlite_home,
        on_recovery=on_recovery,
    )
    return rollback_result(done, dry_run)


def plan_snapshot_restore(
    home: Path,
    store_root: Path,
    snapshot_id: str,
    paths: Sequence[str],
    key: str | None,
    show_secrets: bool,
    sqlite_home: Path | None = None,
    *,
    refuse_newer: bool = True,
) -> Plan:
    """The plan that restores ``snapshot_id`` (some ``paths`` of it, or one ``key``).

    A database holding migrations the live one lacks is refused when ``refuse_newer``
    (rollback without --force), else named in the plan's warnings.
    """
    with open_existing_store(store_root) as store:
        target = store.resolve(home, snapshot_id)
        scope = load_scope(store_root).with_sqlite_home(sqlite_home)
        plan = plan_rollback(store, home, scope, target, paths, key, show_secrets)
    newer = newer_databases(
        (w.relpath, live_path(home, w.relpath, sqlite_home), w.new)
        for w in plan.writes
        if w.kind == "sqlite" and w.new is not None
    )
    if newer and refuse_newer:
        raise SchemaAheadError(
            "; ".join(newer),
            hint="Update Codex to the version that took the snapshot, then roll back; or "
            "leave that database out with --path; --force restores it anyway.",
        )
    return replace(plan, warnings=(*plan.warnings, *newer))


def rollback_result(done: Transaction, dry_run: bool) -> RollbackResult:
    """The result of a rollback (or an undo) from its transaction."""
    plan, begun = done.plan, done.begun
    assert plan.target is not None  # every restore plan names its snapshot
    if done.done is None:
        return RollbackResult(
            plan.target,
            dry_run,
            plan.report,
            recovery=begun.recovery,
            recovery_pending=begun.pending,
            warnings=plan.warnings,
        )
    return RollbackResult(
        plan.target,
        False,
        plan.report,
        done.done.before,
        done.done.after,
        done.done.drift,
        begun.recovery,
        warnings=plan.warnings,
    )


@dataclass(frozen=True)
class Exported:
    """What ``rollback --to-dir`` wrote, and the files it could not (damaged in the store)."""

    snapshot: Snapshot
    written: int
    damaged: tuple[str, ...] = ()


def export_snapshot(home: Path, store_root: Path, snapshot_id: str, folder: Path) -> Exported:
    """Write a snapshot's files into another (new or empty) folder, for review; the home and
    the store stay untouched.

    A file whose stored bytes are damaged is left out and named: every intact file is
    still written (per-file quarantine), and the caller reports the rest as a failure.
    """
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
    damaged: list[str] = []
    with open_existing_store(store_root) as store:
        snapshot = store.resolve(home, snapshot_id)
        records = store.records(snapshot)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        for relpath, record in sorted(records.items()):
            data = store.read_verified(record.blob)
            if data is None:
                damaged.append(relpath)
                continue
            path = folder / relpath
            for parent in reversed(path.relative_to(folder).parents[:-1]):
                (folder / parent).mkdir(mode=0o700, exist_ok=True)
            if record.kind == "symlink":
                atomic_symlink(path, data.decode("utf-8", "surrogateescape"))
            else:
                # The snapshot's own mode, but never for group or others: config.toml holds
                # tokens, the state files enrollment keys, the databases prompts.
                atomic_write(path, data, record.mode & 0o700)
        return Exported(snapshot, len(records) - len(damaged), tuple(damaged))


def export_damage(exported: Exported) -> TamperedSnapshotError:
    """The error ``rollback --to-dir`` ends with when it had to leave files out."""
    names = ", ".join(exported.damaged[:5])
    more = len(exported.damaged) - 5
    return TamperedSnapshotError(
        f"{plural(len(exported.damaged), 'file')} of snapshot {exported.snapshot.short_id} "
        f"could not be written, their stored bytes are damaged: {names}"
        + (f" and {more} more" if more > 0 else ""),
        hint="Every other file was written. 'codexsnap check --repair' heals a file the Codex "
        "home still holds; an older snapshot may hold it too ('codexsnap history').",
    )
