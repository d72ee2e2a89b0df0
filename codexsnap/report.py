"""What changed between two versions of the home's files: the only module importing deepdiff."""

from __future__ import annotations

from typing import Any

from codexsnap.diff_report import Change, FileDiff
from codexsnap.file_formats import (
    MISSING,
    byte_summary,
    changed_members,
    format_of,
    jsonl_entries,
    line_count,
    parse,
)
from codexsnap.redact import is_secret_key, mask, redact_key, redact_value
from codexsnap.sqlite_diff import diff_databases
from codexsnap.text_diff import unified_diff

_LARGE_JSON = 1 << 20  # above this, unchanged top-level members are compared as text
# Above this a JSONL file (a session transcript) is reported by its entry counts only:
# parsing and masking every line cost 0.5 s of CPU per MB for a report that shows 50 lines.
_BULKY_JSONL = 1 << 18


def diff_file(
    path: str,
    old: bytes | None,
    new: bytes | None,
    kind: str = "file",
    show_secrets: bool = False,
    mode_change: tuple[int, int] | None = None,
) -> FileDiff:
    """Compare two versions of one file (None: the file does not exist on that side)."""
    status = "added" if old is None else "removed" if new is None else "modified"
    fmt = format_of(path, kind, old if old is not None else new or b"")
    notes: list[str] = []
    if mode_change is not None:
        notes.append(f"mode {mode_change[0]:04o} -> {mode_change[1]:04o}")
    changes: list[Change] = []
    if fmt in ("json", "toml"):
        changes, fmt = _structured_changes(fmt, old, new, show_secrets, notes)
    elif fmt == "jsonl" and max(len(old or b""), len(new or b"")) > _BULKY_JSONL:
        notes.append(
            f"entries: {line_count(old)} before, {line_count(new)} after "
            "(a long transcript: counted only)"
        )
    elif fmt == "jsonl":
        changes = _jsonl_changes(old or b"", new or b"", show_secrets)
        notes.append(_entry_counts(changes))
    elif fmt == "sqlite":
        changes, db_notes = _sqlite_changes(old, new, show_secrets)
        notes += db_notes
    elif fmt == "text":
        notes += unified_diff(path, old, new, show_secrets)
    if fmt == "special":
        notes.append("a socket or other special file: no content")
    if fmt in ("binary", "sqlite", "symlink"):
        notes.append(byte_summary(old, new, fmt == "symlink" and show_secrets))
    return FileDiff(path, status, fmt, tuple(changes), tuple(notes))


def unread_diff(path: str, status: str, kind: str = "file") -> FileDiff:
    """A file a report lists without reading it (past the files it compares)."""
    fmt = format_of(path, kind, b"")
    return FileDiff(
        path, status, fmt, (), ("not compared: a large restore compares its first files",)
    )


def _structured_changes(
    fmt: str, old: bytes | None, new: bytes | None, show_secrets: bool, notes: list[str]
) -> tuple[list[Change], str]:
    """Key-level changes of a JSON or TOML file; falls back to bytes when it cannot be read."""
    if fmt == "json" and old is not None and new is not None and len(old) > _LARGE_JSON:
        before, after = changed_members(old, new)
    else:
        before, after = parse(fmt, old), parse(fmt, new)
    if before is MISSING or after is MISSING:
        notes.append(f"not valid {fmt.upper()} on one side; compared as bytes")
        return [], "binary"
    try:
        changes = _semantic_changes(before, after, show_secrets)
    except RecursionError:
        notes.append("nested too deeply to compare key by key; compared as bytes")
        return [], "binary"
    if not changes and old is not None and new is not None and old != new:
        notes.append("bytes changed, content the same (formatting or comments)")
    return changes, fmt


def _prune_equal(old: Any, new: Any) -> tuple[Any, Any]:
    """Drop subtrees equal on both sides, keeping paths, so DeepDiff walks only what differs.

    DeepDiff alone took seconds on a 5 MB global state with one changed key
    (shared/engineering-notes.md); ``==`` on equal subtrees is fast C code.
    """
    if isinstance(old, dict) and isinstance(new, dict):
        kept_old: dict[Any, Any] = {}
        kept_new: dict[Any, Any] = {}
        for key in old.keys() | new.keys():
            if key in old and key in new:
                if old[key] == new[key] and type(old[key]) is type(new[key]):
                    continue
                kept_old[key], kept_new[key] = _prune_equal(old[key], new[key])
            elif key in old:
                kept_old[key] = old[key]
            else:
                kept_new[key] = new[key]
        return kept_old, kept_new
    return old, new


