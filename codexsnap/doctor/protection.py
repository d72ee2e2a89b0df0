"""Is this home protected: a background ``codexsnap watch`` taking snapshots before a break."""

from __future__ import annotations

from codexsnap.doctor.check import Check, Cure
from codexsnap.doctor.context import DoctorContext
from codexsnap.errors import CodexsnapError
from codexsnap.home import job_places
from codexsnap.service_jobs import installed_job


def check_protection(ctx: DoctorContext) -> Check:
    """Whether protect installed the watcher's job or a watcher runs, and its last snapshot.

    Reads files only: asking systemctl or launchctl would make doctor slow, and a job that
    is installed but not running shows as a watcher that does not run.
    """
    from codexsnap.store import SnapshotStore
    from codexsnap.store.watcher import watcher_of

    platform = {"darwin": "macos", "win32": "windows"}.get(ctx.platform, "linux")
    job = installed_job(ctx.path, platform, job_places())
    watcher = None
    last = None
    try:
        if SnapshotStore.exists(ctx.store_root):
            watcher = watcher_of(ctx.store_root, ctx.path)
            with SnapshotStore.open(ctx.store_root, create=False) as store:
                last = next((s for s in store.history(ctx.path) if s.automatic), None)
    except CodexsnapError:
        pass  # the store check reports a store that cannot be read
    running = watcher is not None and watcher.alive
    parts = [f"on ({job.path})" if job is not None else "off (no background job installed)"]
    if running:
        assert watcher is not None
        parts.append(f"a watcher runs (pid {watcher.pid})")
    elif job is not None:
        parts.append("but no watcher runs now")
    when = last.created_at.astimezone().strftime("%Y-%m-%d %H:%M") if last is not None else ""
    parts.append(
        f"last automatic snapshot {last.short_id} at {when}"
        if last is not None
        else "no automatic snapshot yet"
    )
    evidence = "protection " + ", ".join(parts)
    if job is None and not running:
        return Check("protection", "ok", evidence, Cure.run("protect"))
    return Check("protection", "ok", evidence)
