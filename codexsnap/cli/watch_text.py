"""What watch, protect, unprotect and protect --status print, as plain text."""

from __future__ import annotations

from datetime import datetime

from codexsnap.commands.protect import Protection, ProtectionStatus
from codexsnap.commands.watch import WatchNews
from codexsnap.wording import plural

_SAID = {
    "busy": "the store is busy (a fix, rollback or other command): waiting for it",
    "recovery-waiting": "an interrupted fix or rollback waits to be undone: run "
    "'codexsnap recover'; no snapshot until then",
    "home-missing": "the Codex home {detail} is gone: waiting for it to come back",
    "home-back": "the Codex home {detail} is back",
    "error": "no snapshot this time: {detail}; trying again",
    "stopped": "stopped",
}


def watch_line(news: WatchNews) -> str:
    """One line per event, stamped with the local time (a service log keeps them)."""
    stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S")
    if news.kind == "started":
        how = "file events" if news.detail == "events" else "polling every few seconds"
        line = f"watching the Codex home ({how}); stop with Ctrl-C"
    elif news.kind in ("snapshot", "unchanged") and news.snapshot is not None:
        snap = news.snapshot
        if news.kind == "snapshot":
            line = f"snapshot {snap.short_id}: {plural(snap.files_changed, 'file')} changed"
        else:
            line = f"no change since {snap.short_id}"
        if news.pruned:
            line += f"; retention pruned {plural(news.pruned, 'old automatic snapshot')}"
    else:
        line = _SAID.get(news.kind, news.kind).format(detail=news.detail)
    return f"{stamp} {line}"


def protect_text(done: Protection) -> list[str]:
    job = done.job
    if done.dry_run:
        lines = [f"Would write {job.path}:" if done.changed else f"{job.path} is up to date:"]
        lines += [
            "",
            *job.content.decode("utf-16" if job.platform == "windows" else "utf-8").splitlines(),
            "",
        ]
        lines += ["Then, where a service manager runs for you:"]
        lines += [f"  {' '.join(args)}" for args in job.enable]
        return lines
    lines = [f"Wrote {job.path}." if done.changed else f"{job.path} was already there."]
    if done.manager:
        lines += [f"Ran: {' '.join(r.args)}" for r in done.ran]
        lines.append(f"Protection is on: {job.name} starts 'codexsnap watch' at every login.")
    else:
        lines.append(
            f"No service manager runs for you here ({' '.join(job.probe)} failed), so the job "
            "is NOT running: run 'codexsnap watch' yourself, or start it with:"
        )
        lines += [f"  {' '.join(args)}" for args in job.enable]
    return lines


def unprotect_text(done: Protection) -> list[str]:
    job = done.job
    if not done.changed:
        return [f"Nothing to remove: {job.path} is not there."]
    if done.dry_run:
        return [f"Would stop {job.name} and remove {job.path}."]
    lines = [f"Ran: {' '.join(r.args)}" for r in done.ran]
    return [*lines, f"Removed {job.path}. Protection is off; your snapshots stay."]


def status_text(status: ProtectionStatus) -> list[str]:
    job = status.job
    if not status.installed:
        lines = ["Protection: not installed ('codexsnap protect' installs it)."]
    else:
        state = {True: "running", False: "not running", None: "unknown (no service manager)"}
        lines = [f"Protection: installed ({job.path}), {state[status.running]}."]
        if not status.current:
            lines.append("  Its file differs from what protect writes now: run protect again.")
    watcher = status.watcher
    if watcher is not None and watcher.alive:
        lines.append(f"Watcher: running (pid {watcher.pid}, since {_when(watcher.started_at)}).")
    else:
        lines.append("Watcher: not running for this home.")
    last = status.last_automatic
    lines.append(
        f"Last automatic snapshot: {last.short_id} at {_when(last.created_at)}."
        if last is not None
        else "Last automatic snapshot: none yet."
    )
    return lines


def _when(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")
