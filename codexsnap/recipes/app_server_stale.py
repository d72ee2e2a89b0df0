"""app-server-stale: remove the socket, start lock and pid files a dead app server left.

Symptoms: "app server did not become ready on .../app-server-control.sock" (openai/codex
#20143) and "failed to read start time for pid-managed app server <pid>" (#47206, #35295).
"""

from __future__ import annotations

from codexsnap.codex_files import PID_FILES, SOCKET, START_LOCK, pid_in
from codexsnap.recipes import Changes, Contents, Evidence, Recipe, RecipeOptions, refuse


def plan(contents: Contents, options: RecipeOptions, evidence: Evidence) -> Changes:
    """Remove runtime leftovers, but only while no app server process lives."""
    if evidence.app_server_pids:
        pids = ", ".join(str(p) for p in evidence.app_server_pids)
        raise refuse(
            f"an app server is running (pid {pids}): its socket and lock are not stale",
            hint="Quit Codex and any 'codex app-server', then run this again.",
        )
    changes: Changes = {}
    for name in (SOCKET, START_LOCK):
        if contents.get(name) is not None:
            changes[name] = None
    for name in PID_FILES:
        raw = contents.get(name)
        if raw is None:
            continue
        pid = pid_in(raw)
        if pid is None or pid not in evidence.live_pids:
            changes[name] = None
    return changes


RECIPE = Recipe(
    name="app-server-stale",
    summary="remove the stale app-server socket, start lock and pid files of a dead server",
    inputs=lambda evidence: (SOCKET, START_LOCK, *PID_FILES),
    plan=plan,
    next_steps=("Start Codex again.",),
    cites=("#20143", "#47206", "#35295"),
    needs=frozenset({"processes"}),
    runtime_removals=True,
)
