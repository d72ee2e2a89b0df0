"""How a file is compared: its format guessed, its contents read for a report.

report.py compares what these functions read; they never import deepdiff.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from typing import Any

_JSON_SUFFIXES = (".json", ".json.bak")
MISSING = object()  # a side that is not valid JSON or TOML


def format_of(path: str, kind: str, sample: bytes) -> str:
    if kind in ("sqlite", "symlink"):
        return kind
    if kind == "other":
        return "special"
    if path.endswith(_JSON_SUFFIXES):
        return "json"
    if path.endswith(".toml"):
        return "toml"
    if path.endswith(".jsonl"):
        return "jsonl"
    try:
        sample[:65536].decode("utf-8")
    except UnicodeDecodeError:
        return "binary"
    return "binary" if b"\x00" in sample[:65536] else "text"


def parse(fmt: str, raw: bytes | None) -> Any:
    if raw is None:
        return {}
    try:
        text = raw.decode("utf-8")
        return json.loads(text) if fmt == "json" else tomllib.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return MISSING


def changed_members(old: bytes, new: bytes) -> tuple[Any, Any]:
    """Only the top-level members whose text differs, decoded: a 30 MB state with one changed
    key costs one scan per side instead of two full object trees in memory."""
    from codexsnap.json_edit import member_texts, utf8_text

    try:
        old_members = member_texts(utf8_text(old))
        new_members = member_texts(utf8_text(new))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return parse("json", old), parse("json", new)
    decoder = json.JSONDecoder()
    before = {
        k: decoder.decode(v)
        for k, v in old_members.items()
        if k not in new_members or new_members[k] != v
    }
    after = {
        k: decoder.decode(v)
        for k, v in new_members.items()
        if k not in old_members or old_members[k] != v
    }
    return before, after


def line_count(raw: bytes | None) -> int:
    if not raw:
        return 0
    return raw.count(b"\n") + (not raw.endswith(b"\n"))


def jsonl_entries(raw: bytes) -> dict[str, Any]:
    entries: dict[str, Any] = {}
    for number, line in enumerate(raw.decode("utf-8", "replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            entries[f"line {number}"] = line
            continue
        key = None
        if isinstance(value, dict):
            key = value.get("id") or value.get("session_id")
        if isinstance(key, str) and key not in entries:
            entries[key] = value
        else:
            entries[f"line {number}"] = value
    return entries


def byte_summary(old: bytes | None, new: bytes | None, show_target: bool) -> str:
    def describe(data: bytes | None) -> str:
        if data is None:
            return "absent"
        return f"{len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()[:12]}"

    if show_target and new is not None:
        return f"link to {new.decode('utf-8', 'replace')}"
    return f"{describe(old)} -> {describe(new)}"
