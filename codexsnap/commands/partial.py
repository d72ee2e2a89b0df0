"""Partial rollback: restore some paths, or one JSON key, and leave the rest as it is now.

The planning lives in the transaction package; this module turns --path arguments into
home-relative paths.
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from codexsnap.errors import UsageError
from codexsnap.roots import root_relative
from codexsnap.transaction.key_restore import key_restore
from codexsnap.transaction.plan import within

__all__ = ["home_relative", "key_restore", "within"]


def home_relative(home: Path, given: str, sqlite_home: Path | None = None) -> str:
    """A --path as a path relative to the home (absolute paths must lie inside it, or in
    the outside SQLite home: ``@sqlite/<name>``)."""
    path = Path(given).expanduser()
    if path.is_absolute():
        in_sqlite = root_relative(sqlite_home, path.resolve())
        if in_sqlite is not None and home not in path.resolve().parents:
            return in_sqlite
        try:
            path = path.resolve().relative_to(home)
        except ValueError:
            raise UsageError(
                f"--path {given} is not inside the Codex home {home}",
                hint="Give a path relative to the Codex home, e.g. --path config.toml",
            ) from None
    relpath = posixpath.normpath(path.as_posix()).strip("/")
    if relpath == ".." or relpath.startswith("../"):
        raise UsageError(
            f"--path {given} is not inside the Codex home {home}",
            hint="Give a path relative to the Codex home, e.g. --path config.toml",
        )
    return "" if relpath == "." else relpath
