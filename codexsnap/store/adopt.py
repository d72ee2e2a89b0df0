"""Adopting a history: a home that moved takes over the snapshots kept under its old path.

A history is named by the home's path (``home_id``), so a home whose path changed starts
with none. Adopting copies nothing and moves nothing: the new home's ref starts at one new
commit, an ``adopt`` snapshot with the old chain as its parent and the old head's tree,
and every snapshot of the old chain gets a ref under the new home too, all in one ref
transaction. The old path's history stays as it was, so nothing is lost either way.
"""

from __future__ import annotations

from pathlib import Path

from codexsnap import __version__
from codexsnap.store.git import GitRepository
from codexsnap.store.history import commit_message, snapshot_from_commit
from codexsnap.store.index import HOME_REFS, snapshot_ref
from codexsnap.store.trailers import encode


def adopt_chain(git: GitRepository, old_id: str, old_head: str, new_id: str, home: Path) -> str:
    """Start ``new_id``'s history with an ``adopt`` snapshot after ``old_head``; its id."""
    chain = git.run("rev-list", old_head).split()
    tree = git.run("rev-parse", f"{old_head}^{{tree}}").strip()
    old_path = snapshot_from_commit(git.commit(old_head)).trailers.get("Home", "") or old_id
    trailers = encode(
        {
            "Operation": "adopt",
            "Adopted-From": old_path,
            "Files-Changed": 0,
            "Version": __version__,
            "Home": str(home),
        }
    )
    body = commit_message(f"adopted the history of {old_path}", "", trailers)
    commit = git.run("commit-tree", tree, "-p", old_head, stdin=body.encode("utf-8")).strip()
    # "create": the new home must still have no history when the transaction lands.
    moves = f"create {HOME_REFS}/{new_id} {commit}\n" + "".join(
        f"create {snapshot_ref(new_id, c)} {c}\n" for c in [commit, *chain]
    )
    git.run("update-ref", "-m", "adopt", "--stdin", stdin=moves.encode())
    return commit
