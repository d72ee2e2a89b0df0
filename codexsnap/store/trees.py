"""A snapshot's tree built in Python from its parent's, changing only the changed paths.

The whole-tree path (store/commit.py ``write_tree``) hands git every entry of the home:
``update-index`` of 2,800 (or 10,300) entries, ``ls-files`` and ``write-tree``, three
processes and work over the whole home for a one-file change. Here only the trees on the
paths of the changed files are read (each checked against its id) and written anew; every
other folder keeps the object its parent snapshot names. The result is byte for byte the
tree ``write-tree`` gives for the same files (tests/test_trees.py compares them).

A tree object is ``<octal mode> <name>\\0<20-byte id>`` per entry, sorted by name with a
folder's name compared as ``name/`` (git's ``base_name_compare``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from codexsnap.store.manifest import FILES_PREFIX, FileRecord
from codexsnap.store.objects import object_id, tree_entries

TREE = b"40000"
_FILES = FILES_PREFIX.rstrip("/").encode()
Entry = tuple[bytes, bytes]  # (mode as git writes it, 20-byte object id)
ReadObject = Callable[[str], tuple[str, bytes]]


class TreeMismatchError(Exception):
    """The parent's tree cannot serve as the base: unreadable, damaged, or not what its
    manifest says. The caller builds the whole tree instead."""


def tree_bytes(entries: dict[bytes, Entry]) -> bytes:
    """The raw tree object of these entries, in git's order."""
    keyed = sorted(
        (name + b"/" if mode == TREE else name, name) for name, (mode, _) in entries.items()
    )
    return b"".join(entries[name][0] + b" " + name + b"\0" + entries[name][1] for _, name in keyed)


def refused_name(relpath: str, git_mode: str) -> bool:
    """True for a path git's ``verify_path`` refuses (``update-index`` skips it silently).

    Empty components, ``.`` and ``..``, ``.git`` in any case; for a symlink also
    ``.gitmodules`` in any case. The store runs git with core.protectNTFS and protectHFS
    off, so ``git~1`` and the like are ordinary names, as they are for git here.
    """
    if not relpath or relpath.startswith("/") or relpath.endswith("/"):
        return True
    for part in relpath.split("/"):
        lowered = part.lower()
        if part in ("", ".", "..") or lowered == ".git":
            return True
        if git_mode == "120000" and lowered == ".gitmodules":
            return True
    return False


@dataclass
class _Changes:
    """The changes under one folder: files set (or removed: None) and sub-folders."""

    files: dict[bytes, Entry | None] = field(default_factory=dict)
    folders: dict[bytes, _Changes] = field(default_factory=dict)
    # What the parent's manifest says each changed file held (None: it had no such file).
    was: dict[bytes, Entry | None] = field(default_factory=dict)


def _entry(record: FileRecord) -> Entry:
    return record.git_mode.encode(), bytes.fromhex(record.blob)


def _changes(old: dict[str, FileRecord], new: dict[str, FileRecord]) -> _Changes:
    root = _Changes()
    # The blob first: for all but the changed files that one comparison settles it.
    moved: list[tuple[str, FileRecord | None, FileRecord | None]] = [
        (path, old.get(path), after)
        for path, after in new.items()
        if (before := old.get(path)) is None
        or before.blob != after.blob
        or before.git_mode != after.git_mode  # 0600 to 0644: git does not keep it
    ]
    moved += [(path, before, None) for path, before in old.items() if path not in new]
    for path, before, after in moved:
        *folders, name = path.encode("utf-8", "surrogateescape").split(b"/")
        node = root
        for folder in folders:
            node = node.folders.setdefault(folder, _Changes())
        node.files[name] = _entry(after) if after is not None else None
        node.was[name] = _entry(before) if before is not None else None
    return root


class _Builder:
    """Applies changes to the parent's trees, collecting the new tree objects."""

    def __init__(self, read: ReadObject) -> None:
        self._read = read
        self.written: dict[str, bytes] = {}  # id -> raw tree, in the order they were made

    def _entries(self, tree_id: bytes | None) -> dict[bytes, Entry]:
        if tree_id is None:
            return {}
        hex_id = tree_id.hex()
        try:
            kind, data = self._read(hex_id)
        except (ValueError, OSError) as exc:
            raise TreeMismatchError(f"tree {hex_id} cannot be read: {exc}") from None
        # cat-file does not check what it inflates against the id: a damaged tree that
        # still inflates must not be copied into the next snapshot.
        if kind != "tree" or object_id(b"tree", data) != hex_id:
            raise TreeMismatchError(f"tree {hex_id} is damaged")
        try:
            return tree_entries(data)
        except ValueError as exc:
            raise TreeMismatchError(f"tree {hex_id} is damaged: {exc}") from None

    def apply(self, tree_id: bytes | None, changes: _Changes) -> bytes | None:
        """The id of the folder ``tree_id`` with ``changes``; None when it ends up empty."""
        entries = self._entries(tree_id)
        for name in changes.files.keys() | changes.folders.keys():
            old = entries.get(name)
            base = old[1] if old is not None and old[0] == TREE else None
            if name in changes.files:
                held = old if base is None else None
                if held != changes.was[name]:
                    raise TreeMismatchError(
                        f"{name!r}: the tree does not hold what the manifest says"
                    )
            elif old is not None and base is None:
                raise TreeMismatchError(f"{name!r}: a file in the tree, a folder in the manifest")
            folder = self.apply(base, changes.folders[name]) if name in changes.folders else base
            now = changes.files.get(name)
            if now is not None and folder is not None:
                raise TreeMismatchError(f"{name!r} would be both a file and a folder")
            if now is not None:
                entries[name] = now
            elif folder is not None:
                entries[name] = (TREE, folder)
            else:
                entries.pop(name, None)
        if not entries:
            return None
        data = tree_bytes(entries)
        new_id = object_id(b"tree", data)
        if tree_id is None or new_id != tree_id.hex():
            self.written[new_id] = data
        return bytes.fromhex(new_id)


def next_tree(
    read: ReadObject,
    parent_tree: str,
    parent_records: dict[str, FileRecord],
    records: dict[str, FileRecord],
    notes: dict[str, bytes],
) -> tuple[str, dict[str, bytes]]:
    """The snapshot tree of ``records`` and ``notes``, built from the parent's tree.

    Returns its id and the tree objects to write (id -> raw, children before parents).
    Raises TreeMismatchError when the parent's tree is unreadable or disagrees with
    ``parent_records`` on a changed path.
    """
    builder = _Builder(read)
    top = builder._entries(bytes.fromhex(parent_tree))
    old_files = top.get(_FILES)
    if old_files is not None and old_files[0] != TREE:
        raise TreeMismatchError("the parent's files are not a folder")
    files = builder.apply(old_files[1] if old_files else None, _changes(parent_records, records))
    # The top holds the notes and the files, nothing inherited: as the whole-tree path makes it.
    new_top: dict[bytes, Entry] = {
        name.encode(): (b"100644", bytes.fromhex(object_id(b"blob", data)))
        for name, data in notes.items()
    }
    if files is not None:
        new_top[_FILES] = (TREE, files)
    data = tree_bytes(new_top)
    top_id = object_id(b"tree", data)
    builder.written[top_id] = data
    return top_id, builder.written
