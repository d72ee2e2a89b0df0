"""The app server's runtime files: its socket, start lock and pid files, left by a dead one."""

from __future__ import annotations

import os
from collections.abc import Iterable

from codexsnap.codex_files import PID_FILES, SOCKET, START_LOCK, pid_in
from codexsnap.doctor.check import Check, Cure, read_regular
from codexsnap.doctor.context import DoctorContext
from codexsnap.processes import CodexProcess

_STALE = Cure.fix("app-server-stale")


def check_app_server_socket(ctx: DoctorContext) -> Check:
    """A socket and start lock left by a dead app server (#20143)."""
    name = "app-server-socket"
    present = [n for n in (SOCKET, START_LOCK) if os.path.lexists(ctx.path / n)]
    if not present:
        return Check(name, "ok", "no app-server socket or startup lock")
    servers = [p for p in ctx.processes if p.kind == "app server"]
    if servers:
        return Check(name, "ok", f"{', '.join(present)} in use by app server {_pids(servers)}")
    apps = [p for p in ctx.processes if p.kind == "desktop app"]
    if apps:
        return Check(
            name,
            "warning",
            f"{', '.join(present)} present and no app server runs, but the desktop app does "
            f"({_pids(apps)}): it may be starting one",
            _STALE.after_quit(),
        )
    return Check(
        name,
        "problem",
        f"{', '.join(present)} left by an app server that no longer runs",
        _STALE,
    )


def check_daemon_pid_files(ctx: DoctorContext) -> Check:
    """Daemon pid files naming a dead process (#47206, #35295)."""
    name = "daemon-pid-files"
    read: list[tuple[str, int | None]] = []
    for relpath in PID_FILES:
        path = ctx.path / relpath
        if not os.path.lexists(path):
            continue
        read.append((relpath, pid_in(read_regular(path))))
    if not read:
        return Check(name, "ok", "no daemon pid file")
    living = ctx.alive([pid for _, pid in read if pid is not None])
    stale = [(r, pid) for r, pid in read if pid is None or pid not in living]
    if not stale:
        return Check(name, "ok", "; ".join(f"{r}: pid {pid} is running" for r, pid in read))
    shown = "; ".join(
        f"{r}: {'names no pid' if pid is None else f'pid {pid} is not running'}" for r, pid in stale
    )
    return Check(name, "problem", shown, _STALE)


def _pids(processes: Iterable[CodexProcess]) -> str:
    return ", ".join(f"pid {p.pid}" for p in processes)
