"""What must hold before the home is written: Codex quit, databases idle, the plan still true."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from codexsnap.errors import CodexRunningError, HomeWriteError
from codexsnap.processes import find_codex_processes
from codexsnap.roots import live_path
from codexsnap.sqlite_copy import is_busy
from codexsnap.store.manifest import FileRecord
from codexsnap.transaction.plan import PlannedWrite


def refuse_if_codex_running(force: bool) -> None:
    """Codex rewrites its state from memory on quit, undoing any edit made while it runs."""
    if force:
        return
    running = find_codex_processes()
    if running:
        names = ", ".join(f"{p.name} (pid {p.pid}, {p.kind})" for p in running)
        raise CodexRunningError(
            f"Codex is running: {names}",
            hint="Quit the Codex app (and any 'codex app-server'), then run this again; "
            "--force skips this check, but Codex may undo the change when it quits.",
        )


def refuse_busy_databases(
    home: Path, writes: Iterable[PlannedWrite], sqlite_home: Path | None = None
) -> None:
    """A database another process is writing to would be corrupted by replacing it."""
    for write in writes:
        if write.kind == "sqlite" and is_busy(live_path(home, write.relpath, sqlite_home)):
            raise HomeWriteError(
                f"{write.relpath} is in use: another process holds a write transaction on it; "
                "nothing was changed",
                hint="Quit Codex (and any 'codex app-server'), then run the command again.",
            )


def check_unchanged(writes: Iterable[PlannedWrite], records: dict[str, FileRecord]) -> None:
    """Refuse when a file changed between the plan the user saw and the "before" snapshot."""
    for write in writes:
        if not write.check_expected:
            continue
        record = records.get(write.relpath)
        current = record.blob if record else None
        if current != write.expected_blob:
            raise HomeWriteError(
                f"{write.relpath} changed since the plan was shown; nothing was written",
                hint="Make sure Codex is quit, then run the command again.",
            )
