"""prune --gc: rebuild a home's chain without the dropped commits, then collect garbage."""

from __future__ import annotations

import json
import re

from codexsnap.errors import StoreError
from codexsnap.faults import fault_point
from codexsnap.store.git import GitRepository
from codexsnap.store.index import snapshot_ref
from codexsnap.store.manifest import MANIFEST_NAME

# Trailers that name another snapshot by id: they follow it when it is rewritten, or a
# second prune would no longer see that an "after" keeps its "before" (issue 13).
_NAMING = re.compile(r"^(Codexsnap-(?:Before|Target|Undoes): )([0-9a-f]{40})$", re.M)
_FILES_CHANGED = re.compile(r"^Codexsnap-Files-Changed: \d+$", re.M)
REWRITTEN_FROM = "Rewritten-From"  # the id a snapshot had before this rewrite


def rewrite_chain(git: GitRepository, head: str, dropped: set[str]) -> tuple[str, dict[str, str]]:
    """Write the chain ending at ``head`` without ``dropped``: (new head, old id -> new id).

    Only objects are written: nothing refers to them until ``move_refs``. Commits older than
    the first dropped one keep their ids. Trees, dates and messages are kept, and the same
    input always gives the same ids, so a run killed half-way is simply done again. Each
    rewritten commit records the id it had (``Codexsnap-Rewritten-From``): the mapping lives
    in the repository itself, and ``aliases.json`` can always be rebuilt from it.
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
        message = _NAMING.sub(lambda m: m[1] + renamed.get(m[2], m[2]), message)
        message = re.sub(r"^Codexsnap-Rewritten-From: .*\n?", "", message, flags=re.M)
        message = message.rstrip("\n") + f"\nCodexsnap-{REWRITTEN_FROM}: {commit_id}\n"
        if parent is None:
            # The new first snapshot: its change count was against a parent now gone.
            files = len(json.loads(git.run("show", f"{commit_id}:{MANIFEST_NAME}"))["files"])
            message = _FILES_CHANGED.sub(f"Codexsnap-Files-Changed: {files}", message)
        env_dates = {"GIT_AUTHOR_DATE": fields[1], "GIT_COMMITTER_DATE": fields[2]}
        args = ["commit-tree", fields[0]] + (["-p", parent] if parent else [])
        new_id = git.run(*args, stdin=message.encode(), extra_env=env_dates).strip()
        renamed[commit_id] = new_id
        parent = new_id
        fault_point("gc-rewrite-commit")
    if parent is None:
        raise StoreError("refusing to prune every snapshot of a home", hint="Keep one.")
    return parent, renamed


def move_refs(
    git: GitRepository,
    home: str,
    ref: str,
    head: str,
    new_head: str,
    gone: set[str],
    renamed: dict[str, str],
) -> None:
    """Move the home's ref and its snapshot refs to the rewritten chain, in one transaction:
    the ref of every dropped or rewritten commit goes, each new commit gets its own."""
    commands = [f"update {ref} {new_head} {head}"]
    commands += [f"delete {snapshot_ref(home, old)}" for old in sorted(gone | renamed.keys())]
    commands += [f"create {snapshot_ref(home, new)} {new}" for new in sorted(renamed.values())]
    stdin = "".join(f"{c}\n" for c in commands).encode()
    git.run("update-ref", "-m", "prune", "--stdin", stdin=stdin)


def collect_garbage(git: GitRepository) -> None:
    """Really delete what no snapshot references any more."""
    git.run("reflog", "expire", "--expire=now", "--all")
    fault_point("gc-before-git-gc")
    git.run("gc", "--prune=now", "--quiet")
    fault_point("gc-after-git-gc")
    # The stat cache may name blobs that just went away: start it afresh.
    for cache in (git.root / "cache").glob("*.json"):
        cache.unlink()
