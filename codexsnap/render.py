"""Plain-text and JSON renderings of command results (no printing here: strings out)."""

from __future__ import annotations

import json
from typing import Any

from codexsnap.report import Change, DiffReport
from codexsnap.store import Snapshot

_MAX_VALUE = 120


def short_value(value: Any) -> str:
    """A value as compact JSON, cut to one readable line."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


def key_path(path: tuple[str | int, ...]) -> str:
    """A key path the way a person writes it: ``a › "multi-line key" › 0``."""
    parts: list[str] = []
    for part in path:
        if isinstance(part, int):
            parts.append(f"[{part}]")
            continue
        if "\n" in part:
            lines = [line for line in part.split("\n") if line]
            part = f"{lines[0]}…{lines[-1]}" if len(lines) > 1 else part.replace("\n", "")
            parts.append(json.dumps(part, ensure_ascii=False))
        elif part and all(c.isalnum() or c in "-_." for c in part):
            parts.append(part)
        else:
            parts.append(json.dumps(part, ensure_ascii=False))
    return " › ".join(parts) if parts else "(whole file)"


_MAX_LEAVES = 12


def _leaves(
    value: Any, path: tuple[str | int, ...] = ()
) -> list[tuple[tuple[str | int, ...], Any]]:
    """The scalar leaves of a nested value, with their paths relative to it."""
    if isinstance(value, dict) and value:
        found: list[tuple[tuple[str | int, ...], Any]] = []
        for key, item in value.items():
            found += _leaves(item, (*path, str(key)))
        return found
    return [(path, value)]


def _change_lines(change: Change) -> list[str]:
    where = key_path(change.path)
    if change.kind == "changed":
        return [f"  ~ {where}: {short_value(change.old)} -> {short_value(change.new)}"]
    sign, value = ("+", change.new) if change.kind == "added" else ("-", change.old)
    if not isinstance(value, dict) or not value:
        return [f"  {sign} {where}: {short_value(value)}"]
    # A whole object added or removed: show what was inside it, a line per value.
    leaves = _leaves(value)
    lines = [f"  {sign} {where}: {{{len(value)} {'entry' if len(value) == 1 else 'entries'}}}"]
    lines += [f"      {key_path(p)}: {short_value(v)}" for p, v in leaves[:_MAX_LEAVES]]
    if len(leaves) > _MAX_LEAVES:
        lines.append(f"      … and {len(leaves) - _MAX_LEAVES} more values")
    return lines


def report_text(report: DiffReport, limit: int = 50) -> list[str]:
    """Per file: its status and format, then one line per change (capped)."""
    lines: list[str] = []
    previous = None
    for file in report.files:
        lines.append(f"{file.path}  ({file.status}, {file.format})")
        if previous is not None and file.changes and file.changes == previous.changes:
            # The .bak mirror gets the same edit; saying it twice only hides the rest.
            lines.append(f"  (the same changes as {previous.path})")
            lines += [f"  {note}" for note in file.notes]
            continue
        previous = file
        for change in file.changes[:limit]:
            lines += _change_lines(change)
        if len(file.changes) > limit:
            lines.append(f"  … and {len(file.changes) - limit} more changes")
        lines += [f"  {note}" for note in file.notes]
    return lines


def snapshot_line(snapshot: Snapshot) -> str:
    """One history line: short id, local time, what made it, files changed."""
    when = snapshot.created_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    count = snapshot.files_changed
    files = f"{count} file{'s' if count != 1 else ''} changed"
    note = f"  ({snapshot.message.splitlines()[0]})" if snapshot.message else ""
    return f"{snapshot.short_id}  {when}  {snapshot.summary:<32}  {files}{note}"


def snapshot_json(snapshot: Snapshot) -> dict[str, Any]:
    """JSON shape of a snapshot, documented in docs/reference.md#json-output."""
    return {
        "id": snapshot.id,
        "short_id": snapshot.short_id,
        "created_at": snapshot.created_at.isoformat(),
        "operation": snapshot.operation,
        "summary": snapshot.summary,
        "message": snapshot.message,
        "files_changed": snapshot.files_changed,
        "recipe": snapshot.trailers.get("Recipe"),
        "parent": snapshot.parent,
    }


def dump_json(value: Any) -> str:
    """JSON for scripts: stable key order, UTF-8, one trailing newline."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n"
