"""Partial rollback: restore some paths, or one JSON key, and leave the rest as it is now."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from codexsnap.errors import StateFileInvalidError, UsageError
from codexsnap.json_edit import (
    add_top_level_member,
    remove_top_level_keys,
    replace_top_level_value,
    top_level_value,
)
from codexsnap.operation import PlannedWrite, blob_id
from codexsnap.state_file import GLOBAL_STATE, GLOBAL_STATE_BAK, edit_state
from codexsnap.store import SnapshotStore
from codexsnap.store.manifest import FileRecord

_ABSENT = object()


def home_relative(home: Path, given: str) -> str:
    """A --path as a path relative to the home (absolute paths must lie inside it)."""
    path = Path(given).expanduser()
    if path.is_absolute():
        try:
            path = path.resolve().relative_to(home)
        except ValueError:
            raise UsageError(
                f"--path {given} is not inside the Codex home {home}",
                hint="Give a path relative to the Codex home, e.g. --path config.toml",
            ) from None
    relpath = path.as_posix().strip("/")
    return "" if relpath == "." else relpath


def within(relpath: str, prefixes: list[str]) -> bool:
    """True when ``relpath`` is one of ``prefixes`` or lies in one of those folders."""
    return any(p == "" or relpath == p or relpath.startswith(p + "/") for p in prefixes)


def _nested(value: Any, keys: list[str]) -> Any:
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return _ABSENT
        value = value[key]
    return value


def key_restore(
    store: SnapshotStore,
    home: Path,
    target: dict[str, FileRecord],
    current: dict[str, FileRecord],
    relpath: str,
    key_path: str,
) -> list[PlannedWrite]:
    """The writes that give ``relpath`` the snapshot's value at ``key_path`` (a/b for nested)."""
    want, have = target.get(relpath), current.get(relpath)
    if want is None or have is None:
        missing = "the snapshot" if want is None else "the home"
        raise StateFileInvalidError(
            f"{relpath} is not in {missing}: --key needs the file on both sides",
            hint="Restore the whole file with --path instead.",
        )
    keys = [k for k in key_path.split("/") if k]
    if not keys:
        raise UsageError("--key is empty", hint="For example: --key local-projects")
    old_text = store.read_blob(want.blob).decode("utf-8", "replace")
    live = (home / relpath).read_bytes()

    def change(text: str) -> str:
        top = keys[0]
        wanted_top = top_level_value(old_text, top) if top in _top_keys(old_text) else _ABSENT
        present = top in _top_keys(text)
        if len(keys) == 1:
            new_top = wanted_top
        else:
            new_top = copy.deepcopy(top_level_value(text, top)) if present else {}
            wanted = _nested(wanted_top, keys[1:]) if wanted_top is not _ABSENT else _ABSENT
            parent = _nested(new_top, keys[1:-1]) if len(keys) > 2 else new_top
            if not isinstance(parent, dict):
                raise ValueError(f"{'/'.join(keys[:-1])} is not an object in the home's file")
            if wanted is _ABSENT:
                parent.pop(keys[-1], None)
            else:
                parent[keys[-1]] = copy.deepcopy(wanted)
        if new_top is _ABSENT:
            return remove_top_level_keys(text, {top})
        if present:
            return replace_top_level_value(text, top, new_top)
        return add_top_level_member(text, top, new_top)

    new = edit_state(relpath, live, change)
    if new == live:
        return []
    writes = [PlannedWrite(relpath, new, expected_blob=blob_id(live))]
    bak = current.get(GLOBAL_STATE_BAK)
    if relpath == GLOBAL_STATE and bak is not None:
        # The app keeps .bak as a byte-identical mirror of the primary (#43393).
        writes.append(PlannedWrite(GLOBAL_STATE_BAK, new, expected_blob=bak.blob))
    return writes


def _top_keys(text: str) -> set[str]:
    data = json.loads(text)
    return set(data) if isinstance(data, dict) else set()
