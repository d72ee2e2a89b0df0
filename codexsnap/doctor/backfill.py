"""The thread-search backfill of the state database, left 'running' by a Codex that died.

Codex waits for a running backfill on every start, then times out after 30 seconds: an
orphaned ``backfill_state.status = 'running'`` makes every start slow or fail (openai/codex
#41614). Setting it to ``complete`` by hand leaves the search index half-built; the cure is
a copy of the database from before it stalled. Read-only, like every check.
"""

from __future__ import annotations

import time

from codexsnap.doctor.check import Check, Cure, shown_path
from codexsnap.doctor.context import DoctorContext
from codexsnap.doctor.databases import quarantine_name


def check_backfill(ctx: DoctorContext) -> Check:
    """A backfill 'running' while no Codex process is alive explains a 30 s start timeout."""
    name = "backfill"
    state = ctx.state
    database = shown_path(ctx.path, state.path)
    if state.error is not None:
        return Check.skipped(
            name, f"{database} cannot be read: {state.error}", f"cure {database} first"
        )
    if state.backfill is None:
        return Check(name, "ok", f"no backfill state in {database}")
    status, updated = state.backfill
    when = (
        ""
        if updated is None
        else f", last updated {time.strftime('%Y-%m-%d %H:%M', time.localtime(updated))}"
    )
    if status != "running":
        return Check(name, "ok", f"backfill {status}{when}")
    if ctx.processes:
        return Check(name, "ok", f"backfill running{when}, and Codex is running")
    advice = (
        "never set backfill_state.status to 'complete' by hand (#41614): the search index "
        "stays half-built; put back a copy of the database from before it stalled:"
    )
    target = quarantine_name(ctx, state.path)
    cure = (
        Cure.say(advice + " roll back to a snapshot from before ('codexsnap history')")
        if target is None
        else Cure("quarantine-db", (target, "--from", "snapshot"), advice=advice)
    )
    return Check(
        name,
        "problem",
        f"{database}: backfill_state says 'running'{when} but no Codex process is alive: "
        "every start waits 30 s for it and times out (#41614)",
        cure,
    )
