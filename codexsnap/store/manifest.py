"""The JSON manifest each snapshot carries: every file's blob, exact mode, size and kind."""

from __future__ import annotations

import json
import os
import posixpath
from typing import NamedTuple

from codexsnap.errors import TamperedSnapshotError

MANIFEST_FORMAT = 1
FILES_PREFIX = "files/"
MANIFEST_NAME = "manifest.json"
# The notes kept beside a snapshot's files (store/commit.py writes them).
OUTSIDE_NAME = "outside.json"
AUTH_NAME = "auth-fingerprint.json"
SCOPE_NAME = "scope.json"
_KINDS = frozenset({"file", "symlink", "sqlite"})


class FileRecord(NamedTuple):
    """One file of a snapshot: where it goes in the home and what it holds."""

    relpath: str
    blob: str
    mode: int
    size: int
    kind: str  # "file", "symlink" or "sqlite"

    @property
    def git_mode(self) -> str:
        """The mode git records in the tree (git keeps only the executable bit)."""
        if self.kind == "symlink":
            return "120000"
        return "100755" if self.mode & 0o111 else "100644"

    def same_content(self, other: FileRecord) -> bool:
        """True when restoring one over the other would change nothing."""
        return (self.blob, self.mode, self.kind) == (other.blob, other.mode, other.kind)


def dump_manifest(records: dict[str, FileRecord]) -> bytes:
    """Serialize deterministically, so an unchanged home gives an unchanged tree."""
    files = {
        path: {"blob": r.blob, "mode": f"{r.mode:04o}", "size": r.size, "kind": r.kind}
        for path, r in sorted(records.items())
    }
    # Compact: with ``indent`` json falls back to its pure-Python encoder (59 ms against
    # 14 ms for 10,500 files), and every snapshot dumps the manifest to compare it.
    document = {"format": MANIFEST_FORMAT, "files": files}
    return json.dumps(document, separators=(",", ":")).encode() + b"\n"


def check_relpath(relpath: str) -> None:
    """Refuse a path that could land outside the home (a tampered store)."""
    # A backslash or "c:" is an ordinary character in a POSIX file name, but a separator or a
    # drive on Windows, where it could lead out of the home.
    windows_escape = os.name == "nt" and (
        "\\" in relpath or (len(relpath) > 1 and relpath[1] == ":")
    )
    if (
        not relpath
        or relpath.startswith("/")
        or windows_escape
        or "\x00" in relpath
        or posixpath.normpath(relpath) != relpath
        or any(part in ("", ".", "..", ".git") for part in relpath.split("/"))
    ):
        raise TamperedSnapshotError(
            f"the snapshot holds an unsafe path {relpath!r}",
            hint="The store may have been tampered with; run rollback on another snapshot.",
        )


# The manifests parsed by this process, by their bytes: a rollback reads its target's
# manifest to plan, then its drift snapshot the same one as its parent's (the latest
# snapshot is the usual target), 20-45 ms each for 2,800 files. Two at most: a manifest of
# 10,000 files is a few MB of records.
_PARSED: dict[bytes, dict[str, FileRecord]] = {}
_PARSED_KEPT = 2


def load_manifest(data: bytes) -> dict[str, FileRecord]:
    """Parse and validate a manifest; any oddity means the store was tampered with.

    The caller owns the dict it gets (a copy of the one kept for the same bytes).
    """
    parsed = _PARSED.get(data)
    if parsed is None:
        parsed = _parse_manifest(data)
        while len(_PARSED) >= _PARSED_KEPT:
            del _PARSED[next(iter(_PARSED))]
        _PARSED[data] = parsed
    return dict(parsed)


def _parse_manifest(data: bytes) -> dict[str, FileRecord]:
    try:
        document = json.loads(data)
        if document.get("format") != MANIFEST_FORMAT:
            raise ValueError(f"unknown manifest format {document.get('format')!r}")
        records: dict[str, FileRecord] = {}
        for path, entry in document["files"].items():
            check_relpath(path)
            kind = entry["kind"]
            if kind not in _KINDS:
                raise ValueError(f"unknown kind {kind!r}")
            mode = int(entry["mode"], 8)
            if not 0 <= mode <= 0o7777:
                raise ValueError(f"bad mode {entry['mode']!r}")
            records[path] = FileRecord(path, str(entry["blob"]), mode, int(entry["size"]), kind)
        for path in records:
            parent = path.rsplit("/", 1)[0] if "/" in path else ""
            while parent:
                if parent in records:  # a file that is also a folder: only a forgery does that
                    raise ValueError(f"{parent!r} is both a file and the folder of {path!r}")
                parent = parent.rsplit("/", 1)[0] if "/" in parent else ""
        return records
    except TamperedSnapshotError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise TamperedSnapshotError(
            f"the snapshot's manifest is damaged: {exc}",
            hint="Run rollback on another snapshot; this one cannot be trusted.",
        ) from None
