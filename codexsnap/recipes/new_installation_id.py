"""new-installation-id: give a cloned machine its own remote-control host identity.

Symptom: two machines act as one remote-control host after a migration or a restore,
because ``installation_id`` was copied (openai/codex #22950, #33830, #35774).
"""

from __future__ import annotations

from codexsnap.codex_files import INSTALLATION_ID
from codexsnap.recipes import Changes, Contents, Evidence, Recipe, RecipeOptions, refuse

MOVED_ASIDE = "installation_id.codexsnap-old"


def plan(contents: Contents, options: RecipeOptions, evidence: Evidence) -> Changes:
    """Move ``installation_id`` aside; Codex writes a new one on its next start."""
    current = contents.get(INSTALLATION_ID)
    if current is None:
        raise refuse(
            "there is no installation_id to replace (Codex makes one on its next start)",
            hint="Start Codex once, then run this again if two machines still act as one.",
        )
    return {INSTALLATION_ID: None, MOVED_ASIDE: current}


RECIPE = Recipe(
    name="new-installation-id",
    summary="move installation_id aside so Codex makes a new host identity (cloned machines)",
    inputs=lambda evidence: (INSTALLATION_ID,),
    plan=plan,
    next_steps=(
        "Start Codex again: it creates a new installation_id.",
        "Every remote device must pair with this computer again; consider "
        "'codexsnap fix pairing-reset' too.",
    ),
    cites=("#22950", "#33830", "#35774"),
)
