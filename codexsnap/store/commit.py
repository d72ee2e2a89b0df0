"""Writing a snapshot: its tree (manifest, notes beside the files, the files) and its commit."""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from codexsnap import __version__
from codexsnap.errors import StoreError, TamperedSnapshotError
from codexsnap.faults import fault_point
from codexsnap.outside import auth_fingerprint
from codexsnap.roots import in_sqlite_root
from codexsnap.scope import Scope
from codexsnap.store.git import IDENTITY, GitRepository
from codexsnap.store.history import Snapshot, commit_message, snapshot_from_commit
from codexsnap.store.index import is_object_id, snapshot_ref
from codexsnap.store.loose import write_loose
from codexsnap.store.manifest import (
    AUTH_NAME,
    FILES_PREFIX,
    MANIFEST_NAME,
    OUTSIDE_NAME,
    SCOPE_NAME,
    FileRecord,
    dump_manifest,
    load_manifest,
)
from codexsnap.store.objects import blob_id
from codexsnap.store.trees import TreeMismatchError, next_tree, refused_name


@dataclass(frozen=True)
class SnapshotResult:
    """The snapshot an operation ended on and whether a commit was made for it.

    ``records`` are the files it holds, as committed (a caller need not read them back).
    """

    snapshot: Snapshot
    created: bool
    records: dict[str, FileRecord] = field(default_factory=dict)


def extras_of(home: Path, scope: Scope, outside: dict[str, list[int]]) -> dict[str, bytes]:
    """The notes kept beside a snapshot's files: what lies outside (``outside``, from the
    snapshot's own walk), the scope, the login."""
    extras = {
        OUTSIDE_NAME: json.dumps(dict(sorted(outside.items()))).encode(),
        SCOPE_NAME: json.dumps(scope.to_config(), sort_keys=True).encode(),
    }
    fingerprint = auth_fingerprint(home)
    if fingerprint is not None:
        extras[AUTH_NAME] = json.dumps(fingerprint, sort_keys=True).encode()
    return extras


def commit_records(
    git: GitRepository,
    home: Path,
    ref: str,
    head: str | None,
    records: dict[str, FileRecord],
    summary: str,
    trailers: dict[str, str],
    message: str,
    allow_unchanged: bool,
    extras: dict[str, bytes],
    *,
    tip: str | None,
    tip_records: dict[str, FileRecord] | None = None,
) -> SnapshotResult:
    """Commit ``records`` on ``ref`` after ``tip`` (skipped when nothing changed).

    ``tip`` is ``head`` unless that commit cannot be read: then the newest snapshot that
    can, so a damaged latest commit does not stop new snapshots (``head`` is still what
    the ref must hold when it moves). ``tip_records``: its files, when this run committed
    it (not parsed again).
    """
    base = tip
    tip_commit = git.commit(base) if base else None
    parent = snapshot_from_commit(tip_commit) if tip_commit else None
    top = _top_level(git, base) if base else {}
    manifest = dump_manifest(records)
    parent_manifest = _read(git, top.get(MANIFEST_NAME)) if tip_records is None else None
    same = tip_records is None and parent_manifest == manifest
    # The parent's manifest as its tree names it (cat-file does not check the bytes it
    # inflates): only then can the parent's tree serve as the base of the next one.
    sound = parent_manifest is not None and blob_id(parent_manifest) == top[MANIFEST_NAME][1]
    if parent is not None and not allow_unchanged and same:
        return SnapshotResult(parent, created=False, records=records)  # the manifest says it all
    if same:
        parent_records = records  # the same manifest: no need to parse it
    elif tip_records is not None:
        parent_records = tip_records
    else:
        try:
            parent_records = load_manifest(parent_manifest) if parent_manifest else {}
        except TamperedSnapshotError:
            # A damaged latest snapshot must not stop new ones: compare against nothing.
            parent_records, sound = {}, False
    changed = count_changes(parent_records, records)
    if parent is not None and changed == 0 and not allow_unchanged:
        return SnapshotResult(parent, created=False, records=records)
    tree = None
    notes = {**extras, MANIFEST_NAME: manifest}
    if tip_records is not None and changed == 0 and records.keys() == tip_records.keys():
        tree = _same_tree(git, base, top, notes)
    home_key = ref.rsplit("/", 1)[1]
    # Only a parent tree known to match its manifest serves as the base (see _vouched).
    trusted = tip_commit is not None and (
        tip_records is not None or (sound and _vouched(git, home_key) == tip_commit.tree)
    )
    if tree is None and trusted and tip_commit is not None and top:
        tree = _next_tree(git, tip_commit.tree, top, parent_records, records, notes)
    if tree is None:
        known = {sha for _, sha in top.values()}
        tree = write_tree(git, records, extras, known, manifest, set(parent_records))
    all_trailers = {
        **trailers,
        "Files-Changed": str(changed),
        "Version": __version__,
        "Home": str(home),
    }
    in_root = {p for p in records.keys() | parent_records.keys() if in_sqlite_root(p)}
    if in_root:
        # So history can say how much of a change lay in the SQLite home outside the home.
        was = {p: r for p, r in parent_records.items() if p in in_root}
        now = {p: r for p, r in records.items() if p in in_root}
        all_trailers["Sqlite-Files-Changed"] = str(count_changes(was, now))
    body = commit_message(summary, message, all_trailers)
    commit = _write_commit(git, tree, base, body)
    fault_point("before-update-ref")
    # Compare-and-swap on the ref: a concurrent writer can never silently lose a snapshot.
    # The snapshot's own ref moves with it, in one transaction (store/index.py).
    own = snapshot_ref(home_key, commit)
    # A garbled ref cannot be compared: we hold the store's lock, so overwrite it.
    old = head or "0" * 40 if head is None or is_object_id(head) else ""
    moves = f"update {ref} {commit} {old}\ncreate {own} {commit}\n"
    git.run("update-ref", "-m", summary, "--stdin", stdin=moves.encode())
    _vouch(git, home_key, tree)
    return SnapshotResult(snapshot_from_commit(git.commit(commit)), True, records)


