"""Sessions: threads whose rollout exists but which the sidebar's index has lost."""

from __future__ import annotations

import os
from pathlib import Path

from codexsnap.codex_files import (
    ROLLOUT_HEAD_BYTES,
    SESSION_FOLDERS,
    SESSION_INDEX,
    indexed_ids,
    is_rollout,
    session_meta,
)
from codexsnap.doctor.check import Check, Cure, read_regular
from codexsnap.doctor.context import DoctorContext


def check_session_index(ctx: DoctorContext) -> Check:
    """Threads whose rollout exists but which the sidebar index lacks (#22452, #40779)."""
    name = "session-index"
    rollouts = rollout_thread_ids(ctx.path)
    if not rollouts:
        return Check(name, "ok", "no rollout file in sessions/")
    raw = read_regular(ctx.path / SESSION_INDEX)
    if raw is None:
        evidence = (
            f"{SESSION_INDEX} is missing or unreadable; {len(rollouts)} threads have rollouts"
        )
        return Check(name, "warning", evidence, Cure.fix("session-index"))
    missing = [t for t in rollouts if t not in indexed_ids(raw)]
    if not missing:
        return Check(name, "ok", f"all {len(rollouts)} threads with a rollout are indexed")
    return Check(
        name,
        "warning",
        f"{len(missing)} of {len(rollouts)} threads with a rollout are missing from "
        f"{SESSION_INDEX}, so the sidebar does not list them",
        Cure.fix("session-index"),
    )


def rollout_thread_ids(home: Path) -> dict[str, str]:
    """Thread id -> rollout path, from each uncompressed rollout's ``session_meta`` line."""
    found: dict[str, str] = {}
    for top in SESSION_FOLDERS:
        for folder, dirs, files in os.walk(home / top):
            dirs.sort()
            for file_name in sorted(files):
                relpath = (Path(folder) / file_name).relative_to(home).as_posix()
                if not is_rollout(relpath):
                    continue
                thread_id = _session_id(home / relpath)
                if thread_id is not None:
                    found.setdefault(thread_id, relpath)
    return found


def _session_id(path: Path) -> str | None:
    try:
        with path.open("rb") as handle:
            payload = session_meta(handle.readline(ROLLOUT_HEAD_BYTES))
    except OSError:
        return None
    return None if payload is None else str(payload["id"])
