"""Scope patterns compiled for speed: a no-change snapshot tests every path of the home."""

from __future__ import annotations

import fnmatch
import re


def translated(pattern: str) -> str:
    """An fnmatch pattern as a regular expression, unanchored."""
    return fnmatch.translate(pattern).removeprefix("(?s:").removesuffix(")\\Z")


def compiled(parts: list[str]) -> re.Pattern[str]:
    """One expression matching any of ``parts`` whole."""
    if not parts:
        return re.compile(r"(?!)")  # matches nothing
    return re.compile("(?s:" + "|".join(f"(?:{p})" for p in parts) + r")\Z")


class NameTest:
    """Name patterns ("*.pid", "auth.json", "*.codex-recovery-*.bak") against one name.

    Exact names are a set, "*<literal>" a suffix test; the rest one regular expression, tried
    only on names holding a literal piece of one of them (a leading "*" in a regular
    expression is tried at every position of every name).
    """

    def __init__(self, patterns: list[str]) -> None:
        wild = re.compile(r"[*?\[]")
        self.exact = frozenset(p for p in patterns if not wild.search(p))
        suffix_patterns = [p for p in patterns if p[:1] == "*" and not wild.search(p[1:])]
        self.suffixes = tuple(p[1:] for p in suffix_patterns)
        rest = [p for p in patterns if p not in self.exact and p not in suffix_patterns]
        pieces = [max(wild.split(p), key=len) for p in rest]
        # A pattern with no literal piece ("*") must always be tried.
        any_piece = "|".join(map(re.escape, pieces))
        self.pieces = None if not all(pieces) else re.compile(any_piece)
        self.rest = compiled([translated(p) for p in rest])
        self.any_rest = bool(rest)

    def matches(self, name: str) -> bool:
        if name in self.exact or name.endswith(self.suffixes):
            return True
        if not self.any_rest:
            return False
        if self.pieces is not None and not self.pieces.search(name):
            return False
        return self.rest.match(name) is not None