def _keyed_changes(
    old: Any, new: Any, path: tuple[Any, ...], out: list[tuple[str, tuple[Any, ...], Any, Any]]
) -> bool:
    """What DeepDiff reports for objects and plain values, without importing it (about 0.1 s,
    pydantic included, at every fix): False when two differing lists need its alignment."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in old.keys() - new.keys():
            out.append(("removed", (*path, key), old[key], None))
        for key in new.keys() - old.keys():
            out.append(("added", (*path, key), None, new[key]))
        for key in old.keys() & new.keys():
            if (
                old[key] != new[key] or type(old[key]) is not type(new[key])
            ) and not _keyed_changes(old[key], new[key], (*path, key), out):
                return False
        return True
    if isinstance(old, list) and isinstance(new, list):
        return old == new
    out.append(("changed", path, old, new))
    return True


def _semantic_changes(old: Any, new: Any, show_secrets: bool) -> list[Change]:
    pruned_old, pruned_new = _prune_equal(old, new)
    if pruned_old == pruned_new and type(old) is type(new):
        return []
    order = {"removed": 0, "added": 1, "changed": 2}
    found: list[tuple[str, tuple[Any, ...], Any, Any]] = []
    if _keyed_changes(pruned_old, pruned_new, (), found):
        quick = [_safe_change(k, p, o, n, show_secrets) for k, p, o, n in found]
        return sorted(quick, key=lambda c: (order[c.kind], [str(p) for p in c.path]))
    from deepdiff import DeepDiff

    # threshold 0: report keys one by one instead of "whole dict replaced".
    tree = DeepDiff(pruned_old, pruned_new, threshold_to_diff_deeper=0, view="tree")
    kinds = {
        "dictionary_item_added": "added",
        "iterable_item_added": "added",
        "dictionary_item_removed": "removed",
        "iterable_item_removed": "removed",
        "values_changed": "changed",
        "type_changes": "changed",
    }
    changes: list[Change] = []
    for report_type, kind in kinds.items():
        for level in tree.get(report_type, []):
            path = tuple(level.path(output_format="list"))
            old_value = None if kind == "added" else level.t1
            new_value = None if kind == "removed" else level.t2
            changes.append(_safe_change(kind, path, old_value, new_value, show_secrets))
    return sorted(changes, key=lambda c: (order[c.kind], [str(p) for p in c.path]))


def _safe_change(kind: str, path: tuple[Any, ...], old: Any, new: Any, show: bool) -> Change:
    if show:
        return Change(kind, path, old, new)
    keys = tuple(str(p) for p in path)
    secret_leaf = bool(keys) and isinstance(path[-1], str) and is_secret_key(path[-1])

    def clean(value: Any) -> Any:
        if secret_leaf and isinstance(value, str | int | float) and not isinstance(value, bool):
            return mask(str(value))
        return redact_value(value, keys)

    safe_path = tuple(redact_key(p) if isinstance(p, str) else p for p in path)
    return Change(kind, safe_path, clean(old), clean(new))


def _jsonl_changes(old: bytes, new: bytes, show_secrets: bool) -> list[Change]:
    return _semantic_changes(jsonl_entries(old), jsonl_entries(new), show_secrets)


def _entry_counts(changes: list[Change]) -> str:
    added = sum(1 for c in changes if c.kind == "added" and len(c.path) == 1)
    removed = sum(1 for c in changes if c.kind == "removed" and len(c.path) == 1)
    changed = len({c.path[0] for c in changes if len(c.path) > 1})
    return f"entries: {added} added, {removed} removed, {changed} changed"


def _sqlite_changes(
    old: bytes | None, new: bytes | None, show_secrets: bool
) -> tuple[list[Change], list[str]]:
    found = diff_databases(old, new)
    notes = [*found.schema, *found.notes]
    notes += [
        f"table {table}: {c['added']} added, {c['removed']} removed, {c['changed']} changed"
        for table, c in found.counts.items()
    ]
    changes: list[Change] = []
    for row in found.rows:
        columns = {} if show_secrets else (row.old or row.new or {})
        key = ", ".join(_row_key_part(part, columns) for part in row.key)
        if row.kind == "changed" and row.old is not None and row.new is not None:
            for column in row.new:
                if row.old.get(column) != row.new[column]:
                    path = (row.table, key, column)
                    changes.append(
                        _safe_change(
                            "changed", path, row.old.get(column), row.new[column], show_secrets
                        )
                    )
        else:
            changes.append(_safe_change(row.kind, (row.table, key), row.old, row.new, show_secrets))
    return changes, notes


def _row_key_part(part: Any, columns: dict[str, Any]) -> str:
    """A primary-key value, masked by its column's name like that column's value is."""
    secret = any(is_secret_key(name) and value == part for name, value in columns.items())
    return mask(str(part)) if secret else str(part)
