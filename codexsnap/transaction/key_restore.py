"""Restoring one JSON key of a file: the snapshot's value at that key, the rest as Codex
wrote it since (``rollback --key``)."""

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
from codexsnap.roots import live_path
from codexsnap.state_file import GLOBAL_STATE, GLOBAL_STATE_BAK, edit_state
from codexsnap.store import SnapshotStore
from codexsnap.store.manifest import FileRecord
from codexsnap.store.objects import blob_id
from codexsnap.transaction.plan import PlannedWrite, damaged_error

_ABSENT = object()


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
    sqlite_home: Path | None = None,
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
    stored = store.read_verified(want.blob)
    if stored is None:
        raise damaged_error(store, None, [relpath])
    old_text = stored.decode("utf-8", "replace")
    live = live_path(home, relpath, sqlite_home).read_bytes()
    _check_key(relpath, key_path, keys, old_text, live)

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
                raise UsageError(
                    f"--key {key_path}: {'/'.join(keys[:-1])} is not an object in the home's "
                    f"{relpath}",
                    hint="Restore the nearest key that is an object, or the whole file.",
                )
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


def _check_key(relpath: str, key_path: str, keys: list[str], old_text: str, live: bytes) -> None:
    """A --key that neither side has is a typo, not "nothing to do"."""
    found = []
    for text in (old_text, live.decode("utf-8", "replace")):
        try:
            found.append(_nested(json.loads(text), keys) is not _ABSENT)
        except ValueError:
            return  # not JSON: edit_state says so, with the file's name
    if not any(found):
        raise UsageError(
            f"--key {key_path}: no such key in {relpath}, in the snapshot or in the home",
            hint="Keys are top-level names, a/b for nested ones; see 'codexsnap diff'.",
        )


def _top_keys(text: str) -> set[str]:
    data = json.loads(text)
    return set(data) if isinstance(data, dict) else set()
