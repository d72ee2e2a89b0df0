"""Snapshots as git commits: their trailers, the one ``git log``, and resolving ids."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from codexsnap.errors import (
    AmbiguousSnapshotIdError,
    SnapshotNotFoundError,
    StoreError,
    TamperedSnapshotError,
)
from codexsnap.store.git import GitRepository
from codexsnap.store.objects import Commit
from codexsnap.store.trailers import list_of, text_of

_HEX_ID = re.compile(r"^[0-9a-f]{4,40}$")
_TRAILER = re.compile(r"^Codexsnap-([A-Za-z-]+): (.*)$")
_FULL_ID = re.compile(r"^[0-9a-f]{40}$")
_UNKNOWN_DATE = datetime.fromtimestamp(0, UTC)


class Snapshot(NamedTuple):
    """One commit of one home's history."""

    id: str
    created_at: datetime
    summary: str
    message: str
    trailers: dict[str, str]
    parent: str | None = None
    # Marks kept beside the repository (store/tables.py), filled in by the history command.
    pinned: bool = False
    pin_reason: str = ""
    note: str = ""
    pruned: bool = False
    # Why the commit cannot be read ("" when it can): only the id of such a snapshot is known.
    damaged: str = ""
    # Why ``codexsnap check`` set it aside ("" when it did not), filled in like the marks,
    # and the files it found damaged (none: the whole snapshot is set aside).
    quarantined: str = ""
    damaged_files: tuple[str, ...] = ()

    @property
    def short_id(self) -> str:
        """The id as history prints it; any unique prefix of 4+ characters works too."""
        return self.id[:10]

    @property
    def operation(self) -> str:
        """Machine name of what made it: snapshot, drift, before-fix, after-rollback..."""
        return self.trailers.get("Operation", "snapshot")

    @property
    def automatic(self) -> bool:
        """Taken by ``codexsnap watch`` on its own, not asked for by a person or an operation."""
        return self.operation == "automatic"

    @property
    def origin(self) -> str:
        """``automatic`` (taken by ``codexsnap watch``) or ``manual`` (a person asked)."""
        return "automatic" if self.automatic else "manual"

    @property
    def recipe(self) -> str:
        return text_of(self.trailers, "Recipe")

    @property
    def options(self) -> tuple[str, ...]:
        """The recipe's switches (``--reset``, ``--clean``, ``--only-revoked``...)."""
        return list_of(self.trailers, "Options")

    @property
    def paths(self) -> tuple[str, ...]:
        """The ``--path`` arguments of a partial rollback."""
        return list_of(self.trailers, "Paths")

    @property
    def key(self) -> str:
        """The ``--key`` of a partial rollback."""
        return text_of(self.trailers, "Key")

    @property
    def before(self) -> str:
        """The "before" snapshot of the operation an ``after-*`` snapshot ends."""
        return text_of(self.trailers, "Before")

    @property
    def undoes(self) -> str:
        """For an undo: the ``after-*`` snapshot of the operation it reversed."""
        return text_of(self.trailers, "Undoes")

    @property
    def target(self) -> str:
        return text_of(self.trailers, "Target")

    @property
    def files_changed(self) -> int:
        """Files that differ from the parent snapshot."""
        return int(self.trailers.get("Files-Changed", "0"))

    @property
    def sqlite_files_changed(self) -> int | None:
        """Of those, the files of the SQLite home outside the Codex home (None: it held none)."""
        value = self.trailers.get("Sqlite-Files-Changed")
        return int(value) if value is not None and value.isdigit() else None


def commit_message(summary: str, note: str, trailers: dict[str, str]) -> str:
    """The message of a snapshot's commit: summary, the person's note, our trailers."""
    # A note line shaped like a trailer must stay part of the note.
    note = "\n".join(
        f"> {line}" if _TRAILER.match(line) else line for line in note.strip().splitlines()
    )
    body = f"{summary}\n\n" + (f"{note}\n\n" if note else "")
    return body + "".join(f"Codexsnap-{k}: {v}\n" for k, v in trailers.items())


def log(git: GitRepository, head: str, limit: int | None) -> list[Snapshot]:
    """The snapshots reachable from ``head``, newest first."""
    # One `git log` for the whole list: reading commits one by one
    # cost 0.3 s per 1,000 snapshots (docs/performance.md).
    args = ["log", "--format=%H%x00%P%x00%cI%x00%B%x1e"]
    if limit:
        args.append(f"-n{limit}")
    out = git.run(*args, head, "--")
    snapshots = []
    for record in out.split("\x1e"):
        record = record.strip("\n")
        if not record:
            continue
        commit_id, parents, date, message = record.split("\x00", 3)
        snapshots.append(
            snapshot_from_message(commit_id, parents.split(), datetime.fromisoformat(date), message)
        )
    return snapshots


