"""What an interrupted write left in the home, as the one true sentence of the last line.

A user who pressed Ctrl-C acts on what the tool prints last. Only the transaction knows
which state it stopped in, so it says so: by raising ``RunInterrupted`` (a KeyboardInterrupt
that carries the outcome) or, once the change is committed, by recording that it was.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import NamedTuple

from codexsnap.errors import EXIT_INTERRUPTED, EXIT_OK

NOTHING_WRITTEN = "nothing-written"
PUT_BACK = "put-back"
APPLIED = "applied"
HALF_RECORDED = "half-recorded"
SNAPSHOT_TAKEN = "snapshot-taken"  # a plain snapshot, made before the interrupt


class Outcome(NamedTuple):
    """Where a run stood when it was interrupted (a named tuple: every command's error
    handler imports this module, history's too)."""

    state: str  # one of the four names above
    files: int = 0  # files put back
    snapshot: str = ""  # the "after" snapshot of an applied change (short id)
    undo: str = ""  # the command that undoes an applied change

    @property
    def exit_code(self) -> int:
        """A run that committed succeeded, whatever came after."""
        return EXIT_OK if self.state in (APPLIED, SNAPSHOT_TAKEN) else EXIT_INTERRUPTED

    def sentence(self) -> str:
        if self.state == APPLIED:
            return (
                f"Applied before the interrupt: snapshot {self.snapshot} holds the change; "
                f"undo it with: {self.undo}"
            )
        if self.state == SNAPSHOT_TAKEN:
            return (
                f"Interrupted after snapshot {self.snapshot} was taken; nothing in the Codex "
                "home was written."
            )
        if self.state == PUT_BACK:
            noun = "file" if self.files == 1 else "files"
            return f"Interrupted: {self.files} {noun} put back; the Codex home is as it was."
        if self.state == HALF_RECORDED:
            return (
                "Interrupted: half-recorded: run 'codexsnap recover' to put the written files back."
            )
        return "Interrupted: nothing written; the Codex home is as it was."


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGINT) during a write, with what the transaction did about it."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.sentence())
        self.outcome = outcome


# The change this process committed last: a Ctrl-C after the commit (while the report is
# printed) must not turn a done change into "interrupted".
_committed: list[Outcome] = []


def record_commit(home: Path, store_root: Path, snapshot_short_id: str) -> None:
    """Note that a change reached its "after" snapshot and its journal is gone."""
    undo = shlex.join(["codexsnap", "undo", "--codex-home", str(home), "--store", str(store_root)])
    _committed.append(Outcome(APPLIED, snapshot=snapshot_short_id, undo=undo))


def record_snapshot(snapshot_short_id: str) -> None:
    """Note that a plain snapshot was committed: a Ctrl-C after it names it, and exits 0."""
    _committed.append(Outcome(SNAPSHOT_TAKEN, snapshot=snapshot_short_id))


def forget_commits() -> None:
    """Start a new command: what an earlier command in this process committed is not ours."""
    _committed.clear()


def outcome_of(interrupt: BaseException) -> Outcome:
    """What the interrupt left: the transaction's word, else a commit, else nothing written."""
    if isinstance(interrupt, RunInterrupted):
        return interrupt.outcome
    if _committed:
        return _committed[-1]
    # Outside the write phase nothing in the home is written: scans, snapshots and the
    # journal live in the store.
    return Outcome(NOTHING_WRITTEN)