def write_tree(
    git: GitRepository,
    records: dict[str, FileRecord],
    extras: dict[str, bytes],
    known: set[str] | None = None,
    manifest: bytes | None = None,
    stored_before: set[str] | None = None,
) -> str:
    """The tree of a snapshot; refuses file names git would silently leave out.

    ``known``: ids of objects the store holds (the parent's notes), not written again;
    ``manifest``: ``dump_manifest(records)`` when the caller has it; ``stored_before``:
    paths the parent snapshot holds, which git took before (only new names are checked).
    """
    notes = sorted({**extras, MANIFEST_NAME: manifest or dump_manifest(records)}.items())
    ids = git.write_blobs([data for _, data in notes], known or set())
    lines = [f"100644 {blob}\t{name}" for (name, _), blob in zip(notes, ids, strict=True)]
    lines += [f"{r.git_mode} {r.blob}\t{FILES_PREFIX}{p}" for p, r in sorted(records.items())]
    index = git.root / "tmp" / f"index-{os.getpid()}-{os.urandom(4).hex()}"
    try:
        git.run(
            "update-index",
            "-z",
            "--add",
            "--index-info",
            index_file=index,
            stdin="".join(f"{line}\0" for line in lines).encode("utf-8", "surrogateescape"),
        )
        new_names = records.keys() - (stored_before or set())
        refused: list[str] = []
        if new_names:
            listed = git.run("ls-files", "-z", index_file=index).split("\0")
            stored = {n[len(FILES_PREFIX) :] for n in listed if n.startswith(FILES_PREFIX)}
            refused = sorted(new_names - stored)
        if refused:
            _refuse(refused)
        return git.run("write-tree", index_file=index).strip()
    finally:
        with contextlib.suppress(FileNotFoundError):
            index.unlink()


def _next_tree(
    git: GitRepository,
    parent_tree: str,
    top: dict[str, tuple[int, str]],
    parent_records: dict[str, FileRecord],
    records: dict[str, FileRecord],
    notes: dict[str, bytes],
) -> str | None:
    """The tree of ``records`` built from the parent's (store/trees.py), its new objects
    written; None when the parent's tree cannot serve (the caller writes the whole tree).

    Measured against an index kept per home (``write-tree`` reusing its cache-tree):
    that still runs ``update-index`` and ``write-tree`` over the whole index, and a run
    killed between them leaves an index to verify. Here no git process runs at all and
    nothing outside the objects is kept (docs/performance.md).
    """
    refused = sorted(
        p for p in records.keys() - parent_records.keys() if refused_name(p, records[p].git_mode)
    )
    if refused:
        _refuse(refused)
    try:
        tree, trees = next_tree(git.read_object, parent_tree, parent_records, records, notes)
    except TreeMismatchError:
        return None  # a damaged or unreadable parent tree: the whole tree, as before
    known = {sha for _, sha in top.values()}
    for data in notes.values():
        if blob_id(data) not in known:
            write_loose(git.git_dir, b"blob", data)
    for data in trees.values():
        write_loose(git.git_dir, b"tree", data)
    return tree


