"""project-registry: bring back the projects the sidebar lost, from the database or a snapshot.

Symptom: projects and threads vanish from the desktop sidebar while their data is intact, the
most reported Codex breakage (openai/codex #42739, #39121, #37927, #19615, #46919, #35088).
The app's registry, ``local-projects`` in the global state, was emptied or thinned (a corrupt
or unwritable state, a migration that ran on an empty registry), while ``state_5.sqlite``
still holds ``projects`` and ``project_roots``. The cure people used by hand: rebuild the
registry from the database with numeric millisecond timestamps (#42739, #19615), or restore
the registry keys alone from an older copy (#37927).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from codexsnap.codex_files import (
    GLOBAL_STATE,
    GLOBAL_STATE_BAK,
    LOCAL_PROJECTS_KEY,
    PROJECT_ORDER_KEY,
    REGISTRY_KEYS,
    SAVED_ROOTS_KEY,
    THREAD_ASSIGNMENTS_KEY,
    root_paths,
)
from codexsnap.errors import StateFileInvalidError
from codexsnap.json_edit import set_top_level_members
from codexsnap.projects_db import DbProject, query_bytes, read_projects, thread_projects
from codexsnap.recipes import Contents, Evidence, Planned, Recipe, RecipeOptions, refuse
from codexsnap.recipes.remote_control import mirror_edit
from codexsnap.state_file import edit_state, parse_state

_FIRST = "Run 'codexsnap fix restore-global-state' first: it restores a file that does not parse."


def plan(contents: Contents, options: RecipeOptions, evidence: Evidence) -> Planned:
    """Rebuild the registry keys in both global-state files; every other key keeps its bytes."""
    if evidence.state_database_outside is not None:
        raise refuse(
            f"the live state database is {evidence.state_database_outside}, outside the Codex "
            "home: this recipe reads it only inside the home for now",
            hint="Copy its projects by hand, or run Codex with its databases in the home.",
        )
    data = _state(contents)
    name = evidence.state_database
    database = contents.get(name)
    projects, links = _read_database(name, database) if database is not None else ([], {})
    if projects:
        values = from_database(data, projects, links if options.threads else None)
        notes = (f"Rebuilt from {name}: {len(projects)} projects.",)
    elif evidence.projects_candidate is not None:
        candidate = evidence.projects_candidate
        _, old = parse_state(GLOBAL_STATE, candidate.data)
        values = from_snapshot(data, old, options.threads)
        notes = (
            f"{name} lists no project: the registry keys come from snapshot {candidate.label}, "
            "the newest that had projects; every other key stays as it is now.",
        )
    else:
        raise refuse(
            f"neither {name} nor any snapshot lists a project: there is no registry to rebuild",
            hint="See 'codexsnap history'; Codex's own .codex-recovery-* copies of the database "
            "may hold them ('codexsnap doctor' lists them).",
        )

    def edit(path: str, raw: bytes) -> bytes:
        return edit_state(path, raw, lambda text: set_top_level_members(text, values))

    states = {k: contents.get(k) for k in (GLOBAL_STATE, GLOBAL_STATE_BAK)}
    return Planned(mirror_edit(states, edit, replace_bak=options.replace_bak), notes)


def _state(contents: Contents) -> dict[str, Any]:
    primary, bak = contents.get(GLOBAL_STATE), contents.get(GLOBAL_STATE_BAK)
    name, raw = (GLOBAL_STATE, primary) if primary is not None else (GLOBAL_STATE_BAK, bak)
    if raw is None:
        raise refuse(
            f"there is no {GLOBAL_STATE}: the desktop app has not saved state here",
            hint="Start the desktop app once; it writes its registry then.",
        )
    try:
        return parse_state(name, raw)[1]
    except StateFileInvalidError as error:
        raise StateFileInvalidError(error.message, hint=_FIRST) from None


def _read_database(name: str, database: bytes) -> tuple[list[DbProject], dict[str, str]]:
    try:
        with query_bytes(database) as query:
            return read_projects(query), thread_projects(query)
    except sqlite3.DatabaseError as error:
        raise StateFileInvalidError(
            f"{name} cannot be read as a SQLite database ({error})",
            hint=f"'codexsnap doctor' names its restore sources; 'codexsnap fix quarantine-db "
            f"{name.rsplit('/', 1)[-1].removesuffix('.sqlite')}' moves it aside.",
        ) from None


def from_database(
    data: Mapping[str, Any], projects: list[DbProject], links: dict[str, str] | None
) -> dict[str, Any]:
    """The registry keys rebuilt from the database's projects (+ thread links when given).

    Entries the database does not know stay; an entry it knows keeps its other fields and
    takes the database's name, roots and timestamps.
    """
    current = data.get(LOCAL_PROJECTS_KEY)
    entries: dict[str, Any] = current if isinstance(current, dict) else {}
    order = _strings(data.get(PROJECT_ORDER_KEY))
    known = [*entries, *order]
    rebuilt: dict[str, Any] = {}
    sidebar: dict[str, str] = {}
    for project in projects:
        key = project.sidebar_id(known)
        sidebar[project.id] = key
        old = entries.get(key)
        rebuilt[key] = (
            {**old, **project.entry(key)} if isinstance(old, dict) else project.entry(key)
        )
    taken = set().union(*(p.ids() for p in projects), rebuilt)
    rebuilt.update({k: v for k, v in entries.items() if k not in taken})
    values: dict[str, Any] = {LOCAL_PROJECTS_KEY: rebuilt}
    values.update(aligned_order(data, rebuilt))
    if links is not None:
        assignments = data.get(THREAD_ASSIGNMENTS_KEY)
        kept = dict(assignments) if isinstance(assignments, dict) else {}
        kept.update({tid: sidebar[pid] for tid, pid in links.items() if pid in sidebar})
        values[THREAD_ASSIGNMENTS_KEY] = kept
    return values


def from_snapshot(data: Mapping[str, Any], old: Mapping[str, Any], threads: bool) -> dict[str, Any]:
    """The registry keys of an older global state (#37927: "the project registry alone")."""
    values = {key: old[key] for key in REGISTRY_KEYS if key in old}
    if threads:
        before = old.get(THREAD_ASSIGNMENTS_KEY)
        now = data.get(THREAD_ASSIGNMENTS_KEY)
        merged = dict(before) if isinstance(before, dict) else {}
        merged.update(now if isinstance(now, dict) else {})  # links made since are newer
        values[THREAD_ASSIGNMENTS_KEY] = merged
    return values


def aligned_order(data: Mapping[str, Any], registry: Mapping[str, Any]) -> dict[str, list[str]]:
    """``project-order`` and ``electron-saved-workspace-roots`` for ``registry``, index-aligned.

    Ids keep their place, new ones follow in registry order; a root the app saved for an id
    stays when the two lists were aligned, else it is the project's first root.
    """
    old_order = _strings(data.get(PROJECT_ORDER_KEY))
    old_roots = _strings(data.get(SAVED_ROOTS_KEY))
    was_aligned = len(old_order) == len(old_roots)
    order = [i for i in dict.fromkeys(old_order) if i in registry]
    order += [i for i in registry if i not in order]
    roots: list[str] = []
    for project in order:
        if was_aligned and project in old_order:
            roots.append(old_roots[old_order.index(project)])
            continue
        entry = registry[project]
        first = root_paths(entry)[:1] if isinstance(entry, dict) else []
        roots.append(first[0] if first else "")
    return {PROJECT_ORDER_KEY: order, SAVED_ROOTS_KEY: roots}


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


RECIPE = Recipe(
    name="project-registry",
    summary="rebuild the sidebar's project registry from the state database (or the newest "
    "snapshot that had projects)",
    inputs=lambda evidence: (GLOBAL_STATE, GLOBAL_STATE_BAK, evidence.state_database),
    plan=plan,
    next_steps=("Start Codex again: your projects are back in the sidebar.",),
    cites=("#42739", "#39121", "#37927", "#19615", "#46919", "#35088"),
    options=frozenset({"threads", "replace_bak"}),
    needs=frozenset({"snapshots"}),
)
