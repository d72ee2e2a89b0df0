"""codexsnap fix: run a repair recipe on the Codex home, with snapshots around it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from codexsnap.commands import Confirm, ask
from codexsnap.errors import ConfigError, StateFileInvalidError
from codexsnap.operation import PlannedWrite, blob_id, refuse_if_codex_running, run_operation
from codexsnap.recipes import RecipeOptions, get_recipe
from codexsnap.report import DiffReport, diff_file
from codexsnap.scope import load_scope
from codexsnap.state_file import resolve_target
from codexsnap.store import Snapshot, SnapshotStore


@dataclass(frozen=True)
class FixResult:
    """What ``fix`` found, changed, and how to undo it."""

    recipe: str
    home: Path
    dry_run: bool
    report: DiffReport
    snapshot_before: Snapshot | None = None
    snapshot_after: Snapshot | None = None
    drift: Snapshot | None = None
    next_steps: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """True when files in the home were written."""
        return self.snapshot_after is not None


def _read(home: Path, name: str) -> tuple[str, bytes | None]:
    """The file's path relative to the home (through a link inside it) and its bytes."""
    path = home / name
    if not os.path.lexists(path):
        return name, None
    target = resolve_target(home, path)
    relpath = target.relative_to(home.resolve()).as_posix()
    if target.is_dir():
        raise StateFileInvalidError(
            f"{path} is a folder, not a file", hint="Move it away, then run codexsnap again."
        )
    try:
        return relpath, target.read_bytes()
    except FileNotFoundError:
        raise StateFileInvalidError(
            f"{path} is a link to a missing file", hint="Remove the broken link."
        ) from None
    except PermissionError:
        raise StateFileInvalidError(
            f"{path} cannot be read (permission denied)",
            hint="Run codexsnap as the owner of the Codex home.",
        ) from None


def fix(
    home: Path,
    store_root: Path,
    recipe_name: str,
    options: RecipeOptions,
    *,
    dry_run: bool,
    force: bool,
    show_secrets: bool,
    confirm: Confirm,
) -> FixResult:
    """Plan the recipe, show it, then apply it between a "before" and an "after" snapshot."""
    recipe = get_recipe(recipe_name)
    located = {name: _read(home, name) for name in recipe.files}
    contents = {name: raw for name, (_, raw) in located.items()}
    changes = recipe.plan(contents, options)
    writes: list[PlannedWrite] = []
    diffs = []
    for name, new in changes.items():
        relpath, old = located[name]
        writes.append(
            PlannedWrite(relpath, new, expected_blob=None if old is None else blob_id(old))
        )
        diffs.append(diff_file(name, old, new, show_secrets=show_secrets))
    report = DiffReport(tuple(diffs))
    result = FixResult(recipe.name, home, dry_run, report, next_steps=recipe.next_steps)
    if not writes or dry_run:
        return result
    refuse_if_codex_running(force)
    scope = load_scope(store_root)
    outside = [w.relpath for w in writes if not scope.includes(w.relpath)]
    if outside:
        raise ConfigError(
            f"{', '.join(outside)} is excluded from snapshots, so the fix could not be undone",
            hint=f"Remove that exclusion from {store_root / 'scope.toml'}.",
        )
    ask(confirm, report)
    with SnapshotStore.open(store_root, create=True) as store:
        done = run_operation(
            store, home, scope, writes, f"fix {recipe.name}", {"Recipe": recipe.name}, force
        )
    return FixResult(
        recipe.name, home, False, report, done.before, done.after, done.drift, recipe.next_steps
    )
