"""The app server's runtime files: its socket, start lock and pid files, left by a dead one."""

from __future__ import annotations

import os
from collections.abc import Iterable

from codexsnap.codex_files import (
    PID_FILES,
    PID_LOCKS,
    SINGLETON_FILES,
    SOCKET,
    START_LOCK,
    pid_in,
    singleton_owner,
)
from codexsnap.doctor.check import Check, Cure, read_regular
from codexsnap.doctor.context import DoctorContext
from codexsnap.processes import CodexProcess
from codexsnap.sockets import probe_socket

_STALE = Cure.fix("app-server-stale")


def check_app_server_socket(ctx: DoctorContext) -> Check:
    """A socket no server answers on any more (#20143); the start lock alone is no fault.

    As upstream ``codex doctor`` does, the socket is stale only when a connect to it fails
    (codex-rs/cli/src/doctor/background.rs). The start lock stays after every clean exit.
    """
    name = "app-server-socket"
    lock = " (its start lock stays after every exit: no fault)" if _exists(ctx, START_LOCK) else ""
    state, why = probe_socket(ctx.path / SOCKET)
    if state == "absent":
        return Check(name, "ok", f"no app-server socket{lock}")
    if state == "listening":
        return Check(name, "ok", f"{SOCKET}: an app server answers on it{lock}")
    if state == "unknown":
        return Check(name, "warning", f"{SOCKET} could not be tested: {why}")
    apps = [p for p in ctx.processes if p.kind in ("desktop app", "app server")]
    if apps:
        return Check(
            name,
            "warning",
            f"{SOCKET}: nothing answers on it, but Codex runs ({_pids(apps)}): it may be "
            "starting a server",
            _STALE.after_quit(),
        )
    return Check(
        name,
        "problem",
        f"{SOCKET}: nothing answers on it; left by an app server that no longer runs",
        _STALE,
    )


def check_daemon_pid_files(ctx: DoctorContext) -> Check:
    """Daemon pid files (and their ``.pid.lock``) naming a dead process (#47206, #35295)."""
    name = "daemon-pid-files"
    read: list[tuple[str, int | None]] = []
    for relpath, lock in zip(PID_FILES, PID_LOCKS, strict=True):
        if _exists(ctx, relpath):
            read.append((relpath, pid_in(read_regular(ctx.path / relpath))))
        # A lock names a pid when it holds one; an empty one goes with its pid file.
        if _exists(ctx, lock) and (pid := pid_in(read_regular(ctx.path / lock))) is not None:
            read.append((lock, pid))
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


def _exists(ctx: DoctorContext, relpath: str) -> bool:
    return os.path.lexists(ctx.path / relpath)


def _pids(processes: Iterable[CodexProcess]) -> str:
    return ", ".join(f"{p.kind} pid {p.pid}" for p in processes)


def check_desktop_singleton(ctx: DoctorContext) -> Check:
    """Linux: a SingletonLock naming a dead process keeps the app from starting (#38254)."""
    import socket

    from codexsnap.home import desktop_profile_folder

    name = "desktop-singleton"
    if not ctx.platform.startswith("linux"):
        return Check(name, "ok", "not Linux: the app's single-instance lock lives elsewhere")
    lock = desktop_profile_folder() / SINGLETON_FILES[0]
    if not lock.is_symlink():
        return Check(name, "ok", f"no {SINGLETON_FILES[0]} in {lock.parent}")
    owner = singleton_owner(os.readlink(lock))
    host = socket.gethostname()
    if owner is None or owner[0] != host:
        return Check(name, "ok", f"{lock} names another computer or nothing: not judged")
    if owner[1] in ctx.alive([owner[1]]) or any(p.kind == "desktop app" for p in ctx.processes):
        return Check(name, "ok", f"{lock}: the app that holds it (pid {owner[1]}) runs")
    return Check(
        name,
        "problem",
        f'{lock} names pid {owner[1]}, which is dead: the app says "The profile appears to '
        'be in use by another Codex process" (#38254)',
        Cure.fix("desktop-singleton"),
    )
