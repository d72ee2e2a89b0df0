"""project-roots: keep only the first folder of a project that has several.

Symptom: the Windows app no longer starts after a second folder was added to a project
(openai/codex #35057, three confirmations). The registry entry's ``rootPaths`` then has two
entries; the confirmed manual cure keeps the first in both global-state files.
"""

from __future__ import annotations

from typing import Any

from codexsnap.codex_files import GLOBAL_STATE, GLOBAL_STATE_BAK, LOCAL_PROJECTS_KEY, root_paths
from codexsnap.errors import UsageError
from codexsnap.json_edit import replace_top_level_value, top_level_value
from codexsnap.recipes import Contents, Evidence, Planned, Recipe, RecipeOptions, refuse
from codexsnap.recipes.remote_control import mirror_edit
from codexsnap.state_file import edit_state, parse_state


def find_project(registry: dict[str, Any], wanted: str) -> str:
    """The registry key of the project named or identified by ``wanted``."""
    if wanted in registry:
        return wanted
    named = [
        key
        for key, entry in registry.items()
        if isinstance(entry, dict) and wanted in (entry.get("name"), entry.get("id"))
    ]
    if len(named) == 1:
        return named[0]
    if named:
        raise UsageError(
            f"{len(named)} projects are called {wanted!r}",
            hint=f"Give one of their ids with --project: {', '.join(named)}.",
        )
    names = [str(e.get("name")) for e in registry.values() if isinstance(e, dict)]
    raise refuse(
        f"no project called {wanted!r} in {LOCAL_PROJECTS_KEY}",
        hint=f"Projects: {', '.join(names) or 'none'}.",
    )


def plan(contents: Contents, options: RecipeOptions, evidence: Evidence) -> Planned:
    """Trim the project's ``rootPaths`` to its first entry in both global-state files."""
    if not options.project:
        raise UsageError(
            "project-roots needs --project NAME (the project whose folders to trim)",
            hint="'codexsnap doctor' names the projects with more than one folder.",
        )
    primary, bak = contents.get(GLOBAL_STATE), contents.get(GLOBAL_STATE_BAK)
    name, raw = (GLOBAL_STATE, primary) if primary is not None else (GLOBAL_STATE_BAK, bak)
    if raw is None:
        raise refuse(
            f"there is no {GLOBAL_STATE}, so no project to trim",
            hint="Run it on the home whose desktop app does not start (--codex-home).",
        )
    registry = parse_state(name, raw)[1].get(LOCAL_PROJECTS_KEY)
    if not isinstance(registry, dict):
        raise refuse(
            f"{LOCAL_PROJECTS_KEY} lists no project",
            hint="'codexsnap fix project-registry' rebuilds it first.",
        )
    key = find_project(registry, options.project)
    roots = root_paths(registry[key])
    if len(roots) < 2:
        return Planned({}, (f"{options.project} has one folder only: nothing to trim.",))

    def edit(path: str, data: bytes) -> bytes:
        def trim(text: str) -> str:
            found = top_level_value(text, LOCAL_PROJECTS_KEY)
            entry = found.get(key) if isinstance(found, dict) else None
            if not isinstance(entry, dict) or len(root_paths(entry)) < 2:
                return text
            found[key] = {**entry, "rootPaths": root_paths(entry)[:1]}
            return replace_top_level_value(text, LOCAL_PROJECTS_KEY, found)

        return edit_state(path, data, trim)

    states = {GLOBAL_STATE: primary, GLOBAL_STATE_BAK: bak}
    changes = mirror_edit(states, edit, replace_bak=options.replace_bak)
    dropped = ", ".join(roots[1:])
    return Planned(changes, (f"{options.project} keeps {roots[0]}; dropped: {dropped}.",))


RECIPE = Recipe(
    name="project-roots",
    summary="keep only the first folder of a project with several (Windows app will not start)",
    inputs=lambda evidence: (GLOBAL_STATE, GLOBAL_STATE_BAK),
    plan=plan,
    next_steps=(
        "Start Codex again.",
        "Add the other folder as a project of its own, not as a second folder (#35057).",
    ),
    cites=("#35057",),
    options=frozenset({"project", "replace_bak"}),
)
