"""codexsnap doctor: check the Codex home, the store and the desktop logs; change nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from codexsnap.doctor import Check, run_checks
from codexsnap.home import CodexHome, default_log_folders


@dataclass(frozen=True)
class DoctorResult:
    """Every check's verdict, and the log folders that were searched."""

    home: CodexHome
    store_root: Path
    log_folders: tuple[Path, ...]
    checks: tuple[Check, ...]

    @property
    def healthy(self) -> bool:
        """True when no check found a problem (warnings and skipped checks do not count)."""
        return not any(c.status == "problem" for c in self.checks)

    @property
    def problems(self) -> int:
        """How many checks found a problem."""
        return sum(1 for c in self.checks if c.status == "problem")

    @property
    def warnings(self) -> int:
        """How many checks gave a warning."""
        return sum(1 for c in self.checks if c.status == "warning")

    @property
    def skipped(self) -> tuple[Check, ...]:
        """The checks that could not run (no log folder, a database too big...)."""
        return tuple(c for c in self.checks if c.status == "skipped")


def doctor(
    home: CodexHome,
    store_root: Path,
    extra_log_folders: Sequence[Path],
    sqlite_option: Path | None = None,
) -> DoctorResult:
    """Run every check, read-only: the desktop app's log folders plus ``extra_log_folders``.

    ``sqlite_option`` is ``--codex-sqlite-home``: where the databases are, when given.
    """
    folders = tuple(dict.fromkeys([*default_log_folders(), *extra_log_folders]))
    interrupted = interrupted_operation(home.path, store_root)
    checks = run_checks(home, store_root, folders, sqlite_option, interrupted=interrupted)
    return DoctorResult(home, store_root, folders, tuple(checks))


def interrupted_operation(home: Path, store_root: Path) -> str | None:
    """The operation a killed run left a journal of ("" when the journal cannot be read).

    Read here, not by a check: the journal belongs to the write path, and doctor only reads.
    """
    from codexsnap.errors import CodexsnapError
    from codexsnap.store import SnapshotStore
    from codexsnap.transaction.journal import JournalFile

    try:
        if not SnapshotStore.exists(store_root):
            return None
        journal_file = JournalFile.of(store_root, home)
        if not journal_file.exists():
            return None
        journal = journal_file.load()
    except (CodexsnapError, OSError):
        return "" if JournalFile.of(store_root, home).path.exists() else None
    return None if journal is None else journal.operation
