"""git's commit and tree objects, parsed from the bytes ``cat-file --batch`` gives."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

TREE_MODE = 0o40000


def blob_id(data: bytes) -> str:
    """The id git gives these bytes as a blob, computed without a git process."""
    return object_id(b"blob", data)


def object_id(kind: bytes, data: bytes) -> str:
    """The id git gives ``data`` as an object of ``kind``."""
    digest = hashlib.sha1(b"%s %d\0" % (kind, len(data)), usedforsecurity=False)
    digest.update(data)  # not header + data: that would copy a 55 MB transcript once more
    return digest.hexdigest()


class Commit(NamedTuple):
    """What a snapshot needs of a commit object."""

    hexsha: str
    tree: str
    parents: list[str]
    committed_datetime: datetime
    message: str

    @classmethod
    def parse(cls, hexsha: str, data: bytes) -> Commit:
        """Parse a raw commit object; ValueError when it is malformed."""
        head, _, message = data.partition(b"\n\n")
        tree = ""
        parents: list[str] = []
        committed: datetime | None = None
        for line in head.split(b"\n"):
            key, _, value = line.partition(b" ")
            if key == b"tree":
                tree = value.decode("ascii")
            elif key == b"parent":
                parents.append(value.decode("ascii"))
            elif key == b"committer":
                # "Name <email> 1700000000 +0100": the date is the last two fields.
                stamp, zone = value.rsplit(b" ", 2)[1:]
                sign = -1 if zone.startswith(b"-") else 1
                minutes = int(zone[-4:-2]) * 60 + int(zone[-2:])
                offset = timezone(timedelta(minutes=sign * minutes))
                committed = datetime.fromtimestamp(int(stamp), offset)
        if not tree or committed is None:
            raise ValueError(f"commit {hexsha} is malformed")
        return cls(hexsha, tree, parents, committed, message.decode("utf-8", "replace"))


def tree_entries(data: bytes) -> dict[bytes, tuple[bytes, bytes]]:
    """A raw tree object's entries as stored: name -> (mode, 20-byte object id), as bytes."""
    entries: dict[bytes, tuple[bytes, bytes]] = {}
    at = 0
    while at < len(data):
        space = data.index(b" ", at)
        nul = data.index(b"\0", space)
        if nul + 21 > len(data):
            raise ValueError("truncated tree object")
        entries[data[space + 1 : nul]] = (data[at:space], data[nul + 1 : nul + 21])
        at = nul + 21
    return entries


def parse_tree(data: bytes) -> dict[str, tuple[int, str]]:
    """A raw tree object's entries: name -> (mode, object id)."""
    return {
        name.decode("utf-8", "surrogateescape"): (int(mode, 8), oid.hex())
        for name, (mode, oid) in tree_entries(data).items()
    }
