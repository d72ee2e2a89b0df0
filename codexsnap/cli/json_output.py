"""Every ``--json`` shape, in one place (documented in docs/reference.md#json-output).

The commands return frozen results; these functions turn them into plain data, and
`dump_json` into the text printed on stdout.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codexsnap.cli.report_text import describe, printable

if TYPE_CHECKING:
    from codexsnap.commands.adopt import AdoptResult
    from codexsnap.commands.check import CheckResult, Finding
    from codexsnap.commands.diff import DiffResult
    from codexsnap.commands.doctor import DoctorResult
    from codexsnap.commands.fix import FixResult
    from codexsnap.commands.prune import PruneResult
    from codexsnap.commands.rollback import Exported, RollbackResult
    from codexsnap.commands.show import ShowResult
    from codexsnap.commands.snapshot import SnapshotTaken
    from codexsnap.diff_report import Change, DiffReport, FileDiff, OutsideChange
    from codexsnap.doctor import Check
    from codexsnap.home import CodexHome
    from codexsnap.recipes import Recipe
    from codexsnap.store import Snapshot


def dump_json(value: Any) -> str:
    """JSON for scripts: stable key order, UTF-8, one trailing newline."""
    return printable(json.dumps(value, indent=2, ensure_ascii=False, default=str)) + "\n"


# ----- the pieces several commands share -------------------------------------------------


def snapshot_json(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot object."""
    return {
        "id": snapshot.id,
        "short_id": snapshot.short_id,
        "created_at": snapshot.created_at.isoformat(),
        "operation": snapshot.operation,
        "summary": snapshot.summary,
        "message": snapshot.message,
        "files_changed": snapshot.files_changed,
        "sqlite_home": snapshot.trailers.get("Sqlite-Home"),
        "sqlite_files_changed": snapshot.sqlite_files_changed,
        "recipe": snapshot.trailers.get("Recipe"),
        "options": list(snapshot.options),
        "origin": snapshot.origin,
        "description": describe(snapshot),
        "target": snapshot.target or None,
        "undoes": snapshot.undoes or None,
        "paths": list(snapshot.paths),
        "key": snapshot.key or None,
        "before": snapshot.before or None,
        "parent": snapshot.parent,
        "pinned": snapshot.pinned,
        "pin_reason": snapshot.pin_reason if snapshot.pinned else None,
        "note": snapshot.note,
        "pruned": snapshot.pruned,
        "damaged": snapshot.damaged or None,
        "quarantined": snapshot.quarantined or None,
        "damaged_files": list(snapshot.damaged_files),
    }


def change_json(change: Change) -> dict[str, Any]:
    """The change object: ``old`` only when something was there, ``new`` only when it stays."""
    out: dict[str, Any] = {"kind": change.kind, "path": list(change.path)}
    if change.kind != "added":
        out["old"] = change.old
    if change.kind != "removed":
        out["new"] = change.new
    return out


def file_json(file: FileDiff) -> dict[str, Any]:
    """The file object."""
    return {
        "path": file.path,
        "status": file.status,
        "format": file.format,
        "changes": [change_json(c) for c in file.changes],
        "notes": list(file.notes),
    }


def outside_json(change: OutsideChange) -> dict[str, Any]:
    """The outside object."""
    return {
        "group": change.group,
        "added": change.added,
        "removed": change.removed,
        "changed": change.changed,
        "size_before": change.size_before,
        "size_after": change.size_after,
    }


def changes_json(report: DiffReport) -> list[dict[str, Any]]:
    """The ``changes`` list: one file object per file that differs."""
    return [file_json(f) for f in report.files]


def report_json(report: DiffReport) -> dict[str, Any]:
    """The report part of ``show`` and ``diff``."""
    return {
        "changes": changes_json(report),
        "outside": [outside_json(c) for c in report.outside],
        "auth": list(report.auth),
    }


def _id(snapshot: Snapshot | None) -> str | None:
    return snapshot.id if snapshot else None


# ----- one shape per command --------------------------------------------------------------


def fix_json(result: FixResult, undo: str | None) -> dict[str, Any]:
    return {
        "recipe": result.recipe,
        "home": str(result.home),
        "dry_run": result.dry_run,
        "changed": result.changed,
        "snapshot_before": _id(result.snapshot_before),
        "snapshot_after": _id(result.snapshot_after),
        "drift_snapshot": _id(result.drift),
        "changes": changes_json(result.report),
        "next_steps": list(result.next_steps) if result.changed else [],
        "notes": list(result.notes),
        "undo": undo,
    }


