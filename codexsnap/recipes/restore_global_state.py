"""restore-global-state: bring back a corrupt or emptied global state from a snapshot.

Symptom: projects vanished, the file is full of NUL bytes or empty; the app started from
empty state and overwrote ``.bak`` too (openai/codex #38757, #46987, #37927, #41578).
A file that does not parse is restored whole: nothing in it can be kept. A file that parses
but lost its projects gets back only the keys that lost data (#37927 restored the registry
alone), so drafts, enrollments and settings the app wrote since stay.
"""

from __future__ import annotations

from typing import Any

from codexsnap.codex_files import (
    GLOBAL_STATE,
    GLOBAL_STATE_BAK,
    GLOBAL_STATE_TMP_PREFIX,
    has_projects,
)
from codexsnap.errors import StateFileInvalidError
from codexsnap.json_edit import set_top_level_members
from codexsnap.recipes import (
    Candidate,
    Changes,
    Contents,
    Evidence,
    Planned,
    Recipe,
    RecipeOptions,
    refuse,
)
from codexsnap.recipes.remote_control import mirror_edit
from codexsnap.state_file import edit_state, parse_state
from codexsnap.wording import plural

_EMPTY: tuple[Any, ...] = ({}, [], None, "")
_SHOWN_KEYS = 4


def is_damaged(raw: bytes | None) -> bool:
    """Missing, unreadable, or without its projects."""
    data = _parsed(raw)
    return data is None or not has_projects(data)


def _parsed(raw: bytes | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        return parse_state(GLOBAL_STATE, raw)[1]
    except StateFileInvalidError:
        return None


def leftovers(evidence: Evidence) -> tuple[str, ...]:
    """The app's unfinished atomic writes (seen on Windows, #41578)."""
    return tuple(p for p in evidence.home_files if p.startswith(GLOBAL_STATE_TMP_PREFIX))


def lost_keys(now: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """The keys of ``old`` whose data ``now`` lost: absent, or emptied where ``old`` had some."""
    return {
        key: value
        for key, value in old.items()
        if value not in _EMPTY and (key not in now or now[key] in _EMPTY)
    }


def plan(contents: Contents, options: RecipeOptions, evidence: Evidence) -> Planned:
    """Restore what the global state lost from the newest good snapshot; remove temp leftovers."""
    changes: Changes = {p: None for p in leftovers(evidence) if contents.get(p) is not None}
    primary = contents.get(GLOBAL_STATE)
    if not is_damaged(primary):
        return Planned(changes)
    now = _parsed(primary)
    if now is not None:
        return _key_level(contents, now, evidence, changes)
    candidate = evidence.restore_candidate
    if candidate is None:
        raise refuse(
            "the global state is damaged or has no projects, and no snapshot holds a good one",
            hint="See 'codexsnap history'; .bak is a mirror of the damaged file, not a backup.",
        )
    good = candidate.data
    if primary != good:
        changes[GLOBAL_STATE] = good
    if contents.get(GLOBAL_STATE_BAK) != good:
        changes[GLOBAL_STATE_BAK] = good
    why = "is missing" if primary is None else "does not parse"
    return Planned(
        changes, (f"{GLOBAL_STATE} {why}: restored whole from snapshot {candidate.label}.",)
    )


def _key_level(
    contents: Contents, now: dict[str, Any], evidence: Evidence, changes: Changes
) -> Planned:
    candidate: Candidate | None = evidence.projects_candidate
    if candidate is None:
        raise refuse(
            f"{GLOBAL_STATE} lists no projects, and no snapshot holds a global state that does",
            hint="'codexsnap fix project-registry' rebuilds the registry from the state "
            "database; see 'codexsnap history'.",
        )
    lost = lost_keys(now, parse_state(GLOBAL_STATE, candidate.data)[1])

    def edit(name: str, raw: bytes) -> bytes:
        return edit_state(name, raw, lambda text: set_top_level_members(text, lost))

    states = {k: contents.get(k) for k in (GLOBAL_STATE, GLOBAL_STATE_BAK)}
    changes.update(mirror_edit(states, edit))
    shown = ", ".join(sorted(lost)[:_SHOWN_KEYS]) + (", …" if len(lost) > _SHOWN_KEYS else "")
    kept = len(now.keys() - lost.keys())
    note = (
        f"Restored {plural(len(lost), 'key')} that lost data ({shown}) from snapshot "
        f"{candidate.label}; the other {plural(kept, 'key')} stay as the app wrote them since."
    )
    return Planned(changes, (note,))


RECIPE = Recipe(
    name="restore-global-state",
    summary="restore what a corrupt or emptied global state (and its .bak) lost, from the "
    "newest good snapshot",
    inputs=lambda evidence: (GLOBAL_STATE, GLOBAL_STATE_BAK, *leftovers(evidence)),
    plan=plan,
    next_steps=("Start Codex again: your projects are back.",),
    cites=("#38757", "#46987", "#37927", "#41578"),
    needs=frozenset({"listing", "snapshots"}),
    runtime_removals=True,
)
