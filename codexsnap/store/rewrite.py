"""prune --gc: rebuild a home's chain without the dropped commits, then collect garbage."""

from __future__ import annotations

from codexsnap.errors import StoreError
from codexsnap.store.git import GitRepository


def rewrite_without(git: GitRepository, ref: str, head: str, dropped: set[str]) -> dict[str, str]:
    """Rebuild the chain ending at ``head`` without ``dropped``; old id -> new id of the rest.

    Commits older than the first dropped one keep their ids. Dates, messages and trees
    are kept, so a rewritten snapshot differs only in its parent.
    """
    chain = git.run("rev-list", "--reverse", head).split()
    renamed: dict[str, str] = {}
    parent: str | None = None
    rewriting = False
    for commit_id in chain:
        if commit_id in dropped:
            rewriting = True
            continue
        if not rewriting:
            parent = commit_id
            continue
        fields = git.run("show", "-s", "--format=%T%n%aI%n%cI", commit_id).splitlines()
        message = git.run("show", "-s", "--format=%B", commit_id)
        env_dates = {"GIT_AUTHOR_DATE": fields[1], "GIT_COMMITTER_DATE": fields[2]}
        args = ["commit-tree", fields[0]] + (["-p", parent] if parent else [])
        new_id = git.run(*args, stdin=message.encode(), extra_env=env_dates).strip()
        renamed[commit_id] = new_id
        parent = new_id
    if parent is None:
        raise StoreError("refusing to prune every snapshot of a home", hint="Keep one.")
    git.run("update-ref", "-m", "prune", ref, parent, head)
    return renamed


def collect_garbage(git: GitRepository) -> None:
    """Really delete what no snapshot references any more."""
    git.run("reflog", "expire", "--expire=now", "--all")
    git.run("gc", "--prune=now", "--quiet")
    # The stat cache may name blobs that just went away: start it afresh.
    for cache in (git.root / "cache").glob("*.json"):
        cache.unlink()
