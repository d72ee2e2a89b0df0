"""The sidebar's project registry against the state database, and projects Windows cannot open.

Projects vanishing from the sidebar while their data is intact is the most reported Codex
breakage (openai/codex #42739, #39121, #37927, #19615, #46919, #35088): ``local-projects`` is
emptied or thinned while ``state_5.sqlite`` still lists the projects. A project with two
folders makes the Windows app unstartable (#35057).
"""

from __future__ import annotations

import shlex
from typing import Any

from codexsnap.codex_files import (
    LOCAL_PROJECTS_KEY,
    MIGRATIONS_KEY,
    WINDOWS_PLATFORMS,
    registry_entries,
    root_paths,
)
from codexsnap.doctor.check import Check, Cure, shown_path
from codexsnap.doctor.context import DoctorContext
from codexsnap.redact import redact_text

_SHOWN = 3


def _names(names: list[str]) -> str:
    shown = ", ".join(redact_text(n) for n in names[:_SHOWN])
    return shown + (f" (+{len(names) - _SHOWN} more)" if len(names) > _SHOWN else "")


def check_project_registry(ctx: DoctorContext) -> Check:
    """Every project of the live database is listed, with timestamps the app keeps (#42739)."""
    name = "project-registry"
    data = ctx.primary.data
    cure = Cure.fix("project-registry").after_quit(bool(ctx.processes))
    if data is None:
        if ctx.primary.error is not None:
            return Check.skipped(
                name, "the global state cannot be read", "restore it first (see global-state)"
            )
        return Check(name, "ok", "no global state: the desktop app has not saved state here")
    state = ctx.state
    database = shown_path(ctx.path, state.path)
    if state.error is not None:
        return Check.skipped(
            name, f"{database} cannot be read: {state.error}", f"cure {database} first"
        )
    raw = data.get(LOCAL_PROJECTS_KEY)
    kept = registry_entries(data)
    dropped = sorted(
        str(key)
        for key, entry in (raw.items() if isinstance(raw, dict) else ())
        if key not in kept and isinstance(entry, dict)
    )
    missing = [p.name for p in state.projects if not p.ids() & kept.keys()]
    marker = _migrated(data)
    if missing or dropped:
        parts = []
        if missing:
            parts.append(
                f"the sidebar lists {len(state.projects) - len(missing)} of the "
                f"{len(state.projects)} projects in {database}; missing: {_names(missing)}"
            )
        if dropped:
            parts.append(
                f"{len(dropped)} entry(ies) without numeric createdAt/updatedAt, which the app "
                "drops (#42739)"
            )
        if not kept and marker:
            parts.append(f"the migration marker says it ran ({marker}; #35088, #39121)")
        return Check(name, "problem", "; ".join(parts), cure)
    if not kept and not state.projects and marker:
        return Check(
            name,
            "warning",
            f"{LOCAL_PROJECTS_KEY} is empty and {database} lists no project, though the app's "
            f"migration ran ({marker}): if your projects vanished, a snapshot may still hold "
            "them (#35088, #39121)",
            cure,
        )
    if not state.present:
        return Check(name, "ok", f"{len(kept)} projects; no {database} to compare with")
    return Check(
        name, "ok", f"{len(kept)} projects, every one of the {len(state.projects)} in {database}"
    )


def _migrated(data: dict[str, Any]) -> str:
    found = data.get(MIGRATIONS_KEY)
    done = [m for m in found if isinstance(m, str)] if isinstance(found, list) else []
    projects = [m for m in done if "project" in m]
    return projects[-1] if projects else ""


def check_root_paths(ctx: DoctorContext) -> Check:
    """A project with several folders: the Windows app does not start (#35057)."""
    name = "project-roots"
    several = [
        (str(entry.get("name") or key), len(root_paths(entry)))
        for key, entry in registry_entries(ctx.primary.data).items()
        if len(root_paths(entry)) > 1
    ]
    if not several:
        return Check(name, "ok", "every project has one folder")
    listed = _names([f"{project} ({count} folders)" for project, count in several])
    if ctx.platform not in WINDOWS_PLATFORMS:
        return Check(
            name, "ok", f"{listed}: several folders are fine here (they stop only the Windows app)"
        )
    return Check(
        name,
        "problem",
        f"{listed}: the Windows app does not start with a project of several folders (#35057)",
        Cure.fix("project-roots", "--project", shlex.quote(several[0][0])).after_quit(
            bool(ctx.processes)
        ),
    )
