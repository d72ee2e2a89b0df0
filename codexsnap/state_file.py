"""Reading a Codex JSON state file strictly: anything the app could not read is refused."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codexsnap.codex_files import GLOBAL_STATE as GLOBAL_STATE
from codexsnap.codex_files import GLOBAL_STATE_BAK as GLOBAL_STATE_BAK
from codexsnap.errors import StateFileInvalidError
from codexsnap.json_edit import check_object, refuse_constant, top_level_value, utf8_text

_RESTORE_HINT = (
    "Restore it with 'codexsnap rollback <id>' (see 'codexsnap history'), not from .bak."
)


@dataclass(frozen=True)
class StateFile:
    """A parsed JSON object file, with its exact bytes and the path edits must go to."""

    path: Path  # as named in the home
    target: Path  # where the bytes live (differs when ``path`` is a symbolic link)
    raw: bytes
    text: str
    data: dict[str, Any]


def resolve_target(home: Path, path: Path) -> Path:
    """Follow a symbolic link, but only to a file inside the home; refuse anything else."""
    if not path.is_symlink():
        return path
    try:
        target = path.resolve(strict=False)
    except (RuntimeError, OSError):
        raise StateFileInvalidError(
            f"{path} is a symbolic-link loop", hint="Replace the link with the file itself."
        ) from None
    if home.resolve() not in target.parents:
        raise StateFileInvalidError(
            f"{path} is a symbolic link to {target}, outside the Codex home",
            hint="Replace the link with the file itself, then run codexsnap again.",
        )
    return target


def read_state_file(home: Path, path: Path) -> StateFile | None:
    """Parse ``path`` as the app would; None when it does not exist."""
    if not os.path.lexists(path):
        return None
    target = resolve_target(home, path)
    if target.is_dir():
        raise StateFileInvalidError(f"{path} is a folder, not a file", hint=_RESTORE_HINT)
    if target.exists() and not target.is_file():
        # A FIFO would block the read forever; a socket or device is no state file.
        raise StateFileInvalidError(f"{path} is not a regular file", hint=_RESTORE_HINT)
    try:
        raw = target.read_bytes()
    except FileNotFoundError:
        raise StateFileInvalidError(
            f"{path} is a link to a missing file", hint="Remove the broken link."
        ) from None
    except PermissionError:
        raise StateFileInvalidError(
            f"{path} cannot be read (permission denied)",
            hint="Run codexsnap as the user who owns the Codex home.",
        ) from None
    text, data = parse_state(path, raw)
    return StateFile(path, target, raw, text, data)


def parse_state(path: Path | str, raw: bytes) -> tuple[str, dict[str, Any]]:
    """Decode and parse the bytes of a JSON object file, refusing what Codex could not read."""
    text = _decode(path, raw)
    return text, _parse(path, text)


def edit_state(path: Path | str, raw: bytes, edit: Callable[[str], str]) -> bytes:
    """Apply a text edit to a JSON object file, refusing what Codex could not read.

    The edit validates the document as it scans it, so a large state is parsed only once.
    """
    from codexsnap.json_edit import NotAnObjectError

    text = _decode(path, raw)
    try:
        edited = edit(text)
        if edited != text and not _is_object(edited):
            raise ValueError("the edit did not produce an object")
        # Checked once more before it is written: invalid JSON in the global state makes
        # the app start from empty state and drop the user's projects (#38757).
        return edited.encode("utf-8")
    except NotAnObjectError:
        raise StateFileInvalidError(
            f"{path} holds a JSON value that is not an object", hint=_RESTORE_HINT
        ) from None
    except ValueError as exc:
        raise StateFileInvalidError(
            f"{path} is not valid JSON ({exc})", hint=_RESTORE_HINT
        ) from None
    except RecursionError:
        raise StateFileInvalidError(f"{path} is nested too deeply", hint=_RESTORE_HINT) from None


def state_value(path: Path | str, raw: bytes, key: str) -> Any:
    """One top-level member of a JSON object file, refusing what ``parse_state`` refuses.

    The document is scanned, not built (and scanned once within ``json_edit.shared_scans``).
    """
    text = _decode(path, raw)
    try:
        return top_level_value(text, key)
    except (ValueError, RecursionError):
        # parse_state's refusal names the fault as it always has.
        return parse_state(path, raw)[1].get(key)


def _is_object(text: str) -> bool:
    try:
        check_object(text)
        return True
    except (ValueError, RecursionError):
        # Refused by the scan: json.loads says why, in the words edit_state always showed.
        return isinstance(json.loads(text, parse_constant=refuse_constant), dict)


def _decode(path: Path | str, raw: bytes) -> str:
    if not raw.strip():
        raise StateFileInvalidError(f"{path} is empty", hint=_RESTORE_HINT)
    if raw.strip(b"\x00") == b"" or b"\x00" in raw:
        raise StateFileInvalidError(f"{path} holds NUL bytes (a torn write)", hint=_RESTORE_HINT)
    if raw.startswith(b"\xef\xbb\xbf"):
        raise StateFileInvalidError(
            f"{path} starts with a byte-order mark, which Codex cannot read",
            hint="Save it as UTF-8 without a BOM, or restore it with 'codexsnap rollback <id>'.",
        )
    try:
        return utf8_text(raw)
    except UnicodeDecodeError as exc:
        raise StateFileInvalidError(
            f"{path} is not valid UTF-8 (byte {exc.start})", hint=_RESTORE_HINT
        ) from None


def _parse(path: Path | str, text: str) -> dict[str, Any]:
    try:
        data = json.loads(text, parse_constant=refuse_constant)
    except json.JSONDecodeError as exc:
        raise StateFileInvalidError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
            hint=_RESTORE_HINT,
        ) from None
    except ValueError as exc:
        # NaN/Infinity (refused: the app's JSON.parse cannot read them) and integers past
        # Python's 4,300-digit conversion limit: both are files Codex would not load either.
        raise StateFileInvalidError(
            f"{path} is not valid JSON ({exc})", hint=_RESTORE_HINT
        ) from None
    except RecursionError:
        raise StateFileInvalidError(f"{path} is nested too deeply", hint=_RESTORE_HINT) from None
    if not isinstance(data, dict):
        raise StateFileInvalidError(
            f"{path} holds a JSON {type(data).__name__}, not an object", hint=_RESTORE_HINT
        )
    return data
