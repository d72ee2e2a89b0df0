"""codexsnap fix: run a repair recipe on the Codex home, with snapshots around it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from codexsnap.commands import Confirm
from codexsnap.commands.evidence import gather_evidence, read_input
from codexsnap.diff_report import DiffReport
from codexsnap.errors import ConfigError
from codexsnap.json_edit import shared_scans
from codexsnap.recipes import Recipe, RecipeOptions, check_options, get_recipe, planned
from codexsnap.roots import PROFILE_PREFIX, live_path
from codexsnap.scope import load_scope
from codexsnap.store import Snapshot
from codexsnap.store.trailers import encode
from codexsnap.transaction.operation import OnRecovery, transact
from codexsnap.transaction.plan import Plan, PlannedWrite, Shown, blob_id, planned_report
from codexsnap.transaction.recovery import Recovery


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
    recovery: Recovery | None = None  # a killed run undone before planning
    recovery_pending: bool = False  # a dry run found a killed run and left it
    notes: tuple[str, ...] = ()  # what the recipe says about its plan (the snapshot it used)
    warnings: tuple[str, ...] = ()  # what --force went past (a running Codex)

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
    sqlite_home: Path | None = None,
    on_recovery: OnRecovery | None = None,
) -> FixResult:
    """Plan the recipe, show it, then apply it between a "before" and an "after" snapshot.

    ``sqlite_home``: a SQLite home outside the Codex home, held by the snapshots too.
    """
    recipe = get_recipe(recipe_name)
    check_options(recipe, options)
    done = transact(
        home,
        store_root,
        lambda: plan_fix(recipe, options, home, store_root, log_folders, show_secrets, sqlite_home),
        dry_run=dry_run,
        force=force,
        confirm=confirm,
        sqlite_home=sqlite_home,
        on_recovery=on_recovery,
    )
    plan, begun = done.plan, done.begun
    steps = recipe.next_steps
    if done.codex_running:
        # "Start Codex again" while it runs would be wrong, and quitting it may undo the fix.
        steps = (
            "Codex is still running: quit it, start it again, then run 'codexsnap doctor' "
            "(if it wrote its old state back on quitting, run this fix again).",
            *(s for s in steps if not s.startswith("Start Codex again")),
        )
    if done.done is None:
        return FixResult(
            recipe.name,
            home,
            dry_run,
            plan.report,
            next_steps=steps,
            recovery=begun.recovery,
            recovery_pending=begun.pending,
            notes=plan.notes,
            warnings=plan.warnings,
        )
    restorable = tuple(
        w.relpath
        for w in plan.writes
        if plan.scope.includes(w.relpath) and not w.relpath.startswith(PROFILE_PREFIX)
    )
    return FixResult(
        recipe.name,
        home,
        False,
        plan.report,
        done.done.before,
        done.done.after,
        done.done.drift,
        steps,
        restorable,
        begun.recovery,
        notes=plan.notes,
        warnings=plan.warnings,
    )


# The recipe (its edit, its checks, its advice) and the report read the same global state
# and .bak, megabytes each: within one plan each distinct text is scanned once (issue 15).
@shared_scans()
def plan_fix(
    recipe: Recipe,
    options: RecipeOptions,
    home: Path,
    store_root: Path,
    log_folders: Sequence[Path],
    show_secrets: bool,
    sqlite_home: Path | None = None,
) -> Plan:
    """The recipe's writes on the home as it is now, and their report."""
    evidence = gather_evidence(recipe, options, home, store_root, log_folders, sqlite_home)
    inputs = {
        name: read_input(home, name, recipe.head_only, sqlite_home)
        for name in recipe.inputs(evidence)
    }
    answer = planned(
        recipe.plan({name: found.data for name, found in inputs.items()}, options, evidence)
    )
    changes = answer.changes
    scope = load_scope(store_root).with_sqlite_home(sqlite_home)
    writes: list[PlannedWrite] = []
    shown: list[Shown] = []
    aside: tuple[str, ...] = ()
    if recipe.moves_aside:
        writes, shown, aside = _moved_aside(home, changes)
        changes = {}
    for name, new in changes.items():
        if name.startswith(PROFILE_PREFIX):  # runtime files outside the home: removals only
            write, show = _profile_removal(home, name)
            writes.append(write)
            shown.append(show)
            continue
        found = inputs.get(name) or read_input(home, name, (), sqlite_home)
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
        shown.append(Shown(name, old, new, found.kind))
    report = replace(planned_report(shown, show_secrets), notes=answer.notes)
    switches = options.flags()
    name = " ".join(["fix", recipe.name, *switches])
    return Plan(
        tuple(writes),
        report,
        scope,
        name,
        encode({"Recipe": recipe.name, "Options": switches}),
        notes=answer.notes,
        aside=aside,
    )


def _profile_removal(home: Path, name: str) -> tuple[PlannedWrite, Shown]:
    """Removing a single-instance file of the desktop app's profile (a link, as a rule)."""
    path = live_path(home, name, None)
    if path.is_symlink():
        target = os.fsencode(os.readlink(path))
        return PlannedWrite(name, None, kind="symlink", check_expected=False), Shown(
            name, target, None, "symlink"
        )
    return PlannedWrite(name, None, kind="other", check_expected=False), Shown(
        name, b"", None, "other"
    )


def _moved_aside(
    home: Path, changes: dict[str, bytes | None]
) -> tuple[list[PlannedWrite], list[Shown], tuple[str, ...]]:
    """Writes of files the store keeps byte for byte first (a damaged database, its -wal).

    Their raw bytes are what is kept and shown: a damaged database has no consistent copy,
    and its sidecars are no database at all. They are written as plain files, the -wal of
    the old database going with it, never replayed onto a good copy.
    """
    writes: list[PlannedWrite] = []
    shown: list[Shown] = []
    kept: list[str] = []
    for name, new in changes.items():
        path = home / name
        old = path.read_bytes() if path.is_file() and not path.is_symlink() else None
        if old is not None:
            kept.append(name)
        writes.append(PlannedWrite(name, new, kind="file", check_expected=False))
        shown.append(Shown(name, old, new, "file"))
    return writes, shown, tuple(kept)