def rollback_json(result: RollbackResult, undo: str | None) -> dict[str, Any]:
    """``rollback --json`` and ``undo --json``."""
    return {
        "target": result.target.id,
        "dry_run": result.dry_run,
        "changed": result.changed,
        "snapshot_before": _id(result.snapshot_before),
        "snapshot_after": _id(result.snapshot_after),
        "drift_snapshot": _id(result.drift),
        "changes": changes_json(result.report),
        "undo": undo,
    }


def export_json(to_dir: Path, exported: Exported) -> dict[str, Any]:
    """``rollback --to-dir --json``."""
    return {
        "to_dir": str(to_dir.resolve()),
        "files": exported.written,
        "damaged": list(exported.damaged),
    }


def doctor_json(
    home: CodexHome, store: Path, result: DoctorResult, cures: Sequence[str | None]
) -> dict[str, Any]:
    return {
        "home": str(home.path),
        "home_source": home.source,
        "store": str(store),
        "log_folders": [str(folder) for folder in result.log_folders],
        "healthy": result.healthy,
        "problems": result.problems,
        "warnings": result.warnings,
        "skipped": len(result.skipped),
        "checks": [
            check_json(check, cure) for check, cure in zip(result.checks, cures, strict=True)
        ],
    }


def check_json(check: Check, cure: str | None) -> dict[str, Any]:
    """One doctor check; ``cure`` as rendered with the run's flags."""
    return {
        "name": check.name,
        "status": check.status,
        "evidence": check.evidence,
        "cure": cure,
        "to_run": check.to_run or None,
    }


def recipes_json(recipes: Iterable[Recipe]) -> list[dict[str, Any]]:
    from codexsnap.recipes import flag

    return [
        {
            "name": r.name,
            "summary": r.summary,
            "options": sorted(flag(o) for o in r.options),
            "cites": [f"openai/codex{c}" for c in r.cites],
        }
        for r in recipes
    ]


def finding_json(finding: Finding) -> dict[str, Any]:
    return {"severity": finding.severity, "snapshot": finding.snapshot, "message": finding.message}


def store_check_json(result: CheckResult) -> dict[str, Any]:
    return {
        "damaged": result.damaged,
        "snapshots_checked": result.snapshots_checked,
        "databases_checked": result.databases_checked,
        "findings": [finding_json(f) for f in result.findings],
        "quarantined": list(result.quarantined),
        "damaged_files": {k: list(v) for k, v in sorted(result.damaged_files.items())},
    }


def history_json(snapshots: Iterable[Snapshot]) -> list[dict[str, Any]]:
    return [snapshot_json(s) for s in snapshots]


def show_json(result: ShowResult) -> dict[str, Any]:
    summary = result.summary
    return {
        **snapshot_json(result.snapshot),
        "files_total": result.files_total,
        "summary": None
        if summary is None
        else {
            "files": summary.total.files,
            "size": summary.total.size,
            "kinds": {k: {"files": t.files, "size": t.size} for k, t in summary.kinds.items()},
            "folders": {f: {"files": t.files, "size": t.size} for f, t in summary.folders.items()},
        },
        **report_json(result.report),
    }


def diff_json(result: DiffResult) -> dict[str, Any]:
    return {
        "old": result.old.id,
        "new": _id(result.new),
        "different": not result.report.empty,
        **report_json(result.report),
    }


def snapshot_taken_json(taken: SnapshotTaken) -> dict[str, Any]:
    return {**snapshot_json(taken.snapshot), "created": taken.created}


def prune_json(result: PruneResult) -> dict[str, Any]:
    return {
        "dry_run": result.dry_run,
        "pruned": [snapshot_json(s) for s in result.marked],
        "kept": result.kept,
        "collected": result.collected,
        "restored": result.restored,
    }


def adopt_json(result: AdoptResult) -> dict[str, Any]:
    return {
        "dry_run": result.adopted is None,
        "old_path": str(result.old_path),
        "snapshots": result.snapshots,
        "latest": snapshot_json(result.latest),
        "adopted": None if result.adopted is None else snapshot_json(result.adopted),
    }
