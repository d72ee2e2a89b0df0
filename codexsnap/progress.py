"""Progress of long scans and restores: the core reports, the CLI decides whether to show it."""

from __future__ import annotations

from collections.abc import Callable

Listener = Callable[[int, int, str], None]  # (done, total or 0 when unknown, what)

_listener: Listener | None = None


def set_listener(listener: Listener | None) -> None:
    """Install (or with None, remove) the one listener."""
    global _listener
    _listener = listener


def report(done: int, total: int, what: str) -> None:
    """Tell the listener, if any; the core never prints."""
    if _listener is not None:
        _listener(done, total, what)
