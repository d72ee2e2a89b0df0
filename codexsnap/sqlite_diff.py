"""What changed between two copies of a SQLite database: schema, then rows by primary key."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from codexsnap.scratch import scratch_folder

_ROW_CAP = 5  # rows shown per table and kind of change
_SCAN_CAP = 200_000  # rows read per table; larger tables are compared by count only


@dataclass(frozen=True)
class RowChange:
    """One row added, removed or changed, keyed by its primary key (rowid when none)."""

    table: str
    kind: str
    key: tuple[Any, ...]
    old: dict[str, Any] | None
    new: dict[str, Any] | None


@dataclass(frozen=True)
class DatabaseDiff:
    """Schema and row differences, with per-table counts and the first rows of each kind."""

    schema: tuple[str, ...]
    counts: dict[str, dict[str, int]]
    rows: tuple[RowChange, ...]
    notes: tuple[str, ...]


@contextlib.contextmanager
def _opened(data: bytes | None) -> Iterator[sqlite3.Connection | None]:
    if data is None:
        yield None
        return
    with scratch_folder("db-") as scratch:
        path = scratch / "copy.sqlite"
        path.write_bytes(data)
        # A private copy: immutable=1 keeps SQLite from creating -wal/-shm or taking locks.
        db = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)
        try:
            yield db
        finally:
            db.close()


def _tables(db: sqlite3.Connection | None) -> dict[str, str]:
    if db is None:
        return {}
    rows = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall()
    return {str(name): str(sql) for name, sql in rows}


def _columns(db: sqlite3.Connection, table: str) -> tuple[list[str], list[str]]:
    info = db.execute(f'PRAGMA table_info("{table.replace(chr(34), chr(34) * 2)}")').fetchall()
    columns = [str(row[1]) for row in info]
    keys = [str(row[1]) for row in sorted(info, key=lambda r: r[5]) if row[5]]
    return columns, keys


def _rows(db: sqlite3.Connection, table: str) -> dict[tuple[Any, ...], dict[str, Any]] | None:
    columns, keys = _columns(db, table)
    quoted = f'"{table.replace(chr(34), chr(34) * 2)}"'
    count = db.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0]
    if count > _SCAN_CAP:
        return None
    key_sql = ", ".join(f'"{k}"' for k in keys) if keys else "rowid"
    width = len(keys) if keys else 1
    result: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in db.execute(f"SELECT {key_sql}, * FROM {quoted}"):
        result[tuple(row[:width])] = dict(zip(columns, row[width:], strict=False))
    return result


def diff_databases(old: bytes | None, new: bytes | None) -> DatabaseDiff:
    """Compare two database files given as bytes (None: absent on that side)."""
    try:
        with _opened(old) as before, _opened(new) as after:
            return _compare(before, after)
    except sqlite3.DatabaseError as exc:
        return DatabaseDiff((), {}, (), (f"cannot be read as a SQLite database: {exc}",))


def _compare(before: sqlite3.Connection | None, after: sqlite3.Connection | None) -> DatabaseDiff:
    old_tables, new_tables = _tables(before), _tables(after)
    schema: list[str] = []
    schema += [f"table {t} added" for t in sorted(new_tables.keys() - old_tables.keys())]
    schema += [f"table {t} removed" for t in sorted(old_tables.keys() - new_tables.keys())]
    schema += [
        f"table {t} changed: {old_tables[t]!r} -> {new_tables[t]!r}"
        for t in sorted(old_tables.keys() & new_tables.keys())
        if old_tables[t] != new_tables[t]
    ]
    counts: dict[str, dict[str, int]] = {}
    shown: list[RowChange] = []
    notes: list[str] = []
    for table in sorted(old_tables.keys() | new_tables.keys()):
        old_rows = _rows(before, table) if before is not None and table in old_tables else {}
        new_rows = _rows(after, table) if after is not None and table in new_tables else {}
        if old_rows is None or new_rows is None:
            notes.append(f"table {table}: over {_SCAN_CAP} rows, rows not compared")
            continue
        added = [k for k in new_rows if k not in old_rows]
        removed = [k for k in old_rows if k not in new_rows]
        changed = [k for k in new_rows if k in old_rows and new_rows[k] != old_rows[k]]
        if not (added or removed or changed):
            continue
        counts[table] = {"added": len(added), "removed": len(removed), "changed": len(changed)}
        for kind, keys in (("added", added), ("removed", removed), ("changed", changed)):
            for key in keys[:_ROW_CAP]:
                shown.append(RowChange(table, kind, key, old_rows.get(key), new_rows.get(key)))
    return DatabaseDiff(tuple(schema), counts, tuple(shown), tuple(notes))
