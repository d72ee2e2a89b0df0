"""session-index: bring back threads missing from the sidebar while their rollouts exist.

Symptom: threads vanish from the sidebar although ``sessions/`` still holds their rollout
files; ``session_index.jsonl`` lost their lines (openai/codex #22452, #40779).
"""

from __future__ import annotations

import json
from typing import Any

from codexsnap.codex_files import (
    SESSION_INDEX,
    indexed_ids,
    is_rollout,
    rollout_timestamp,
    session_meta,
)
from codexsnap.recipes import Changes, Contents, Evidence, Recipe, RecipeOptions

INDEX = SESSION_INDEX


def rollout_paths(evidence: Evidence) -> tuple[str, ...]:
    """Uncompressed rollout files in the home (compressed ones cannot be read here)."""
    return tuple(p for p in evidence.home_files if is_rollout(p))


def _entry(path: str, head: bytes) -> dict[str, Any] | None:
    payload = session_meta(head)
    if payload is None:
        return None
    thread_id: str = payload["id"]
    updated = payload.get("timestamp") or rollout_timestamp(path)
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
