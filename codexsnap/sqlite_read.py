"""Reading rows of a Codex database without creating a file beside it.

Opening a WAL database, even read-only, creates ``-wal``/``-shm`` beside it when they are
missing, and a reader moves its read marks in the ``-shm`` when they exist. So: with no
``-wal`` every row is in the main file, opened immutable; with a ``-wal`` the database and its
``-wal`` are copied to a temporary folder first (SQLite rebuilds the index from the ``-wal``),
again when a write changed them meanwhile.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from codexsnap.scratch import scratch_folder
from codexsnap.sqlite_copy import sidecars

COPY_LIMIT = 256 << 20  # a -wal-only database bigger than this is read without its -wal


def read_rows(
    database: Path, sql: str, params: Sequence[Any] = (), timeout: float = 2.0
) -> tuple[list[tuple[Any, ...]], bool]:
    """The rows ``sql`` selects, and whether recent rows may be missing (``-wal`` not read).

    Raises ``sqlite3.Error`` when the database cannot be read, ``OSError`` when its files
    cannot be copied.
    """
    wal = sidecars(database)[0]
    base = database.resolve().as_uri()
    if not wal.exists():
        return _query(f"{base}?mode=ro&immutable=1", sql, params, timeout), False
    if database.stat().st_size + wal.stat().st_size > COPY_LIMIT:
        return _query(f"{base}?mode=ro&immutable=1", sql, params, timeout), True
    with stable_copy(database) as copy:
        return _query(copy.as_uri(), sql, params, timeout), False


@contextlib.contextmanager
def stable_copy(database: Path) -> Iterator[Path]:
    """A private copy of ``database`` and its ``-wal``, taken again if either changed meanwhile.

    The copy lives in the store's scratch folder, so a killed run leaves no database copy
    outside the store; SQLite may open it freely (it is nobody's live file).
    """
    wal = sidecars(database)[0]
    for attempt in range(3):
        before = _stamps(database, wal)
        with scratch_folder("read-") as scratch:
            copy = scratch / "db.sqlite"
            shutil.copyfile(database, copy)
            if wal.exists():
                shutil.copyfile(wal, scratch / "db.sqlite-wal")
            if _stamps(database, wal) != before and attempt < 2:
                continue  # written meanwhile: the copy may be torn
            yield copy
            return


def _stamps(*paths: Path) -> list[tuple[int, int] | None]:
    found: list[tuple[int, int] | None] = []
    for path in paths:
        try:
            st = path.stat()
            found.append((st.st_size, st.st_mtime_ns))
        except OSError:
            found.append(None)
    return found


def _query(uri: str, sql: str, params: Sequence[Any], timeout: float) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(uri, uri=True, timeout=timeout)
    try:
        return [tuple(row) for row in db.execute(sql, tuple(params)).fetchall()]
    finally:
        db.close()
