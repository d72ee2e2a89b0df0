"""remote-control: forget a revoked remote-control client so the app enrolls a new one.

Symptom: "Failed to update connection" on a remote device; the desktop log says
"Remote-control client has been revoked" with hasExistingEnrollment=true. The app keeps
reusing the revoked client id stored in its global state (openai/codex #28379, #26193,
#25532, #23865). Reinstalling does not help: the state lives in the Codex home.
"""

from __future__ import annotations

from codexsnap.errors import StateFileInvalidError
from codexsnap.json_edit import remove_top_level_keys
from codexsnap.recipes import Changes, Contents, Recipe, RecipeOptions
from codexsnap.state_file import GLOBAL_STATE, GLOBAL_STATE_BAK, parse_state

ENROLLMENT_KEYS = ("electron-remote-control-client-enrollments",)
CLEAN_KEYS = (
    "selected-remote-host-id",
    "remote-connection-auto-connect-by-host-id",
    "added-remote-control-env-ids",
)


def plan(contents: Contents, options: RecipeOptions) -> Changes:
    """Remove the enrollment keys from the global state; the ``.bak`` mirrors the result."""
    primary = contents.get(GLOBAL_STATE)
    bak = contents.get(GLOBAL_STATE_BAK)
    if options.reset:
        # Both files leave the home; their bytes live on in the "before" snapshot.
        return {name: None for name, raw in contents.items() if raw is not None}
    keys = set(ENROLLMENT_KEYS + (CLEAN_KEYS if options.clean else ()))
    if primary is None:
        if bak is None:
            return {}
        # Only the mirror exists: repair it in place.
        return _without_keys(GLOBAL_STATE_BAK, bak, keys)
    changes = _without_keys(GLOBAL_STATE, primary, keys)
    new_primary = changes.get(GLOBAL_STATE, primary)
    if bak is not None and bak != new_primary and (changes or _holds_keys(bak, keys)):
        # The app rewrites .bak as a byte-identical mirror on every save (#43393, #37927).
        changes[GLOBAL_STATE_BAK] = new_primary
    return changes


def _without_keys(name: str, raw: bytes, keys: set[str]) -> Changes:
    text, data = parse_state(name, raw)
    if not keys & data.keys():
        return {}
    return {name: remove_top_level_keys(text, keys).encode("utf-8")}


def _holds_keys(raw: bytes, keys: set[str]) -> bool:
    # A damaged .bak does not stop the fix: it is about to be replaced by the primary.
    try:
        _, data = parse_state(GLOBAL_STATE_BAK, raw)
    except StateFileInvalidError:
        return True
    return bool(keys & data.keys())


RECIPE = Recipe(
    name="remote-control",
    summary="forget the revoked remote-control client enrollment (--clean: and the remote "
    "host selection; --reset: move both global-state files out of the home)",
    files=(GLOBAL_STATE, GLOBAL_STATE_BAK),
    plan=plan,
    next_steps=(
        "Start Codex again.",
        "On the remote device, pair with this computer again (Settings > Remote control).",
    ),
    cites=("#28379", "#26193", "#25532", "#23865"),
)
