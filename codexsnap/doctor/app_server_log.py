"""The app server's own evidence: its remote-control lines in the ``logs`` table of logs_2.

The Rust app server logs into ``logs_2.sqlite`` (columns ``ts``, ``level``, ``target``,
``feedback_log_body``, ...), including the host side of remote control that the desktop
app's own logs do not show. Read without creating a file beside the database.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from codexsnap.codex_files import APP_SERVER_SIGNS
from codexsnap.redact import redact_text
from codexsnap.sqlite_read import read_rows

NEWEST_ROWS = 200_000  # only the newest rows are searched: the table reaches hundreds of MB


@dataclass(frozen=True)
class AppServerSign:
    """How often the app server logged one kind of line, and when last."""

    kind: str
    count: int
    latest: int | None  # unix seconds

    @property
    def when(self) -> str:
        """The latest time, as people read it (UTC)."""
        if self.latest is None:
            return "undated"
        return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(self.latest))


@dataclass(frozen=True)
class AppServerLog:
    """What the ``logs`` table showed, or why it was not read."""

    database: Path
    error: str | None = None  # set when the table could not be read
    partial: bool = False  # the -wal was not read: the newest lines may be missing
    signs: dict[str, AppServerSign] = field(default_factory=dict)

    @property
    def read(self) -> bool:
        """True when the table was read."""
        return self.error is None

    def seen(self, kind: str) -> AppServerSign | None:
        """The lines of ``kind``, when any was logged."""
        sign = self.signs.get(kind)
        return sign if sign is not None and sign.count else None


def read_app_server_log(database: Path) -> AppServerLog:
    """Count each remote-control sign among the newest rows of ``logs``; never writes."""
    if not database.is_file():
        return AppServerLog(database, error=f"no {database.name}")
    selects = ", ".join(
        "sum(feedback_log_body LIKE ? ESCAPE '\\'), "
        "max(CASE WHEN feedback_log_body LIKE ? ESCAPE '\\' THEN ts END)"
        for _ in APP_SERVER_SIGNS
    )
    params: list[object] = []
    for text in APP_SERVER_SIGNS.values():
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        params += [pattern, pattern]
    sql = f"SELECT {selects} FROM logs WHERE id > (SELECT coalesce(max(id), 0) FROM logs) - ?"
    try:
        rows, partial = read_rows(database, sql, [*params, NEWEST_ROWS])
    except sqlite3.Error as error:
        return AppServerLog(database, error=redact_text(str(error)))
    except OSError as error:
        return AppServerLog(database, error=error.strerror or str(error))
    values = rows[0] if rows else ()
    signs = {}
    for index, kind in enumerate(APP_SERVER_SIGNS):
        count, latest = (values[2 * index], values[2 * index + 1]) if values else (0, None)
        signs[kind] = AppServerSign(
            kind, int(count or 0), int(latest) if isinstance(latest, int | float) else None
        )
    return AppServerLog(database, partial=partial, signs=signs)
