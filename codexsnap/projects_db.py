"""The projects of ``state_5.sqlite`` as the desktop app's registry names them.

Schema from a third-party fixture of the real database (docs/design.md): ``projects``,
``project_roots`` (one row per root, in ``position`` order), ``project_idempotency_keys``
(maps the sidebar's legacy project id to the native one) and ``threads.project_id``. Shared
by the ``project-registry`` recipe (on a private copy of the bytes) and doctor (on the live
file, through ``sqlite_read``): both hand in a function that runs one query.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codexsnap.scratch import scratch_folder
from codexsnap.sqlite_copy import sidecars
from codexsnap.sqlite_read import stable_copy

Query = Callable[[str], Sequence[tuple[Any, ...]]]

_TABLES = "SELECT name FROM sqlite_master WHERE type = 'table'"
_PROJECTS = "SELECT id, name, created_at_ms, updated_at_ms FROM projects ORDER BY position, id"
_ROOTS = "SELECT project_id, path FROM project_roots ORDER BY project_id, position"
_KEYS = "SELECT key, project_id FROM project_idempotency_keys ORDER BY created_at_ms, key"
_THREADS = "SELECT id, project_id FROM threads WHERE project_id IS NOT NULL ORDER BY id"
_BACKFILL = "SELECT status, updated_at FROM backfill_state WHERE id = 1"


@dataclass(frozen=True)
class DbProject:
    """One row of ``projects`` with its roots and the sidebar ids that map to it."""

    id: str
    name: str
    roots: tuple[str, ...]
    created_ms: int
    updated_ms: int
    legacy_ids: tuple[str, ...] = ()  # idempotency keys, oldest first

    def sidebar_id(self, known: Sequence[str] = ()) -> str:
        """The id the registry keys it by: a legacy id (one already ``known`` first)."""
        for key in self.legacy_ids:
            if key in known:
                return key
        return self.legacy_ids[0] if self.legacy_ids else self.id

    def ids(self) -> frozenset[str]:
        """Every id the sidebar may know it by."""
        return frozenset((self.id, *self.legacy_ids))

    def entry(self, sidebar_id: str) -> dict[str, Any]:
        """Its ``local-projects`` entry: numeric ms timestamps, or the app drops it (#42739)."""
        return {
            "id": sidebar_id,
            "name": self.name,
            "rootPaths": list(self.roots),
            "createdAt": self.created_ms,
            "updatedAt": self.updated_ms,
        }


def tables(query: Query) -> frozenset[str]:
    """The tables of the database."""
    return frozenset(str(row[0]) for row in query(_TABLES))


def read_projects(query: Query) -> list[DbProject]:
    """The projects in ``position`` order; none when the database has no ``projects`` table."""
    have = tables(query)
    if "projects" not in have:
        return []
    roots: dict[str, list[str]] = {}
    if "project_roots" in have:
        for project_id, path in query(_ROOTS):
            roots.setdefault(str(project_id), []).append(str(path))
    keys: dict[str, list[str]] = {}
    if "project_idempotency_keys" in have:
        for key, project_id in query(_KEYS):
            keys.setdefault(str(project_id), []).append(str(key))
    return [
        DbProject(
            str(pid),
            str(name),
            tuple(roots.get(str(pid), ())),
            int(created or 0),
            int(updated or 0),
            tuple(keys.get(str(pid), ())),
        )
        for pid, name, created, updated in query(_PROJECTS)
    ]


def thread_projects(query: Query) -> dict[str, str]:
    """Thread id -> native project id, for threads the database links to a project."""
    have = tables(query)
    if "threads" not in have:
        return {}
    try:
        return {str(tid): str(pid) for tid, pid in query(_THREADS)}
    except sqlite3.OperationalError:  # an older schema: threads without project_id
        return {}


def backfill(query: Query) -> tuple[str, int | None] | None:
    """``backfill_state``'s status and update time, or None when it has no row."""
    if "backfill_state" not in tables(query):
        return None
    rows = query(_BACKFILL)
    if not rows:
        return None
    status, updated = rows[0]
    return str(status), (int(updated) if isinstance(updated, int) else None)


@contextlib.contextmanager
def query_bytes(database: bytes) -> Iterator[Query]:
    """A query function over a private copy of a database's bytes (a consistent copy)."""
    with scratch_folder() as scratch:
        path = scratch / "state.sqlite"
        path.write_bytes(database)
        db = sqlite3.connect(path)
        try:
            yield lambda sql: db.execute(sql).fetchall()
        finally:
            db.close()


@contextlib.contextmanager
def query_file(database: Path) -> Iterator[Query]:
    """A query function over a live database, creating no file beside it (sqlite_read)."""
    wal = sidecars(database)[0]
    with contextlib.ExitStack() as stack:
        if wal.exists():
            uri = stack.enter_context(stable_copy(database)).as_uri()
        else:  # every row is in the main file: read it in place, immutable
            uri = f"{database.resolve().as_uri()}?mode=ro&immutable=1"
        db = sqlite3.connect(uri, uri=True, timeout=2.0)
        stack.callback(db.close)
        yield lambda sql: db.execute(sql).fetchall()


@dataclass(frozen=True)
class StateRead:
    """What doctor read of the live state database: its projects and backfill, or why not."""

    path: Path
    projects: tuple[DbProject, ...] = ()
    backfill: tuple[str, int | None] | None = None
    error: str | None = None  # it could not be read
    present: bool = True


def read_state_database(database: Path) -> StateRead:
    """The projects and backfill state of ``database``, read once for every check."""
    if not database.is_file():
        return StateRead(database, present=False)
    try:
        with query_file(database) as query:
            return StateRead(database, tuple(read_projects(query)), backfill(query))
    except sqlite3.Error as error:
        return StateRead(database, error=str(error))
    except OSError as error:
        return StateRead(database, error=error.strerror or str(error))
