"""codexsnap fix: run a repair recipe on the Codex home, with snapshots around it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from codexsnap.commands import Confirm, ask
from codexsnap.commands.evidence import gather_evidence, read_input
from codexsnap.errors import ConfigError
from codexsnap.operation import PlannedWrite, blob_id, refuse_if_codex_running, run_operation
from codexsnap.recipes import RecipeOptions, get_recipe
from codexsnap.report import DiffReport, FileDiff, diff_file
from codexsnap.scope import load_scope
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
    restorable: tuple[str, ...] = ()  # the written files a rollback can put back

    @property
    def changed(self) -> bool:
        """True when files in the home were written."""
        return self.snapshot_after is not None


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
    log_folders: Sequence[Path] = (),
) -> FixResult:
    """Plan the recipe, show it, then apply it between a "before" and an "after" snapshot."""
    recipe = get_recipe(recipe_name)
    evidence = gather_evidence(recipe, options, home, store_root, log_folders)
    inputs = {name: read_input(home, name, recipe.head_only) for name in recipe.inputs(evidence)}
    changes = recipe.plan({name: found.data for name, found in inputs.items()}, options, evidence)
    scope = load_scope(store_root)
    writes: list[PlannedWrite] = []
    diffs: list[FileDiff] = []
    compared: dict[tuple[str, str | None, str | None], FileDiff] = {}
    for name, new in changes.items():
        found = inputs.get(name) or read_input(home, name, ())
        old = found.data
        runtime = scope.excluded_by(found.relpath)
        removable = recipe.runtime_removals and new is None
        if runtime is not None and not (removable and runtime.category == "runtime"):
            raise ConfigError(
                f"{found.relpath} is excluded from snapshots, so this fix could not be undone",
                hint=f"Remove that exclusion from {store_root / 'scope.toml'}.",
            )
        linked = found.relpath != name
        writes.append(
            PlannedWrite(
                # Removing through a link would delete its target and leave the link dangling:
                # a removal takes the link itself.
                name if (new is None and linked) else found.relpath,
                new,
                kind="symlink" if (new is None and linked) else found.kind,
                expected_blob=None if old is None else blob_id(old),
                check_expected=runtime is None and found.kind == "file" and not linked,
            )
        )
        # The .bak usually gets the primary's exact edit: compare those bytes only once.
        pair = (
            found.kind,
            None if old is None else blob_id(old),
            None if new is None else blob_id(new),
        )
        if pair not in compared:
            compared[pair] = diff_file(name, old, new, found.kind, show_secrets)
        diffs.append(replace(compared[pair], path=name))
    report = DiffReport(tuple(diffs))
    result = FixResult(recipe.name, home, dry_run, report, next_steps=recipe.next_steps)
    if not writes or dry_run:
        return result
    refuse_if_codex_running(force)
    ask(confirm, report)
    with SnapshotStore.open(store_root, create=True) as store:
        done = run_operation(
            store, home, scope, writes, f"fix {recipe.name}", {"Recipe": recipe.name}, force
        )
    restorable = tuple(w.relpath for w in writes if scope.includes(w.relpath))
    return FixResult(
        recipe.name,
        home,
        False,
        report,
        done.before,
        done.after,
        done.drift,
        recipe.next_steps,
        restorable,
    )
