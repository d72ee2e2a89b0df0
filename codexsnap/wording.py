"""Counts as a person writes them: "1 file", "2 files", "3 entries", never "file(s)"."""

from __future__ import annotations


def plural(count: int, noun: str) -> str:
    """The count, then the noun it takes (the last word of ``noun`` is the one that varies)."""
    if count == 1:
        return f"{count} {noun}"
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "o", "u"):
        return f"{count} {noun[:-1]}ies"
    return f"{count} {noun}s"