def _write_commit(git: GitRepository, tree: str, parent: str | None, body: str) -> str:
    """The snapshot's commit, written as a loose object (what ``commit-tree`` would write)."""
    now = int(time.time())
    offset = time.localtime(now).tm_gmtoff // 60
    sign = "-" if offset < 0 else "+"
    name, email = IDENTITY
    ident = f"{name} <{email}> {now} {sign}{abs(offset) // 60:02d}{abs(offset) % 60:02d}"
    head = f"tree {tree}\n" + (f"parent {parent}\n" if parent else "")
    text = f"{head}author {ident}\ncommitter {ident}\n\n{body}"
    return write_loose(git.git_dir, b"commit", text.encode("utf-8"))


def _vouch_file(git: GitRepository, home_key: str) -> Path:
    return git.root / "cache" / f"{home_key}.tree"


def _vouched(git: GitRepository, home_key: str) -> str | None:
    """The tree of the last snapshot this store wrote for the home (None when unknown).

    Only a tree codexsnap wrote is known to hold exactly what its manifest says; a tree
    built from another one copies its untouched folders, so a forged or damaged parent
    whose files disagree with its manifest would pass its disagreement on. The note is
    not fsynced: lost or torn, it names no tree, and the whole tree is written once.
    """
    try:
        return _vouch_file(git, home_key).read_text().strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def _vouch(git: GitRepository, home_key: str, tree: str) -> None:
    note = _vouch_file(git, home_key)
    temporary = note.with_name(f"{note.name}.{os.getpid()}")
    with contextlib.suppress(OSError):  # without the note the next tree is written whole
        note.parent.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(f"{tree}\n")
        os.replace(temporary, note)


def _refuse(names: list[str]) -> None:
    # git refuses some names (".GIT", "a/../b"...) without failing: a snapshot that
    # silently lacked them would restore a home without them.
    raise StoreError(
        f"git cannot store these file names: {', '.join(names[:5])}",
        hint="Rename them, or exclude them in the store's scope.toml.",
    )


def _same_tree(
    git: GitRepository, base: str | None, top: dict[str, tuple[int, str]], notes: dict[str, bytes]
) -> str | None:
    """The tree of ``base`` when it is exactly the one these notes and files would make.

    Only for a parent this run committed (its tree was just built from its records): the "before"
    snapshot right after a drift snapshot of the same walk costs no index and no tree.
    """
    if base is None or {n for n in top if n != FILES_PREFIX.rstrip("/")} != set(notes):
        return None
    if any(blob_id(data) != top[name][1] for name, data in notes.items()):
        return None
    return git.commit(base).tree


def _top_level(git: GitRepository, commit_id: str) -> dict[str, tuple[int, str]]:
    try:
        return git.top_level(commit_id)
    except Exception:  # a damaged snapshot: the next one compares against nothing
        return {}


def _read(git: GitRepository, entry: tuple[int, str] | None) -> bytes | None:
    if entry is None:
        return None
    try:
        return git.read_blob(entry[1])
    except Exception:  # a damaged snapshot: the next one compares against nothing
        return None


def manifest_bytes(git: GitRepository, commit_id: str, name: str = MANIFEST_NAME) -> bytes | None:
    """A snapshot's manifest (or a note beside it) as stored, unchecked; None when damaged."""
    try:
        return git.file_in(commit_id, name)
    except Exception:  # a damaged snapshot: the next one compares against nothing
        return None


def blobs_present(
    git: GitRepository,
    head: str | None,
    records: dict[str, FileRecord],
    fresh: set[str] | None = None,
) -> bool:
    """True when the store holds every blob; those the snapshot ``head`` names are known, and
    so are ``fresh`` ones (just written by this scan)."""
    manifest = manifest_bytes(git, head) if head else None
    known: set[str] = set(fresh or ())
    if manifest:
        # Only the ids: the manifest is checked where it is used (load_manifest).
        with contextlib.suppress(ValueError, KeyError, TypeError, AttributeError):
            known |= {str(entry["blob"]) for entry in json.loads(manifest)["files"].values()}
    wanted = {r.blob for r in records.values()} - known
    if not wanted:
        return True  # no git process for the common case
    sizes = git.object_sizes(sorted(wanted))
    return all(size is not None for size in sizes.values())


def count_changes(old: dict[str, FileRecord], new: dict[str, FileRecord]) -> int:
    """Files that differ between two snapshots."""
    paths = old.keys() | new.keys()
    return sum(1 for p in paths if p not in old or p not in new or not old[p].same_content(new[p]))
