"""The write-ahead journal of a multi-file change, kept in the store.

Written (atomically) after the "before" snapshot and before the first write into the home;
removed once the "after" snapshot is committed or the files were put back. A journal that
is still there means a run was killed half-way: the next run undoes what it had written.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from codexsnap.atomic_io import atomic_write, fsync_folder
from codexsnap.errors import StoreError

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


def journal_path(store_root: Path, home_key: str) -> Path:
    """Where the journal of one home lives inside the store."""
    return store_root / "journal" / f"{home_key}.json"


def save_journal(path: Path, journal: Journal) -> None:
    """Write the journal durably before the first write into the home."""
    data = {"format": JOURNAL_FORMAT, **asdict(journal)}
    try:
        path.parent.mkdir(mode=0o700, exist_ok=True)
        atomic_write(path, json.dumps(data, indent=1).encode(), mode=0o600)
    except OSError as exc:
        raise StoreError(
            f"cannot write to the store ({exc.strerror or exc}); nothing in the home was changed",
            hint="Free disk space in the store's folder, then run the command again.",
        ) from None


def load_journal(path: Path) -> Journal | None:
    """The journal left by an interrupted run, if any."""
    try:
        data = json.loads(path.read_text())
        if data.get("format") != JOURNAL_FORMAT:
            raise ValueError(f"unknown journal format {data.get('format')!r}")
        entries = tuple(JournalEntry(**entry) for entry in data["entries"])
        return Journal(data["operation"], data["home"], data["before"], data["pid"], entries)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StoreError(
            f"the journal {path} of an interrupted operation is unreadable: {exc}",
            hint="Run 'codexsnap check'; remove that file only after checking the home by hand.",
        ) from None


def clear_journal(path: Path) -> None:
    """Forget the journal once the home holds a complete state again."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    fsync_folder(path.parent)
