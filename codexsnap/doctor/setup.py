"""Where and what: the Codex home in use, the snapshot store, Codex processes running."""

from __future__ import annotations

import os

from codexsnap.codex_files import HOME_MARKERS
from codexsnap.doctor.check import RECOVER, Check, Cure, interrupted_run
from codexsnap.doctor.context import DoctorContext
from codexsnap.errors import CodexsnapError
from codexsnap.redact import redact_text
from codexsnap.wording import plural


def check_home(ctx: DoctorContext) -> Check:
    """The home in use and how it was found; a folder without any Codex file is suspicious."""
    home = ctx.home
    found = [m for m in HOME_MARKERS if os.path.lexists(home.path / m)]
    where = f"{home.path} (from {home.source})"
    if not found:
        return Check(
            "codex-home",
            "warning",
            f"{where} holds none of {', '.join(HOME_MARKERS)}: is it the Codex home?",
            Cure.say("point --codex-home (or CODEX_HOME) at the folder that holds config.toml"),
        )
    return Check("codex-home", "ok", f"{where}: holds {', '.join(found)}")


def check_store(ctx: DoctorContext) -> Check:
    """The snapshot store opens and has a snapshot of this home; never creates it."""
    from codexsnap.store import SnapshotStore, store_state

    store_root = ctx.store_root
    try:
        # The store's own answer, as for snapshot: a folder holding only a scope.toml (or what
        # a killed creation left) is where the first snapshot will create the store.
        if store_state(store_root) in ("absent", "empty"):
            return Check(
                "store",
                "warning",
                f"no store yet at {store_root}: there is no snapshot to roll back to",
                Cure.run("snapshot"),
            )
        # Anything else in its place: open refuses it, saying why and what to do.
        with SnapshotStore.open(store_root, create=False) as store:
            snapshots = store.history(ctx.path, include_damaged=True)
            quarantined = store.quarantined()
    except CodexsnapError as error:
        hint = Cure.say(error.hint) if error.hint else None
        return Check("store", "problem", error.message, hint)
    except OSError as error:
        return Check("store", "problem", f"{store_root} cannot be read: {error.strerror}", None)
    # Damage is found by reading every commit of the chain (one git log); the blobs are
    # left to `codexsnap check`, which reads them all, and its quarantine is reported here.
    unreadable = [s.short_id for s in snapshots if s.damaged]
    set_aside = [s.short_id for s in snapshots if s.id in quarantined and quarantined[s.id].whole]
    # Per-file quarantine: those snapshots still restore their other files.
    partly = [s.short_id for s in snapshots if s.id in quarantined and not quarantined[s.id].whole]
    files = sorted({p for e in quarantined.values() for p in e.files})
    readable = [s for s in snapshots if not s.damaged]
    if unreadable or set_aside or partly:
        shown = ", ".join(unreadable[:5])
        parts = [f"{plural(len(unreadable), 'snapshot')} cannot be read ({shown})"]
        parts += [f"{len(set_aside)} quarantined ({', '.join(set_aside[:5])})"]
        parts += [
            f"{len(partly)} quarantined with damaged files ({', '.join(files[:5])}), their "
            "other files still restore"
        ]
        return Check(
            "store",
            "problem",
            f"{store_root} is damaged: "
            f"{'; '.join(p for p in parts if not p.startswith('0 '))}; "
            f"{plural(len(readable), 'readable snapshot')} still restore",
            Cure.run("check"),
        )
    if ctx.interrupted is not None:
        return Check(
            "store",
            "problem",
            f"{interrupted_run(ctx.interrupted)} was interrupted (its journal is still in "
            f"{store_root}): the home may hold part of its writes",
            RECOVER,
        )
    latest = readable[0] if readable else None
    if latest is None:
        return Check(
            "store",
            "warning",
            f"{store_root} holds no snapshot of this home",
            Cure.run("snapshot"),
        )
    return Check(
        "store",
        "ok",
        f"{store_root}: latest snapshot {latest.short_id} of "
        f"{latest.created_at:%Y-%m-%d %H:%M} ({redact_text(latest.summary)})",
    )


def check_processes(ctx: DoctorContext) -> Check:
    """Codex running: edits to its state would be undone when it quits (#23112, #23952)."""
    if not ctx.processes:
        return Check("codex-running", "ok", "no Codex desktop app or app server is running")
    listed = ", ".join(f"{p.kind} {p.name} (pid {p.pid})" for p in ctx.processes)
    return Check(
        "codex-running",
        "warning",
        f"running: {listed}; fixes refuse while it runs, it would undo them",
        Cure.say("quit Codex"),
    )
