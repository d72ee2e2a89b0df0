"""This computer as a remote-control host, from the app server's own lines in logs_2.sqlite."""

from __future__ import annotations

import dataclasses

from codexsnap.doctor.check import Check, Cure
from codexsnap.doctor.context import DoctorContext
from codexsnap.wording import plural


def check_host_enrollment(ctx: DoctorContext) -> Check:
    """The host's enrollment never completed: pairing is refused (#46091, #44333)."""
    name = "remote-control-enrollment"
    log = ctx.app_server_log
    if not log.read:
        return _skipped(name, ctx)
    stuck = log.seen("enrollment-incomplete")
    if stuck is not None:
        return Check(
            name,
            "warning",
            f"the app server refused pairing: 'remote control pairing is unavailable until "
            f"enrollment completes' ({plural(stuck.count, 'line')} in {log.database.name}, latest "
            f"{stuck.when})" + _partial(ctx),
            Cure.say(
                "no local cure known: the server never completed this computer's enrollment; "
                "sign out and in again, turn Settings → Connections → Control this Mac/PC off "
                "and on, and follow https://github.com/openai/codex/issues/46091"
            ),
        )
    none = log.seen("no-enrollment")
    if none is not None:
        return Check(
            name,
            "ok",
            f"the app server holds no enrollment ('no persisted remote control enrollment "
            f"found', latest {none.when}): it enrolls when Control this Mac/PC is turned on"
            + _partial(ctx),
        )
    return Check(name, "ok", f"no enrollment refusal in {log.database.name}" + _partial(ctx))


def check_already_online(ctx: DoctorContext) -> Check:
    """'409 Remote app server already online': another machine uses this identity (#39959)."""
    name = "remote-control-409"
    log = ctx.app_server_log
    if not log.read:
        return _skipped(name, ctx)
    seen = log.seen("already-online")
    if seen is None:
        return Check(name, "ok", f"no '409 already online' in {log.database.name}" + _partial(ctx))
    return Check(
        name,
        "warning",
        "the server answered '409 Remote app server already online' "
        f"({plural(seen.count, 'line')} in {log.database.name}, latest {seen.when}): another "
        "computer may use this one's installation_id (a clone or a restored copy, #22950, "
        "#28862, #39959)" + _partial(ctx),
        dataclasses.replace(
            Cure.fix("new-installation-id"),
            advice="if this home was copied from another computer (or the other was from it):",
        ).after_quit(bool(ctx.processes)),
    )


def _skipped(name: str, ctx: DoctorContext) -> Check:
    log = ctx.app_server_log
    if log.database.exists():
        to_run = f"run it again once {log.database.name} can be read (see its sqlite: check)"
    else:  # no app server ran with this SQLite home, or it lives elsewhere
        to_run = f"give the folder of the app server's {log.database.name} with --codex-sqlite-home"
    return Check.skipped(name, log.error or "", to_run)


def _partial(ctx: DoctorContext) -> str:
    if not ctx.app_server_log.partial:
        return ""
    return " (its -wal was not read: the newest lines may be missing)"
