"""app-server-stale: remove the socket and pid files a dead app server left.

Symptoms: "app server did not become ready on .../app-server-control.sock" (openai/codex
#20143) and "failed to read start time for pid-managed app server <pid>" (#47206, #35295).
A socket is stale only when a connect to it fails, as upstream ``codex doctor`` judges it
(codex-rs/cli/src/doctor/background.rs); the start lock stays after every clean exit, so it
goes only with a stale socket.
"""

from __future__ import annotations

from codexsnap.codex_files import PID_FILES, PID_LOCKS, SOCKET, START_LOCK, pid_in
from codexsnap.recipes import Changes, Contents, Evidence, Recipe, RecipeOptions, refuse


def plan(contents: Contents, options: RecipeOptions, evidence: Evidence) -> Changes:
    """Remove runtime leftovers, but only while no app server process lives."""
    if evidence.app_server_pids:
        pids = ", ".join(str(p) for p in evidence.app_server_pids)
        raise refuse(
            f"an app server is running (pid {pids}): its socket and lock are not stale",
            hint="Quit Codex and any 'codex app-server', then run this again.",
        )
    if evidence.socket_state == "listening":
        raise refuse(
            f"an app server answers on {SOCKET}: it is not stale",
            hint="Quit Codex and any 'codex app-server', then run this again if it still fails.",
        )
    changes: Changes = {}
    if evidence.socket_state == "stale":
        for name in (SOCKET, START_LOCK):
            if contents.get(name) is not None:
                changes[name] = None
    for name, lock in zip(PID_FILES, PID_LOCKS, strict=True):
        raw = contents.get(name)
        if raw is not None and _dead(pid_in(raw), evidence):
            changes[name] = None
        held = contents.get(lock)
        if held is None:
            continue
        # A lock that names a pid is judged by it; an empty one goes with its pid file.
        pid = pid_in(held)
        if (pid is not None and _dead(pid, evidence)) or (pid is None and name in changes):
            changes[lock] = None
    return changes


def _dead(pid: int | None, evidence: Evidence) -> bool:
    return pid is None or pid not in evidence.live_pids


RECIPE = Recipe(
    name="app-server-stale",
    summary="remove the app-server socket no server answers on, and pid files of dead servers",
    inputs=lambda evidence: (SOCKET, START_LOCK, *PID_FILES, *PID_LOCKS),
    plan=plan,
    next_steps=("Start Codex again.",),
    cites=("#20143", "#47206", "#35295"),
    needs=frozenset({"processes"}),
    runtime_removals=True,
)
