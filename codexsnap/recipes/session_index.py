"""session-index: bring back threads missing from the sidebar while their rollouts exist.

Symptom: threads vanish from the sidebar although ``sessions/`` still holds their rollout
files; ``session_index.jsonl`` lost their lines (openai/codex #22452, #40779).
"""

from __future__ import annotations

import json
import re
from typing import Any

from codexsnap.recipes import Changes, Contents, Evidence, Recipe, RecipeOptions

INDEX = "session_index.jsonl"
_ROLLOUT = re.compile(r"^(archived_)?sessions/.*rollout-[^/]*\.jsonl$")
_STAMP = re.compile(r"rollout-(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})")


def rollout_paths(evidence: Evidence) -> tuple[str, ...]:
    """Uncompressed rollout files in the home (compressed ones cannot be read here)."""
    return tuple(p for p in evidence.home_files if _ROLLOUT.match(p))


def indexed_ids(raw: bytes) -> set[str]:
    """The thread ids ``session_index.jsonl`` lists (a damaged line is skipped, never rewritten)."""
    ids: set[str] = set()
    for line in raw.decode("utf-8", "replace").splitlines():
        try:
            entry = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            ids.add(entry["id"])
    return ids


def session_meta(head: bytes) -> dict[str, Any] | None:
    """The ``session_meta`` payload of a rollout's first line, when it has an ``id``."""
    try:
        meta = json.loads(head.decode("utf-8").splitlines()[0])
    except (ValueError, IndexError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(meta, dict) or meta.get("type") != "session_meta":
        return None
    payload = meta.get("payload")
    if not isinstance(payload, dict) or not isinstance(payload.get("id"), str):
        return None
    return payload


def _entry(path: str, head: bytes) -> dict[str, Any] | None:
    payload = session_meta(head)
    if payload is None:
        return None
    thread_id: str = payload["id"]
    stamp = _STAMP.search(path)
    updated = payload.get("timestamp") or (
        f"{stamp[1]}T{stamp[2]}:{stamp[3]}:{stamp[4]}Z" if stamp else None
    )
    name = payload.get("thread_name") or payload.get("title") or f"Recovered {thread_id[:8]}"
    return {"id": thread_id, "thread_name": name, "updated_at": updated}


def plan(contents: Contents, options: RecipeOptions, evidence: Evidence) -> Changes:
    """Append a line per rollout whose thread the index lacks; never reorder or delete."""
    current = contents.get(INDEX) or b""
    known = indexed_ids(current)
    spaced = b'": ' in current
    separators = (", ", ": ") if spaced or not current else (",", ":")
    added: list[bytes] = []
    for path in sorted(rollout_paths(evidence)):
        entry = _entry(path, contents.get(path) or b"")
        if entry is None or entry["id"] in known:
            continue
        known.add(entry["id"])
        added.append(json.dumps(entry, separators=separators, ensure_ascii=False).encode() + b"\n")
    if not added:
        return {}
    if current and not current.endswith(b"\n"):
        current += b"\n"
    return {INDEX: current + b"".join(added)}


RECIPE = Recipe(
    name="session-index",
    summary="add the threads missing from session_index.jsonl, from each rollout's session_meta",
    inputs=lambda evidence: (INDEX, *rollout_paths(evidence)),
    plan=plan,
    next_steps=("Start Codex again: the recovered threads show in the sidebar.",),
    cites=("#22452", "#40779"),
    needs=frozenset({"listing"}),
    head_only=("sessions/", "archived_sessions/"),
)
