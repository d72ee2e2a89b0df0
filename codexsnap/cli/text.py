"""Results as plain text: counts, the recovery line, the flags that repeat where a command ran."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from codexsnap.home import CodexHome, StoreLocation

if TYPE_CHECKING:
    from codexsnap.transaction.recovery import Recovery


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def location_flags(home: CodexHome, store: StoreLocation) -> str:
    """The --codex-home and --store flags an undo or cure command needs to work in any shell."""
    flags = ""
    if home.source != "default":
        flags += f" --codex-home {shlex.quote(str(home.path))}"
    if store.source != "default":
        flags += f" --store {shlex.quote(str(store.path))}"
    return flags


def recovery_text(done: Recovery) -> str:
    count = len(done.restored)
    text = (
        f"Recovered an interrupted {done.operation}: put back {count} "
        f"file{'s' if count != 1 else ''}"
    )
    if done.left_alone:
        text += f"; left {', '.join(done.left_alone)} alone (changed since)"
    if done.snapshot is not None:
        text += f"; the home now matches snapshot {done.snapshot.short_id}"
    return text + "."
