"""remote-control: forget a revoked remote-control client so the app enrolls a new one.

Symptom: "Failed to update connection" on the controlling computer (Settings → Connections →
Control other devices); the desktop log says "Remote-control client has been revoked" with
hasExistingEnrollment=true. The app keeps reusing the revoked client id stored in its global
state (openai/codex #28379, #26193, #25532, #23865). Reinstalling does not help: the state
lives in the Codex home. Windows has no "Control other devices" (#28919, #31039): it is never
a controller, so the recipe does not apply there (except ``--reset``).
"""

from __future__ import annotations

from typing import Any

from codexsnap.codex_files import (
    ENROLLMENT_KEY,
    GLOBAL_STATE,
    GLOBAL_STATE_BAK,
    LOCAL_PROJECTS_KEY,
    NO_CONTROLLER_PLATFORMS,
    REMOTE_SELECTION_KEYS,
    lists_projects,
)
from codexsnap.errors import StateFileInvalidError
from codexsnap.json_edit import (
    remove_top_level_keys,
    replace_top_level_value,
    top_level_value,
)
from codexsnap.recipes import (
    Changes,
    Contents,
    Evidence,
    Planned,
    Recipe,
    RecipeOptions,
    refuse,
)
from codexsnap.state_file import edit_state, state_value

# What --clean removes besides the enrollments.
CLEAN_KEYS = REMOTE_SELECTION_KEYS


def plan(contents: Contents, options: RecipeOptions, evidence: Evidence) -> Planned:
    """Remove the enrollments from the global state; the ``.bak`` mirrors the result."""
    if evidence.platform in NO_CONTROLLER_PLATFORMS and not options.reset:
        raise refuse(
            "Windows has no Settings → Connections → Control other devices, so this computer "
            "holds no controller client to forget (openai/codex #28919, #31039)",
            hint="Pair again from the device that controls this one; 'codexsnap doctor' says "
            "what the logs show.",
        )
    if options.reset:
        # Both files leave the home; their bytes live on in the "before" snapshot.
        return Planned({name: None for name, raw in contents.items() if raw is not None})
    keys = {ENROLLMENT_KEY, *(CLEAN_KEYS if options.clean else ())}

    def edit(name: str, raw: bytes) -> bytes:
        def change(text: str) -> str:
            if options.only_revoked:
                text = _drop_revoked(text, evidence)
                return remove_top_level_keys(text, keys - {ENROLLMENT_KEY})
            return remove_top_level_keys(text, keys)

        return edit_state(name, raw, change)

    changes = mirror_edit(contents, edit, replace_bak=options.replace_bak)
    return Planned(changes, advice(contents, options) if changes else ())


def mirror_edit(contents: Contents, edit: Any, *, replace_bak: bool = False) -> Changes:
    """Apply ``edit`` to the primary global state and make the ``.bak`` its mirror.

    The app rewrites ``.bak`` as a byte-identical mirror on every save (#43393, #37927), so
    a fix that left the old ``.bak`` would only keep a copy of the broken state around.
    """
    primary, bak = contents.get(GLOBAL_STATE), contents.get(GLOBAL_STATE_BAK)
    if primary is None:
        if bak is None:
            return {}
        new_bak = edit(GLOBAL_STATE_BAK, bak)
        return {GLOBAL_STATE_BAK: new_bak} if new_bak != bak else {}
    new_primary = edit(GLOBAL_STATE, primary)
    changes: Changes = {}
    if new_primary != primary:
        changes[GLOBAL_STATE] = new_primary
    if bak is not None and bak != new_primary and (changes or _edit_changes(edit, bak)):
        if not replace_bak and _loses_projects(new_primary, bak):
            # The app emptied its state (#38757) and .bak is the last copy of the projects:
            # mirroring would destroy it.
            raise refuse(
                f"{GLOBAL_STATE} has no projects but {GLOBAL_STATE_BAK} still lists them: "
                "mirroring the emptied file over the .bak would lose them",
                hint="Bring the projects back first with 'codexsnap fix restore-global-state' "
                "(or copy the .bak over the primary by hand); --replace-bak mirrors anyway.",
            )
        changes[GLOBAL_STATE_BAK] = new_primary
    return changes


def _loses_projects(new_primary: bytes, bak: bytes) -> bool:
    try:
        bak_projects = state_value(GLOBAL_STATE_BAK, bak, LOCAL_PROJECTS_KEY)
    except StateFileInvalidError:
        return False  # nothing readable to lose
    try:
        primary_projects = state_value(GLOBAL_STATE, new_primary, LOCAL_PROJECTS_KEY)
    except StateFileInvalidError:
        return True
    return lists_projects(bak_projects) and not lists_projects(primary_projects)


def _edit_changes(edit: Any, bak: bytes) -> bool:
    # A damaged .bak does not stop the fix: it is about to be replaced by the primary.
    try:
        return bool(edit(GLOBAL_STATE_BAK, bak) != bak)
    except StateFileInvalidError:
        return True


def _drop_revoked(text: str, evidence: Evidence) -> str:
    if not evidence.revoked_client_ids:
        searched = ", ".join(evidence.logs_searched) or "no log folder found"
        raise refuse(
            "--only-revoked needs log evidence, and no 'Remote-control client has been "
            f"revoked' line names a client (searched: {searched})",
            hint="Give the desktop app's log folder with --logs DIR, or drop --only-revoked.",
        )
    enrollments = top_level_value(text, ENROLLMENT_KEY)
    if not isinstance(enrollments, dict):
        return text
    kept = {
        key: value
        for key, value in enrollments.items()
        if not (isinstance(value, dict) and value.get("clientId") in evidence.revoked_client_ids)
    }
    if kept == enrollments:
        return text
    return replace_top_level_value(text, ENROLLMENT_KEY, kept)


def advice(contents: Contents, options: RecipeOptions) -> tuple[str, ...]:
    """With several enrollments, the default fix removes the live ones with the revoked."""
    if options.only_revoked or options.reset:
        return ()
    raw = contents.get(GLOBAL_STATE) or contents.get(GLOBAL_STATE_BAK)
    try:
        enrollments = state_value(GLOBAL_STATE, raw, ENROLLMENT_KEY) if raw is not None else None
    except StateFileInvalidError:
        return ()
    if not isinstance(enrollments, dict) or len(enrollments) < 2:
        return ()
    return (
        f"This removes all {len(enrollments)} remote-control enrollments, the ones still in "
        "use too; 'codexsnap fix remote-control --only-revoked --logs DIR' removes only those "
        "the desktop logs show revoked and keeps the others.",
    )


RECIPE = Recipe(
    name="remote-control",
    summary="forget the revoked remote-control client enrollment, so the app enrolls anew",
    inputs=lambda evidence: (GLOBAL_STATE, GLOBAL_STATE_BAK),
    plan=plan,
    next_steps=(
        "Start Codex again.",
        "On this computer, connect the other device again in Settings → Connections → "
        "Control other devices (#28119).",
    ),
    cites=("#28379", "#26193", "#25532", "#23865", "#28119"),
    options=frozenset({"clean", "reset", "only_revoked", "replace_bak"}),
    # Logs are read only with --only-revoked (the command layer checks that option).
)
