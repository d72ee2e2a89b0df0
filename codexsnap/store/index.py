"""Per-snapshot refs: every snapshot of a home is also named by a ref of its own,
``refs/codexsnap/snapshots/<home>/<commit id>``.

A home's chain is a linked list held together by the parent ids inside its commits: one
damaged commit used to hide every older snapshot, and every command that walked the chain
failed. With a ref per snapshot, each one stays reachable (git gc keeps it) and findable
without reading any other commit. The ref log was the other candidate; it is off in bare
repositories, ``prune --gc`` expires it, and it cannot be moved in the same transaction as
the refs. The names are read from the ref files themselves, never through git, so a ref
whose commit is missing or corrupt is still listed (git skips such "broken" refs).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from codexsnap.errors import StoreError
from codexsnap.store.git import GitRepository

HOME_REFS = "refs/codexsnap/homes"
SNAPSHOT_REFS = "refs/codexsnap/snapshots"
_FULL_ID = re.compile(r"^[0-9a-f]{40}$")


def home_id(home: Path) -> str:
    """A stable name for one home inside a store shared by several (its refs, its cache)."""
    return hashlib.sha256(str(home).encode("utf-8")).hexdigest()[:16]


def is_object_id(text: str | None) -> bool:
    """True for a full 40-character object id."""
    return text is not None and bool(_FULL_ID.match(text))


def snapshot_ref(home: str, commit_id: str) -> str:
    """The ref that keeps one snapshot of one home (``home`` is its home id)."""
    return f"{SNAPSHOT_REFS}/{home}/{commit_id}"


def _packed(git_dir: Path) -> dict[str, str]:
    try:
        text = (git_dir / "packed-refs").read_text(errors="replace")
    except OSError:
        return {}
    refs: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith(("#", "^")) or " " not in line:
            continue
        value, name = line.split(" ", 1)
        refs[name] = value
    return refs


def listed_ids(git_dir: Path, home: str) -> set[str]:
    """The commit ids this home's snapshot refs name (whether or not they can be read)."""
    prefix = f"{snapshot_ref(home, '')}"
    ids = {name[len(prefix) :] for name in _packed(git_dir) if name.startswith(prefix)}
    folder = git_dir / prefix
    if folder.is_dir():
        ids |= {p.name for p in folder.iterdir() if not p.name.endswith(".lock")}
    return {i for i in ids if is_object_id(i)}


def listed_homes(git_dir: Path) -> set[str]:
    """Every home id with a home ref or a snapshot ref."""
    homes: set[str] = set()
    for name in _packed(git_dir):
        for prefix in (f"{HOME_REFS}/", f"{SNAPSHOT_REFS}/"):
            if name.startswith(prefix):
                homes.add(name[len(prefix) :].split("/")[0])
    for prefix in (HOME_REFS, SNAPSHOT_REFS):
        folder = git_dir / prefix
        if folder.is_dir():
            homes |= {p.name for p in folder.iterdir() if not p.name.endswith(".lock")}
    return homes


def _has_ref(git_dir: Path, name: str) -> bool:
    return (git_dir / name).is_file() or name in _packed(git_dir)


def read_head(git_dir: Path, home: str) -> str | None:
    """What a home's ref holds, as written (a damaged ref gives its garbage back)."""
    loose = git_dir / HOME_REFS / home
    try:
        return loose.read_text(errors="replace").strip()
    except FileNotFoundError:
        return _packed(git_dir).get(f"{HOME_REFS}/{home}")


def index_chain(git: GitRepository, home: str, head: str | None) -> None:
    """Give every snapshot of a chain its ref (stores made before these refs existed)."""
    if not is_object_id(head):
        return
    assert head is not None
    if _has_ref(git.git_dir, snapshot_ref(home, head)):
        # Every snapshot gets its ref as it is made, and a chain without them is indexed
        # whole on its first locked run: a head with its ref means a chain with theirs.
        # (No `git rev-list` of the whole history on every locked run.)
        return
    try:
        chain = git.run("rev-list", head).split()
    except StoreError:
        return  # a damaged chain: its readable part keeps the refs it has
    missing = [c for c in chain if c not in listed_ids(git.git_dir, home)]
    if missing:
        commands = "".join(f"create {snapshot_ref(home, c)} {c}\n" for c in missing)
        git.run("update-ref", "-m", "index", "--stdin", stdin=commands.encode())
