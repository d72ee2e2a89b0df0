"""Small JSON tables kept beside the repository: pins, notes, pruned marks, id aliases and
the quarantine.

Each is one owner-only file in the store, rewritten atomically (with the store locked);
keys are full snapshot ids.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

from codexsnap.atomic_io import atomic_write

PINS = "pins.json"  # id -> why it is pinned ("" when no reason was given)
NOTES = "notes.json"  # id -> a person's note
PRUNED = "pruned.json"  # id -> when it was pruned (ISO 8601); gone for good after prune --gc
ALIASES = "aliases.json"  # old id -> new id, for snapshots rewritten by prune --gc
# id -> why `codexsnap check` set it aside and which files are damaged (``Quarantine``);
# a ref under refs/codexsnap/quarantine/ keeps it.
QUARANTINE = "quarantine.json"


def load_marks(store_root: Path, name: str) -> dict[str, str]:
    """One table; an unreadable or missing file reads as empty."""
    try:
        data = json.loads((store_root / name).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items()}


def save_marks(store_root: Path, name: str, marks: dict[str, str]) -> None:
    """Replace one table (call with the store locked)."""
    data = json.dumps(dict(sorted(marks.items())), indent=1).encode() + b"\n"
    atomic_write(store_root / name, data, mode=0o600)


class Quarantine(NamedTuple):
    """Why ``codexsnap check`` set a snapshot aside, and which of its files are damaged.

    ``files`` (path -> blob id) empty means the whole snapshot: its commit, tree or manifest
    cannot be trusted. Otherwise only those files are refused; the others still restore.
    """

    reason: str
    files: dict[str, str] = {}  # noqa: RUF012 - never changed in place (a NamedTuple)

    @property
    def whole(self) -> bool:
        """True when nothing of the snapshot may be used."""
        return not self.files


def load_quarantine(store_root: Path) -> dict[str, Quarantine]:
    """The quarantine table: snapshot id -> its entry.

    Versions before 0.2.0 wrote ``id -> reason`` for whole snapshots only: such an entry
    still reads as the whole snapshot set aside, until the next ``check`` verifies it again
    and records which files are damaged (and the next save writes the new shape).
    """
    try:
        data = json.loads((store_root / QUARANTINE).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    entries: dict[str, Quarantine] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            files = value.get("files")
            entries[str(key)] = Quarantine(
                str(value.get("reason", "")),
                {str(p): str(b) for p, b in files.items()} if isinstance(files, dict) else {},
            )
        else:
            entries[str(key)] = Quarantine(str(value))
    return entries


def save_quarantine(store_root: Path, entries: dict[str, Quarantine]) -> None:
    """Replace the quarantine table (call with the store locked)."""
    data = {
        key: {"reason": entry.reason, "files": dict(sorted(entry.files.items()))}
        for key, entry in sorted(entries.items())
    }
    atomic_write(store_root / QUARANTINE, json.dumps(data, indent=1).encode() + b"\n", mode=0o600)
