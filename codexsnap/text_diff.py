"""A capped unified diff of text files, with secret-looking tokens masked."""

from __future__ import annotations

import difflib

from codexsnap.redact import mask, redact_line

# Files whose whole content is an identity (cloning it clones the machine: #22950).
_IDENTITY_FILES = frozenset({"installation_id", "installation_id.codexsnap-old"})

_LINE_CAP = 40


def unified_diff(path: str, old: bytes | None, new: bytes | None, show_secrets: bool) -> list[str]:
    """Diff lines (without the ---/+++ header), at most a screenful."""
    before = (old or b"").decode("utf-8", "replace").splitlines()
    after = (new or b"").decode("utf-8", "replace").splitlines()
    lines = list(difflib.unified_diff(before, after, f"a/{path}", f"b/{path}", n=1, lineterm=""))
    body = lines[2:]
    if not show_secrets and path in _IDENTITY_FILES:
        body = [line[:1] + mask(line[1:]) if line[:1] in "+- " else line for line in body]
    elif not show_secrets:
        body = [redact_line(line) for line in body]
    if len(body) > _LINE_CAP:
        body = [*body[:_LINE_CAP], f"… {len(body) - _LINE_CAP} more diff lines"]
    return body
