"""What a snapshot records about the operation that made it: its commit trailers.

One mechanism for every fact: a trailer is declared once in ``TRAILERS`` (its name after
``Codexsnap-``, how its value is written, what it means), written with ``encode`` and read
with ``text_of`` / ``list_of``. A new fact (a per-file mark) is a new row here, and old
snapshots without it read as its default; a new kind of snapshot is a new ``Operation``
value (``automatic``, taken by ``codexsnap watch``). docs/design.md lists them, and
``tests/test_history.py`` keeps that table and this one alike.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Literal, NamedTuple

Codec = Literal["text", "list", "int"]


class Trailer(NamedTuple):
    """One trailer: ``Codexsnap-<name>: <value>``."""

    name: str
    codec: Codec
    on: str  # which snapshots carry it
    meaning: str


TRAILERS: dict[str, Trailer] = {
    t.name: t
    for t in (
        Trailer(
            "Operation",
            "text",
            "all",
            "`snapshot`, `automatic` (taken by `codexsnap watch`), `drift`, `before-fix`, "
            "`after-fix`, `before-rollback`, `after-rollback`, `before-undo`, `after-undo`, "
            "`recovery`, `adopt`",
        ),
        Trailer("Recipe", "text", "fix snapshots", "the recipe's name"),
        Trailer(
            "Options",
            "list",
            "fix snapshots",
            'the recipe\'s switches, as a JSON list (`["--reset"]`, `["--only-revoked"]`)',
        ),
        Trailer("Target", "text", "rollback and undo snapshots", "the snapshot being restored"),
        Trailer(
            "Undoes",
            "text",
            "undo snapshots",
            "the `after-*` snapshot of the operation the undo reversed",
        ),
        Trailer(
            "Paths",
            "list",
            "partial rollback snapshots",
            "the `--path` arguments, as a JSON list",
        ),
        Trailer("Key", "text", "partial rollback snapshots", "the `--key` argument"),
        Trailer(
            "Before",
            "text",
            "`after-*` and `recovery` snapshots",
            'the "before" snapshot of the same (or the interrupted) operation',
        ),
        Trailer(
            "Wrote",
            "list",
            "`after-*` snapshots",
            "the paths the operation wrote, as a JSON list: what `undo` puts back",
        ),
        Trailer(
            "Adopted-From",
            "text",
            "`adopt` snapshots",
            "the home path whose history this home took over",
        ),
        Trailer("Files-Changed", "int", "all", "files that differ from the parent snapshot"),
        Trailer("Version", "text", "all", "the codexsnap version that wrote it"),
        Trailer("Home", "text", "all", "the home's path"),
        Trailer(
            "Sqlite-Home",
            "text",
            "snapshots that held an outside SQLite home",
            "its path",
        ),
        Trailer(
            "Sqlite-Files-Changed",
            "int",
            "the same",
            "how many of Files-Changed are there",
        ),
        Trailer(
            "Rewritten-From",
            "text",
            "snapshots rewritten by `prune --gc`",
            "the id the snapshot had before",
        ),
    )
}


def encode(values: Mapping[str, str | int | Sequence[str] | None]) -> dict[str, str]:
    """Trailer values as written; None and empty lists are left out (they read as absent)."""
    written: dict[str, str] = {}
    for name, value in values.items():
        if name not in TRAILERS:
            raise ValueError(f"undeclared trailer {name!r}: add it to TRAILERS")
        if value is None or (not isinstance(value, str | int) and not value):
            continue
        if TRAILERS[name].codec == "list":
            assert not isinstance(value, str | int)
            written[name] = json.dumps(list(value))
        else:
            written[name] = str(value)
    return written


def text_of(trailers: Mapping[str, str], name: str, default: str = "") -> str:
    return trailers.get(name, default)


def list_of(trailers: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A list trailer; ``Paths`` written before lists were JSON was space-separated."""
    raw = trailers.get(name, "")
    if not raw:
        return ()
    if raw.startswith("["):
        try:
            found = json.loads(raw)
        except ValueError:
            return ()
        return tuple(str(item) for item in found) if isinstance(found, list) else ()
    return tuple(raw.split())
