"""The write-ahead journal of a multi-file change: what it holds, where it lives, its lifetime.

Written (atomically) after the "before" snapshot and before the first write into the home;
removed once the "after" snapshot is committed, once the files were put back, or once a
later run recovered from it. A journal that is still there means a run was killed
half-way: the next run undoes what it had written (see recovery.py).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from codexsnap.atomic_io import atomic_write, fsync_folder
from codexsnap.errors import StoreError, TamperedSnapshotError
from codexsnap.store import Snapshot
from codexsnap.store.location import journal_path, journal_pending
from codexsnap.store.manifest import FileRecord, check_relpath

if TYPE_CHECKING:
    from codexsnap.transaction.plan import PlannedWrite

JOURNAL_FORMAT = 1


@dataclass(frozen=True)
class JournalEntry:
    """One planned write: the blob the path held before and the one it will hold."""

    path: str
    old_blob: str | None
    new_blob: str | None
    kind: str


@dataclass(frozen=True)
class Journal:
    """An operation in progress on one home."""

    operation: str
    home: str
    before: str
    pid: int
    entries: tuple[JournalEntry, ...]
    # The outside SQLite home the run wrote its @sqlite/ paths into: a recovery must find
    # them without being told again (the killed run may have had CODEX_SQLITE_HOME set).
    sqlite_home: str | None = None


def journal_for(
    name: str,
    home: Path,
    before: Snapshot,
    writes: Iterable[PlannedWrite],
    records: dict[str, FileRecord],
    sqlite_home: Path | None = None,
) -> Journal:
    """The journal of ``writes``, made from the "before" snapshot's records of those paths."""
    entries = tuple(
        JournalEntry(
            write.relpath,
            records[write.relpath].blob if write.relpath in records else None,
            write.new_blob,
            write.kind,
        )
        for write in writes
    )
    outside = None if sqlite_home is None else str(sqlite_home)
    return Journal(name, str(home), before.id, os.getpid(), entries, outside)


@dataclass(frozen=True)
class JournalFile:
    """The journal of one home in one store: the only code that knows where it lives."""

    path: Path

    @classmethod
    def of(cls, store_root: Path, home: Path) -> JournalFile:
        """Where the journal of ``home`` lives inside the store at ``store_root``."""
        return cls(journal_path(store_root, home))

    def exists(self) -> bool:
        """True when an interrupted operation left its journal."""
        return self.path.exists()

    def save(self, journal: Journal) -> None:
        """Write the journal durably before the first write into the home."""
        data = {"format": JOURNAL_FORMAT, **asdict(journal)}
        try:
            self.path.parent.mkdir(mode=0o700, exist_ok=True)
            atomic_write(self.path, json.dumps(data, indent=1).encode(), mode=0o600)
        except OSError as exc:
            raise StoreError(
                f"cannot write to the store ({exc.strerror or exc}); "
                "nothing in the home was changed",
                hint="Free disk space in the store's folder, then run the command again.",
            ) from None

    def load(self) -> Journal | None:
        """The journal left by an interrupted run, if any."""
        try:
            data = json.loads(self.path.read_text())
            if data.get("format") != JOURNAL_FORMAT:
                raise ValueError(f"unknown journal format {data.get('format')!r}")
            entries = tuple(JournalEntry(**entry) for entry in data["entries"])
            for entry in entries:  # a tampered journal must not lead a recovery out of the home
                if not isinstance(entry.path, str):
                    raise ValueError(f"a path is {entry.path!r}")
                check_relpath(entry.path)
            sqlite_home = data.get("sqlite_home")
            if sqlite_home is not None and not (
                isinstance(sqlite_home, str) and Path(sqlite_home).is_absolute()
            ):
                raise ValueError(f"its SQLite home is {sqlite_home!r}")
            return Journal(
                data["operation"], data["home"], data["before"], data["pid"], entries, sqlite_home
            )
        except FileNotFoundError:
            return None
        except TamperedSnapshotError as exc:
            raise StoreError(
                f"the journal {self.path} of an interrupted operation is not trustworthy: "
                f"{exc.message.replace('the snapshot holds', 'it names')}; nothing was changed",
                hint="Check the home by hand against 'codexsnap diff', then remove that file.",
            ) from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StoreError(
                f"the journal {self.path} of an interrupted operation is unreadable: {exc}",
                hint="Run 'codexsnap check'; remove that file only after checking the home "
                "by hand.",
            ) from None

    def clear(self) -> None:
        """Forget the journal once the home holds a complete state again."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        fsync_folder(self.path.parent)


# True when an interrupted operation on this home awaits recovery: where journals live is
# the store's to know (store/location.py), so the reading commands ask it without this module.
pending = journal_pending
