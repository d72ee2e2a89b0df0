"""codexsnap protect / unprotect: ``codexsnap watch`` as a per-user job started at login.

One file per home (a systemd user unit, a LaunchAgent plist, a Task Scheduler definition),
then the service manager's own commands where one runs for this user. Where none does (a
container, WSL without systemd, a login over ssh) the file is still written and the result
says so: nothing pretends the job runs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from codexsnap.atomic_io import atomic_write
from codexsnap.errors import ServiceJobError
from codexsnap.home import JobPlaces, job_places, this_platform
from codexsnap.service_jobs import Job, build_job, watch_command
from codexsnap.store import Snapshot, SnapshotStore
from codexsnap.store.watcher import WatcherState, watcher_of

# Runs a service manager's command: (exit code, what it printed). A parameter so that
# tests never reach the real systemctl, launchctl or schtasks.
Runner = Callable[[Sequence[str]], tuple[int, str]]
_MARK = b"codexsnap"  # every file protect writes names it; unprotect removes no other


@dataclass(frozen=True)
class Ran:
    """One service-manager command and its answer."""

    args: tuple[str, ...]
    code: int
    output: str


@dataclass(frozen=True)
class Protection:
    """What protect or unprotect did (or, dry, would do)."""

    job: Job
    dry_run: bool
    changed: bool  # the file was (or would be) written or removed
    manager: bool  # a service manager runs for this user (not asked on a dry run)
    ran: tuple[Ran, ...] = ()


@dataclass(frozen=True)
class ProtectionStatus:
    """Is the home protected: the job's file, the job, the watcher, its last snapshot."""

    job: Job
    installed: bool
    current: bool  # the file is what protect would write now
    running: bool | None  # what the service manager says; None: none answered
    watcher: WatcherState | None
    last_automatic: Snapshot | None


def run_tool(args: Sequence[str]) -> tuple[int, str]:
    """Run a service manager's command found on PATH, within 30 seconds."""
    found = shutil.which(args[0])
    if found is None:
        return 127, f"{args[0]}: not found"
    try:
        done = subprocess.run(
            [found, *args[1:]],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=30,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 126, str(exc)
    return done.returncode, (done.stdout + done.stderr).strip()


def installed_codexsnap(platform: str) -> list[str]:
    """This codexsnap, absolute: its console script beside the interpreter (pipx, uv, a
    virtualenv), else the interpreter running the package."""
    folder = Path(sys.executable).parent
    script = folder / ("codexsnap.exe" if platform == "windows" else "codexsnap")
    if script.is_file():
        return [str(script)]
    return [str(Path(sys.executable).absolute()), "-m", "codexsnap"]


def protect(
    home: Path,
    store_root: Path,
    sqlite_home: Path | None,
    *,
    dry_run: bool,
    platform: str | None = None,
    places: JobPlaces | None = None,
    run: Runner = run_tool,
) -> Protection:
    """Write the job that runs ``codexsnap watch`` on this home from login, and start it."""
    platform = platform or this_platform()
    job = _watch_job(platform, home, store_root, sqlite_home, places)
    changed = _read(job.path) != job.content
    if dry_run:
        return Protection(job, True, changed, False)
    # The store first: a job whose store cannot be created would only restart and fail.
    SnapshotStore.open(store_root, create=True).close()
    try:
        job.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(job.path, job.content, mode=0o644)
    except OSError as exc:
        raise ServiceJobError(
            f"cannot write {job.path}: {exc.strerror or exc}",
            hint="Check that folder's permissions, or run 'codexsnap watch' yourself.",
        ) from None
    manager = run(job.probe)[0] == 0
    ran: list[Ran] = []
    for args in job.enable if manager else ():
        code, output = run(args)
        ran.append(Ran(args, code, output))
        if code != 0:
            raise ServiceJobError(
                f"{' '.join(args)} failed (exit {code}): {_last_line(output)}; {job.path} "
                "is written",
                hint="Fix what it says and run 'codexsnap protect' again, or remove the "
                "job with 'codexsnap unprotect'.",
            )
    return Protection(job, False, changed, manager, tuple(ran))


def unprotect(
    home: Path,
    *,
    dry_run: bool,
    platform: str | None = None,
    places: JobPlaces | None = None,
    run: Runner = run_tool,
) -> Protection:
    """Stop the home's job and remove the one file protect wrote for it."""
    job = build_job(platform or this_platform(), home, ["codexsnap"], places or job_places())
    content = _read(job.path)
    if content is not None and _MARK not in content and _MARK not in _utf16(content):
        raise ServiceJobError(
            f"{job.path} was not written by codexsnap protect: left alone",
            hint="Remove it yourself if you no longer want it.",
        )
    if dry_run or content is None:
        return Protection(job, dry_run, content is not None, False)
    manager = run(job.probe)[0] == 0
    # Stopping a job the manager does not know (never started, already stopped) fails
    # harmlessly: the file goes either way.
    ran = [Ran(args, *run(args)) for args in (job.disable if manager else ())]
    try:
        job.path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise ServiceJobError(
            f"cannot remove {job.path}: {exc.strerror or exc}", hint="Remove it yourself."
        ) from None
    if manager and job.platform == "linux":
        ran.append(Ran(job.enable[0], *run(job.enable[0])))  # daemon-reload forgets the unit
    return Protection(job, False, True, manager, tuple(ran))


def protection_status(
    home: Path,
    store_root: Path,
    sqlite_home: Path | None,
    *,
    platform: str | None = None,
    places: JobPlaces | None = None,
    run: Runner = run_tool,
) -> ProtectionStatus:
    """Whether the job is installed and running, and when the watcher last snapshotted."""
    platform = platform or this_platform()
    job = _watch_job(platform, home, store_root, sqlite_home, places)
    content = _read(job.path)
    running: bool | None = None
    if content is not None and run(job.probe)[0] == 0:
        code, output = run(job.status)
        running = _says_running(platform, code, output)
    return ProtectionStatus(
        job,
        content is not None,
        content == job.content,
        running,
        watcher_of(store_root, home) if SnapshotStore.exists(store_root) else None,
        last_automatic(home, store_root),
    )


def last_automatic(home: Path, store_root: Path) -> Snapshot | None:
    """The newest snapshot ``codexsnap watch`` took of this home."""
    if not SnapshotStore.exists(store_root):
        return None
    with SnapshotStore.open(store_root, create=False) as store:
        return next((s for s in store.history(home) if s.automatic), None)


def _says_running(platform: str, code: int, output: str) -> bool:
    if platform == "linux":
        return code == 0 and output.strip().splitlines()[:1] == ["active"]
    if platform == "macos":
        return code == 0 and "state = running" in output
    return code == 0 and "Running" in output


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _utf16(content: bytes) -> bytes:
    try:
        return content.decode("utf-16").encode()
    except UnicodeDecodeError:
        return b""


def _last_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def _watch_job(
    platform: str, home: Path, store_root: Path, sqlite_home: Path | None, places: JobPlaces | None
) -> Job:
    """The job file that runs this installed codexsnap's watch on this home and store."""
    argv = watch_command(installed_codexsnap(platform), home, store_root, sqlite_home)
    return build_job(platform, home, argv, places or job_places())
