"""Looking back through a home's snapshots for the last good copy of a file.

``newest_with_projects`` is the one answer to "the newest snapshot whose registry has
projects": ``restore-global-state``, ``project-registry`` and doctor ask it, and a caller
that must skip some snapshots (an automatic one taken after the registry was emptied)
passes its own ``accept``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from codexsnap.codex_files import GLOBAL_STATE, has_projects
from codexsnap.errors import CodexsnapError, StateFileInvalidError
from codexsnap.recipes import Candidate
from codexsnap.state_file import parse_state
from codexsnap.store import Snapshot, SnapshotStore

SEARCH_LIMIT = 200  # snapshots searched, newest first (automatic ones aside, below)
# `codexsnap watch` snapshots an emptied registry every time the app rewrites it: such
# snapshots must not push the last good one out of the search, so they count apart, up to
# this many (retention keeps some 1,500 at most at one a minute).
AUTOMATIC_LIMIT = 5000

Accept = Callable[[Snapshot], bool]


def label(snapshot: Snapshot) -> str:
    """A snapshot as a sentence names it: its short id and local time."""
    return f"{snapshot.short_id} of {snapshot.created_at.astimezone():%Y-%m-%d %H:%M}"


def stored_files(
    home: Path, store_root: Path, relpath: str, limit: int | None = None
) -> Iterator[tuple[Snapshot, bytes]]:
    """Each readable snapshot's copy of ``relpath``, newest first (damaged ones skipped).

    ``limit`` (default SEARCH_LIMIT) counts the snapshots not taken by ``codexsnap watch``;
    automatic ones count apart (AUTOMATIC_LIMIT), and one holding the same copy as a newer
    one already given is skipped, as its verdict would be the same.
    """
    if not SnapshotStore.exists(store_root):
        return
    left = {False: limit or SEARCH_LIMIT, True: AUTOMATIC_LIMIT}
    given: set[str] = set()
    with SnapshotStore.open(store_root, create=False) as store:
        for snapshot in store.history(home):
            left[snapshot.automatic] -= 1
            if left[False] < 0 or left[True] < 0:
                return
            try:
                record = store.records(snapshot).get(relpath)
                if record is None or (snapshot.automatic and record.blob in given):
                    continue
                data = store.read_blob(record.blob)
            except CodexsnapError:
                continue  # a damaged snapshot is no candidate; older ones may be
            given.add(record.blob)
            yield snapshot, data


def global_states(
    home: Path, store_root: Path, accept: Accept | None = None
) -> Iterator[tuple[Snapshot, bytes, dict[str, Any]]]:
    """Each snapshot's global state that parses, newest first."""
    for snapshot, data in stored_files(home, store_root, GLOBAL_STATE):
        if accept is not None and not accept(snapshot):
            continue
        try:
            _, parsed = parse_state(GLOBAL_STATE, data)
        except StateFileInvalidError:
            continue
        yield snapshot, data, parsed


def newest_with_projects(
    home: Path, store_root: Path, accept: Accept | None = None
) -> Candidate | None:
    """The newest snapshot whose global state parses and lists projects."""
    for snapshot, data, parsed in global_states(home, store_root, accept):
        if has_projects(parsed):
            return Candidate(snapshot.id, label(snapshot), data)
    return None


def restore_candidates(
    home: Path, store_root: Path, accept: Accept | None = None
) -> tuple[Candidate | None, Candidate | None]:
    """(the newest good global state, else the newest that parses; the newest with projects)."""
    fallback: Candidate | None = None
    for snapshot, data, parsed in global_states(home, store_root, accept):
        found = Candidate(snapshot.id, label(snapshot), data)
        if has_projects(parsed):
            return found, found
        fallback = fallback or found
    return fallback, None
