"""Small JSON tables kept beside the repository: pins, notes, pruned marks, id aliases and
the quarantine.

Each is one owner-only file in the store, rewritten atomically (with the store locked);
keys are full snapshot ids.
"""

from __future__ import annotations

import json
from pathlib import Path

from codexsnap.atomic_io import atomic_write

PINS = "pins.json"  # id -> why it is pinned ("" when no reason was given)
NOTES = "notes.json"  # id -> a person's note
PRUNED = "pruned.json"  # id -> when it was pruned (ISO 8601); gone for good after prune --gc
ALIASES = "aliases.json"  # old id -> new id, for snapshots rewritten by prune --gc
# id -> why `codexsnap check` set it aside; a ref under refs/codexsnap/quarantine/ keeps it.
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