def walk(git: GitRepository, head: str | None, listed: set[str]) -> list[Snapshot]:
    """Every snapshot of a home, newest first, read one commit at a time.

    The slow path, taken when ``git log`` fails: a commit that cannot be read is listed with
    ``damaged`` set, and the walk goes on from the snapshot refs (store/index.py) at the
    newest readable snapshot that nothing left names as its parent.
    """
    read: dict[str, Snapshot] = {}

    def snapshot(commit_id: str) -> Snapshot:
        if commit_id not in read:
            try:
                read[commit_id] = snapshot_from_commit(git.commit(commit_id))
            except (ValueError, StoreError):
                # cat-file says "missing" for a corrupt object too: the two look alike.
                why = "its commit object is missing or corrupt"
                read[commit_id] = Snapshot(commit_id, _UNKNOWN_DATE, "", "", {}, damaged=why)
        return read[commit_id]

    order: list[Snapshot] = []
    seen: set[str] = set()
    start = head if head is not None and _FULL_ID.match(head) else None
    while True:
        if start is None:
            left = [snapshot(i) for i in sorted(listed - seen)]
            if not left:
                break
            named = {s.parent for s in left}
            tips = [s for s in left if s.id not in named and not s.damaged]
            start = max(tips or left, key=lambda s: (not s.damaged, s.created_at)).id
        current: str | None = start
        start = None
        while current is not None and current not in seen:
            seen.add(current)
            found = snapshot(current)
            order.append(found)
            current = found.parent
    # A damaged snapshot has no date of its own: show it with its newer neighbour's.
    for at, found in enumerate(order):
        if found.damaged and at > 0:
            order[at] = found._replace(created_at=order[at - 1].created_at)
    return order


def resolve(
    git: GitRepository,
    home: Path,
    ids: list[str],
    damaged: dict[str, str],
    snapshot_id: str,
    aliases: dict[str, str],
    quarantined: dict[str, str],
) -> Snapshot:
    """Find this home's snapshot by a unique id prefix of 4 or more hex characters."""
    wanted = snapshot_id.strip().lower()
    if not _HEX_ID.match(wanted):
        raise SnapshotNotFoundError(
            f"{snapshot_id!r} is not a snapshot id (4 to 40 hex characters)",
            hint="Run 'codexsnap history' to see the ids.",
        )
    matches = [i for i in ids if i.startswith(wanted)]
    if not matches:
        # Snapshots rewritten by `prune --gc` keep answering to their old ids.
        matches = sorted({aliases[old] for old in aliases if old.startswith(wanted)} & set(ids))
    if not matches:
        raise SnapshotNotFoundError(
            f"no snapshot {snapshot_id} for the Codex home {home}",
            hint="Run 'codexsnap history' to see the ids.",
        )
    if len(matches) > 1:
        shown = []
        for candidate in matches[:5]:
            try:
                found = snapshot_from_commit(git.commit(candidate))
                when = found.created_at.astimezone().strftime("%Y-%m-%d %H:%M")
                shown.append(f"{candidate[:10]} ({when}, {found.summary})")
            except (ValueError, StoreError):
                shown.append(f"{candidate[:10]} (unreadable)")
        more = f" and {len(matches) - 5} more" if len(matches) > 5 else ""
        raise AmbiguousSnapshotIdError(
            f"the id {snapshot_id} matches {len(matches)} snapshots: {'; '.join(shown)}{more}",
            hint="Give more characters of the id.",
        )
    reason = quarantined.get(matches[0])
    if reason is not None:
        raise TamperedSnapshotError(
            f"snapshot {matches[0][:10]} is quarantined: {reason}",
            hint="Choose another snapshot; see 'codexsnap check'.",
        )
    if matches[0] in damaged:
        raise TamperedSnapshotError(
            f"snapshot {matches[0][:10]} in the store {git.root} cannot be read: "
            f"{damaged[matches[0]]}",
            hint="Choose another snapshot ('codexsnap history' marks the unreadable ones); "
            "'codexsnap check' reports the damage.",
        )
    return snapshot_from_commit(git.commit(matches[0]))


def snapshot_from_commit(commit: Commit) -> Snapshot:
    """A snapshot from a parsed commit object."""
    return snapshot_from_message(
        commit.hexsha, commit.parents, commit.committed_datetime, commit.message
    )


def snapshot_from_message(
    commit_id: str, parents: list[str], created_at: datetime, message: str
) -> Snapshot:
    """A snapshot from a commit's id, parents, date and message."""
    lines = message.strip().splitlines()
    trailers: dict[str, str] = {}
    body: list[str] = []
    for line in lines[1:]:
        # Most lines are trailers; the test on the prefix spares the others the pattern.
        found = _TRAILER.match(line) if line.startswith("Codexsnap-") else None
        if found:
            trailers[found[1]] = found[2]
        elif line.strip():
            body.append(line)
    return Snapshot(
        id=commit_id,
        created_at=created_at,
        summary=lines[0] if lines else "",
        message="\n".join(body),
        trailers=trailers,
        parent=parents[0] if parents else None,
    )
