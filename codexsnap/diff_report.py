"""The report objects: what changed between two states of the home, display-safe, and
the summaries of the files outside snapshots and of auth.json's fingerprints.

Light on purpose (dataclasses only): the commands and the CLI's renderers import these
without loading the comparison itself (report.py, which may import deepdiff).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Change:
    """One difference inside a file, at a key path, with display-safe values."""

    kind: str  # "added", "removed" or "changed"
    path: tuple[str | int, ...]
    old: Any = None
    new: Any = None


@dataclass(frozen=True)
class FileDiff:
    """How one file differs: added, removed or modified, and the changes inside it."""

    path: str
    status: str  # "added", "removed", "modified"
    format: str  # "json", "toml", "jsonl", "sqlite", "text", "binary", "symlink", "special"
    changes: tuple[Change, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutsideChange:
    """Files left out of snapshots (sessions, logs) that came, went or changed, per folder."""

    group: str
    added: int
    removed: int
    changed: int
    size_before: int
    size_after: int


@dataclass(frozen=True)
class DiffReport:
    """All files that differ between two states of the home.

    ``files`` are the snapshot's own files: they decide whether two states differ.
    ``outside`` and ``auth`` are informational (logs grow, tokens refresh all the time).
    """

    files: tuple[FileDiff, ...] = field(default=())
    outside: tuple[OutsideChange, ...] = field(default=())
    auth: tuple[str, ...] = field(default=())
    # What the command says about the change before it is confirmed (the source a recipe
    # took the new content from, what a rebuild loses).
    notes: tuple[str, ...] = field(default=())
    # What the report is about, when it is put to the user: "fix remote-control --reset".
    subject: str = ""

    @property
    def empty(self) -> bool:
        """True when no file of the snapshot scope differs."""
        return not self.files


def diff_outside(old: dict[str, list[int]], new: dict[str, list[int]]) -> tuple[OutsideChange, ...]:
    """Summarize the listed out-of-scope files per top folder (``sessions/``, ``log/``...)."""

    def group_of(path: str) -> str:
        return path.split("/", 1)[0] + "/" if "/" in path else path

    groups = sorted({group_of(p) for p in old.keys() | new.keys()})
    found: list[OutsideChange] = []
    for group in groups:
        before = {p: v for p, v in old.items() if group_of(p) == group}
        after = {p: v for p, v in new.items() if group_of(p) == group}
        change = OutsideChange(
            group,
            added=len(after.keys() - before.keys()),
            removed=len(before.keys() - after.keys()),
            changed=sum(1 for p in before.keys() & after.keys() if before[p] != after[p]),
            size_before=sum(v[0] for v in before.values()),
            size_after=sum(v[0] for v in after.values()),
        )
        if change.added or change.removed or change.changed:
            found.append(change)
    return tuple(found)


def diff_auth(old: dict[str, Any] | None, new: dict[str, Any] | None) -> tuple[str, ...]:
    """Lines about auth.json from its fingerprints: the tokens themselves are never stored."""
    if old == new:
        return ()
    if old is None:
        return ("auth.json appeared (signed in)",)
    if new is None:
        return ("auth.json removed (signed out, or credentials moved to the keyring)",)
    lines = ["auth.json changed"]
    if old.get("keys") != new.get("keys"):
        added = sorted(set(new.get("keys", [])) - set(old.get("keys", [])))
        removed = sorted(set(old.get("keys", [])) - set(new.get("keys", [])))
        lines.append(f"auth.json keys: +{added} -{removed}")
    if old.get("last_refresh") != new.get("last_refresh"):
        lines.append(
            f"auth.json last_refresh: {old.get('last_refresh')} -> {new.get('last_refresh')}"
        )
    return tuple(lines)
