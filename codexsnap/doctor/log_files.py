"""The logs Codex writes into the home: they grow without bound."""

from __future__ import annotations

import shlex

from codexsnap.codex_files import LOG_DATABASE_PREFIX, TUI_LOG
from codexsnap.doctor.check import Check, Cure, human_size, shown_path, stat_size
from codexsnap.doctor.context import DoctorContext
from codexsnap.sqlite_copy import sidecars

BIG_LOG = 1 << 30  # 3 GB and 50 GB reported (#11136, #13463); hundreds of MB (#29798)


def check_log_sizes(ctx: DoctorContext) -> Check:
    """The CLI log and the app server's log database grow without bound (#11136, #29798)."""
    home = ctx.path
    tui = home / TUI_LOG
    parts = [(TUI_LOG, stat_size(tui), f"empty it: : > {shlex.quote(str(tui))}")]
    # Every layout's log database: the CLI's and the app's each grow (#29798).
    for db in ctx.databases:
        if db.name.startswith(LOG_DATABASE_PREFIX) and db.suffix == ".sqlite":
            total = sum(stat_size(p) for p in (db, *sidecars(db)))
            shown = shown_path(home, db)
            parts.append((shown, total, f"move {shown} and its -wal/-shm aside"))
    present = [(n, s, c) for n, s, c in parts if s]
    big = [(n, s, c) for n, s, c in present if s > BIG_LOG]
    if not big:
        listed = ", ".join(f"{n} {human_size(s)}" for n, s, _ in present) or "no log file"
        return Check("log-size", "ok", listed)
    return Check(
        "log-size",
        "warning",
        "; ".join(f"{n} is {human_size(s)}" for n, s, _ in big),
        Cure.say("; ".join(c for _, _, c in big)).after_quit(),
    )
