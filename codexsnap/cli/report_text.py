"""Reports and snapshots as lines of plain text (strings out: console.py prints them)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from codexsnap.commands.history import HistoryEntry
    from codexsnap.diff_report import Change, DiffReport, OutsideChange
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
    if report.outside:
        lines.append("Outside the snapshot scope (noted, never stored or restored):")
        lines += [f"  {outside_line(change)}" for change in report.outside]
    lines += report.auth
    lines += [f"Note: {note}" for note in report.notes]
    return [printable(line) for line in lines]


def human_size(size: int) -> str:
    """Bytes as a person reads them: 12.4 MB."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"


def outside_line(change: OutsideChange) -> str:
    """``sessions/: 3 files added, 1 changed; 1.2 MB -> 13.6 MB``."""
    counts = [(change.added, "added"), (change.removed, "removed"), (change.changed, "changed")]
    parts = [f"{count} {word}" for count, word in counts if count]
    first_count = next(count for count, _ in counts if count)
    noun = "file" if first_count == 1 else "files"
    parts[0] = parts[0].replace(" ", f" {noun} ", 1)
    sizes = f"{human_size(change.size_before)} -> {human_size(change.size_after)}"
    return f"{change.group}: {', '.join(parts)}; {sizes}"


def stat_lines(report: DiffReport) -> list[str]:
    """One line per file: A/D/M, the path, how many changes."""
    letters = {"added": "A", "removed": "D", "modified": "M"}
    lines = []
    for file in report.files:
        count = len(file.changes)
        detail = f"{count} change{'s' if count != 1 else ''}" if count else file.format
        lines.append(f"{letters[file.status]}  {file.path}  ({detail})")
    return lines


def describe(snapshot: Snapshot, paired: bool = False) -> str:
    """What made a snapshot, told from its trailers: "fix remote-control --reset",
    "rollback to 1a2b3c4d5e (only config.toml)", "undo of fix remote-control".

    ``paired``: the entry stands for the whole operation, so no "before"/"after".
    """
    operation = snapshot.operation
    half, _, verb = operation.partition("-")
    if half not in ("before", "after"):
        return snapshot.summary
    if verb == "fix" and snapshot.recipe:
        what = " ".join(["fix", snapshot.recipe, *snapshot.options])
    elif verb == "rollback" and snapshot.target:
        what = f"rollback to {snapshot.target[:10]}"
        if snapshot.key:
            what += f" (key {snapshot.key} of {', '.join(snapshot.paths)})"
        elif snapshot.paths:
            what += f" (only {', '.join(snapshot.paths)})"
    else:
        what = snapshot.summary.partition(" ")[2] or snapshot.summary
    return what if paired else f"{half} {what}"


def files_text(snapshot: Snapshot) -> str:
    count = snapshot.files_changed
    files = f"{count} file{'s' if count != 1 else ''} changed"
    if snapshot.parent is None:
        files = f"{count} file{'s' if count != 1 else ''} (first snapshot)"
    if snapshot.sqlite_files_changed:  # of those, in a SQLite home outside the Codex home
        files += f", {snapshot.sqlite_files_changed} in the SQLite home"
    return files


def snapshot_line(snapshot: Snapshot) -> str:
    """One history line: short id, local time, what made it, files changed."""
    from codexsnap.commands.history import HistoryEntry  # lazily: start-up time

    return entry_line(HistoryEntry(snapshot), paired=False)


def entry_line(entry: HistoryEntry, paired: bool = True) -> str:
    """One history entry: an operation told once (its "after" id), or one snapshot."""
    snapshot = entry.snapshot
    if snapshot.damaged:
        return f"{snapshot.short_id}  {'?' * 19}  [unreadable] {snapshot.damaged}"
    when = snapshot.created_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    what = describe(snapshot, paired=paired and entry.before is not None)
    files = "runtime files only" if entry.runtime_only else files_text(snapshot)
    marks = "".join(snapshot_marks(snapshot))
    extra = entry_details(entry)
    return f"{snapshot.short_id}  {when}  {what:<32}  {files}{marks}{extra}"


def entry_details(entry: HistoryEntry) -> str:
    """After the files: the note, the "before" id, outside changes folded in."""
    snapshot = entry.snapshot
    parts = []
    text = snapshot.note or (snapshot.message.splitlines()[0] if snapshot.message else "")
    if text:
        parts.append(text)
    if entry.before is not None:
        before = f"before: {entry.before.short_id}"
        if entry.before.parent is None:
            before += f", {files_text(entry.before)}"
        before += "".join(snapshot_marks(entry.before))
        parts.append(before)
    if entry.drift is not None:
        parts.append(
            f"outside changes saved first: {entry.drift.short_id}, {files_text(entry.drift)}"
        )
    return f"  ({'; '.join(parts)})" if parts else ""


def snapshot_marks(snapshot: Snapshot) -> list[str]:
    """The marks history shows after a snapshot, each with its leading space."""
    found = []
    if snapshot.pinned:
        found.append(f" [pinned: {snapshot.pin_reason}]" if snapshot.pin_reason else " [pinned]")
    if snapshot.pruned:
        found.append(" [pruned]")
    if snapshot.damaged_files:  # only these files are set aside; the others restore
        names = ", ".join(snapshot.damaged_files[:3])
        more = len(snapshot.damaged_files) - 3
        label = "file" if len(snapshot.damaged_files) == 1 else "files"
        found.append(f" [quarantined {label}: {names}{f' +{more}' if more > 0 else ''}]")
    elif snapshot.quarantined:
        found.append(f" [quarantined: {snapshot.quarantined}]")
    return found


def printable(text: str) -> str:
    """Text any terminal can take: a lone surrogate (an undecodable name) becomes an escape."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
