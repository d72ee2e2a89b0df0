"""Files an operation moved out of the home, kept byte for byte beside its "before" snapshot.

Snapshots hold a database as a consistent copy, never its raw bytes, and leave out its
``-wal``/``-shm``/``-journal`` and the app server's ``logs_2.sqlite`` altogether. A repair
that moves a damaged database aside (``quarantine-db``, the maintainer's advice in openai/codex
#20841) must be undone with the very bytes it moved: they live in
``<store>/aside/<before-snapshot-id>/<path in the home>``, owner-only, until the store is
removed. Undo, the put-back of a failed run and the recovery of a killed one read them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

ASIDE = "aside"


def folder(store_root: Path, before_id: str) -> Path:
    """Where the files moved aside by the operation after ``before_id`` are kept."""
    return store_root / ASIDE / before_id


def keep(store_root: Path, before_id: str, home: Path, relpaths: Iterable[str]) -> None:
    """Keep the exact bytes (and mode) of each of ``relpaths`` that exists in the home.

    A hard link when the store shares the home's filesystem (a 500 MB log database costs
    nothing to keep, and the home's later unlink leaves the store's name), else a copy.
    """
    base = folder(store_root, before_id)
    for relpath in relpaths:
        source = home / relpath
        if not source.is_file() or source.is_symlink():
            continue
        target = base / relpath
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(store_root / ASIDE, 0o700)
        target.unlink(missing_ok=True)  # a retry of the same operation
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)
        fsync(target)


def fsync(path: Path) -> None:
    """Flush a kept file to disk before the home loses its own copy."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def kept(store_root: Path, before_id: str) -> dict[str, Path]:
    """Each file kept aside for that operation: its path in the home -> where it is kept."""
    base = folder(store_root, before_id)
    found: dict[str, Path] = {}
    for current, _dirs, names in os.walk(base):
        for name in sorted(names):
            path = Path(current) / name
            found[path.relative_to(base).as_posix()] = path
    return found
