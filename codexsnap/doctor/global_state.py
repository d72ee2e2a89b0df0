"""The desktop app's global state: the primary file, its ``.bak`` mirror, temp leftovers."""

from __future__ import annotations

import os

from codexsnap.codex_files import (
    GLOBAL_STATE,
    GLOBAL_STATE_TMP_PREFIX,
    LOCAL_PROJECTS_KEY,
    has_projects,
)
from codexsnap.doctor.check import RECOVER, Check, Cure, human_size, interrupted_run
from codexsnap.doctor.context import DoctorContext
from codexsnap.redact import redact_text
from codexsnap.wording import plural

SAVE_IN_PROGRESS = 60.0  # seconds: a younger temp file may be the app's save under way
_RESTORE = Cure.fix("restore-global-state")
_MISSING = object()


def check_global_state(ctx: DoctorContext) -> Check:
    """The primary file parses and still lists projects (the app empties it silently)."""
    primary, bak = ctx.primary, ctx.bak
    cure = _RESTORE.after_quit(bool(ctx.processes))
    if primary.error is not None:
        return Check(
            "global-state",
            "problem",
            f"{primary.error}; the app would start from empty state and overwrite both files "
            "(#38757)",
            cure,
        )
    if primary.data is None:
        if bak.present:
            return Check("global-state", "warning", f"{GLOBAL_STATE} is missing, .bak is not", cure)
        return Check(
            "global-state", "ok", f"no {GLOBAL_STATE}: the desktop app has not saved state here"
        )
    size = human_size(len(primary.raw or b""))
    if not has_projects(primary.data):
        return Check(
            "global-state",
            "warning",
            f"parses ({len(primary.data)} keys, {size}) but lists no local project: the app may "
            "have started from empty state (#38757, #46987)",
            cure,
        )
    projects = primary.data.get(LOCAL_PROJECTS_KEY)
    count = len(projects) if isinstance(projects, list | dict) else 0
    return Check(
        "global-state", "ok", f"parses: {len(primary.data)} keys, {count} projects, {size}"
    )


def check_global_state_backup(ctx: DoctorContext) -> Check:
    """The ``.bak`` is the byte-identical mirror the app writes on every save (#43393)."""
    primary, bak = ctx.primary, ctx.bak
    name = "global-state-bak"
    if not bak.present:
        return Check(name, "ok", "no .bak (the app writes one on its next save)")
    if primary.raw is not None and primary.raw == bak.raw:
        return Check(name, "ok", ".bak is a byte-identical mirror of the primary file")
    if primary.data is None:
        return Check(
            name,
            "warning",
            ".bak is no backup: the app overwrites it with the primary on its next save "
            "(#37927); restore from a snapshot instead",
            _RESTORE,
        )
    if bak.error is not None or bak.data is None:
        return Check(
            name,
            "warning",
            f"{bak.error or '.bak cannot be read'}; the app rewrites it on its next save",
        )
    keys = sorted(
        k
        for k in primary.data.keys() | bak.data.keys()
        if primary.data.get(k, _MISSING) != bak.data.get(k, _MISSING)
    )
    if not keys:
        return Check(name, "ok", ".bak holds the same data as the primary (formatted apart)")
    shown = ", ".join(redact_text(k) for k in keys[:3]) + (", …" if len(keys) > 3 else "")
    if ctx.interrupted is not None:
        # codexsnap writes the two files one after the other: a run killed between them
        # leaves exactly this, and its journal says so. Nobody edited anything by hand.
        return Check(
            name,
            "problem",
            f".bak differs from the primary in {len(keys)} top-level keys ({shown}): "
            f"{interrupted_run(ctx.interrupted)} was interrupted between its writes",
            RECOVER,
        )
    return Check(
        name,
        "warning",
        f".bak differs from the primary in {len(keys)} top-level keys ({shown}): one file was "
        "edited alone; the app rewrites .bak on its next save",
    )


def check_state_leftovers(ctx: DoctorContext) -> Check:
    """Temp files of an interrupted atomic save (#41578)."""
    home = ctx.path
    app_runs = any(p.kind == "desktop app" for p in ctx.processes)
    found: list[tuple[str, int]] = []
    try:
        names = sorted(n for n in os.listdir(home) if n.startswith(GLOBAL_STATE_TMP_PREFIX))
    except OSError as error:
        return Check("global-state-leftovers", "warning", f"{home}: {error.strerror}")
    for name in names:
        try:
            st = os.lstat(home / name)
        except OSError:
            continue  # renamed by the app's save meanwhile
        if app_runs and ctx.now - st.st_mtime < SAVE_IN_PROGRESS:
            continue
        found.append((name, st.st_size))
    if not found:
        return Check("global-state-leftovers", "ok", f"no {GLOBAL_STATE_TMP_PREFIX}* file")
    shown = ", ".join(n for n, _ in found[:3]) + (", …" if len(found) > 3 else "")
    total = human_size(sum(size for _, size in found))
    return Check(
        "global-state-leftovers",
        "warning",
        f"{plural(len(found), 'leftover temp file')} of an interrupted save: {shown} ({total})",
        _RESTORE.after_quit(bool(ctx.processes)),
    )
