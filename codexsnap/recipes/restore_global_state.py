"""restore-global-state: bring back a corrupt or emptied global state from a snapshot.

Symptom: projects vanished, the file is full of NUL bytes or empty; the app started from
empty state and overwrote ``.bak`` too (openai/codex #38757, #46987, #37927, #41578).
"""

from __future__ import annotations

from codexsnap.codex_files import (
    GLOBAL_STATE,
    GLOBAL_STATE_BAK,
    GLOBAL_STATE_TMP_PREFIX,
    has_projects,
)
from codexsnap.errors import StateFileInvalidError
from codexsnap.recipes import Changes, Contents, Evidence, Recipe, RecipeOptions, refuse
from codexsnap.state_file import parse_state


def is_damaged(raw: bytes | None) -> bool:
    """Missing, unreadable, or without its projects."""
    if raw is None:
        return True
    try:
        _, data = parse_state(GLOBAL_STATE, raw)
    except StateFileInvalidError:
        return True
    return not has_projects(data)


def leftovers(evidence: Evidence) -> tuple[str, ...]:
    """The app's unfinished atomic writes (seen on Windows, #41578)."""
    return tuple(p for p in evidence.home_files if p.startswith(GLOBAL_STATE_TMP_PREFIX))


def plan(contents: Contents, options: RecipeOptions, evidence: Evidence) -> Changes:
    """Restore both files from the newest good snapshot; remove temp leftovers."""
    changes: Changes = {p: None for p in leftovers(evidence) if contents.get(p) is not None}
    if not is_damaged(contents.get(GLOBAL_STATE)):
        return changes
    if evidence.restore_candidate is None:
        raise refuse(
            "the global state is damaged or has no projects, and no snapshot holds a good one",
            hint="See 'codexsnap history'; .bak is a mirror of the damaged file, not a backup.",
        )
    _, good = evidence.restore_candidate
    if contents.get(GLOBAL_STATE) != good:
        changes[GLOBAL_STATE] = good
    if contents.get(GLOBAL_STATE_BAK) != good:
        changes[GLOBAL_STATE_BAK] = good
    return changes


RECIPE = Recipe(
    name="restore-global-state",
    summary="restore a corrupt or emptied global state (and its .bak) from the newest good "
    "snapshot",
    inputs=lambda evidence: (GLOBAL_STATE, GLOBAL_STATE_BAK, *leftovers(evidence)),
    plan=plan,
    next_steps=("Start Codex again: your projects are back.",),
    cites=("#38757", "#46987", "#37927", "#41578"),
    needs=frozenset({"listing", "snapshots"}),
    runtime_removals=True,
)
