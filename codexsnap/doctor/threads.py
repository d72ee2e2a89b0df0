"""Rollout files against the ``threads`` table of the live state database.

Codex lists threads from ``threads``; a rollout without a row is a thread nobody sees, a row
whose rollout is gone a thread that cannot open. This is upstream's parity check
(codex-rs/cli/src/doctor/thread_inventory.rs). ``session_index.jsonl`` only names threads that
were renamed (codex-rs/rollout/src/session_index.rs): a thread absent from it is normal.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from codexsnap.codex_files import (
    ARCHIVED_SESSIONS,
    SESSION_FOLDERS,
    STATE_DB,
    is_rollout_name,
    rollout_thread_id,
)
from codexsnap.doctor.check import Check, Cure, shown_path
from codexsnap.doctor.context import DoctorContext
from codexsnap.redact import redact_text
from codexsnap.sqlite_read import read_rows
from codexsnap.wording import plural

SCAN_LIMIT = 10_000  # rollout files looked at, as upstream; past it, stale rows are not judged
_SAMPLES = 2


@dataclass
class RolloutScan:
    """Rollout files by path, and what could not be scanned."""

    files: dict[Path, tuple[str, bool]] = field(default_factory=dict)  # path -> (id, archived)
    malformed: list[Path] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    capped: bool = False


def scan_rollouts(home: Path) -> RolloutScan:
    """Every ``rollout-*.jsonl`` under sessions/ and archived_sessions/, up to SCAN_LIMIT."""
    scan = RolloutScan()
    for top in SESSION_FOLDERS:
        for folder, dirs, names in os.walk(home / top, onerror=lambda e: _note(scan, e)):
            dirs.sort()
            for name in sorted(names):
                if not is_rollout_name(name):
                    continue
                if len(scan.files) + len(scan.malformed) >= SCAN_LIMIT:
                    scan.capped = True
                    return scan
                path = _key(Path(folder) / name)
                thread = rollout_thread_id(name)
                if thread is None:
                    scan.malformed.append(path)
                else:
                    scan.files[path] = (thread, top == ARCHIVED_SESSIONS)
    return scan


def _note(scan: RolloutScan, error: OSError) -> None:
    if isinstance(error, FileNotFoundError):
        return  # no archived_sessions/ yet
    scan.errors.append(f"{error.filename}: {error.strerror}")


def _key(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path


def check_threads(ctx: DoctorContext) -> Check:
    """Rollouts with no ``threads`` row, and rows whose rollout is gone (upstream's parity)."""
    name = "threads"
    scan = scan_rollouts(ctx.path)
    database = ctx.sqlite.database(STATE_DB)
    shown = shown_path(ctx.path, database)
    found = f"{plural(len(scan.files), 'rollout file')}" + _scan_caveats(scan)
    if not database.is_file():
        if not scan.files:
            return Check(name, "ok", f"no rollout file and no {shown} yet")
        return Check(
            name,
            "warning",
            f"{found}, but no state database ({shown})",
            Cure.say("start Codex: its first start builds the state database from the rollouts"),
        )
    try:
        rows, _ = read_rows(database, "SELECT id, rollout_path, archived FROM threads")
    except (sqlite3.Error, OSError) as error:
        return Check(
            name, "warning", f"{found}; the threads of {shown} cannot be read: {_why(error)}"
        )
    by_path: dict[Path, set[str]] = {}
    for thread, rollout, _archived in rows:
        by_path.setdefault(_key(Path(str(rollout))), set()).add(str(thread).lower())
    unlisted = [p for p, (t, _) in scan.files.items() if t not in by_path.get(p, set())]
    gone = [] if scan.capped else [p for p in by_path if p not in scan.files and not p.exists()]
    head = f"{found}, {plural(len(rows), 'row')} in {shown}"
    if not unlisted and not gone:
        return Check(name, "ok", f"{head}: they agree" + _bad_names(scan))
    parts, cures = [], []
    if unlisted:
        parts.append(
            f"{plural(len(unlisted), 'rollout')} with no row, so Codex does not list them "
            f"({_sample(ctx.path, unlisted)})"
        )
        cures.append(
            f"for the unlisted: roll {shown} back to a snapshot that lists them (codexsnap "
            "history), or move it with its -wal/-shm aside so that Codex rebuilds it from the "
            "rollouts, losing thread names, pins and project links (#41614)"
        )
    if gone:
        parts.append(
            f"{plural(len(gone), 'row')} whose rollout is gone, so they cannot open "
            f"({_sample(ctx.path, gone)})"
        )
        cures.append(
            "for the gone: no codexsnap cure (snapshots leave transcripts out); put the files "
            "back from a backup of sessions/, or delete those threads in Codex"
        )
    return Check(
        name,
        "warning",
        f"{head}: " + "; ".join(parts) + _bad_names(scan),
        Cure.say("; ".join(cures)).after_quit(bool(ctx.processes)),
    )


def _sample(home: Path, paths: list[Path]) -> str:
    shown = ", ".join(redact_text(shown_path(home, p)) for p in sorted(paths)[:_SAMPLES])
    return shown + (", …" if len(paths) > _SAMPLES else "")


def _scan_caveats(scan: RolloutScan) -> str:
    text = ""
    if scan.capped:
        text += f" (stopped at {SCAN_LIMIT}: rows with a gone rollout not judged)"
    if scan.errors:
        text += f" ({plural(len(scan.errors), 'folder')} unreadable: {redact_text(scan.errors[0])})"
    return text


def _bad_names(scan: RolloutScan) -> str:
    if not scan.malformed:
        return ""
    return f"; {plural(len(scan.malformed), 'rollout name')} without a thread id, not compared"


def _why(error: Exception) -> str:
    return redact_text(str(error)) if isinstance(error, sqlite3.Error) else str(error)
