"""codexsnap watch: an automatic snapshot whenever the Codex state changes.

The breakage people report most (projects and threads gone, the global state emptied) can
only be undone from a copy taken before it happened, so the watcher runs in the background
and snapshots the home after each burst of writes. It reads the home and never writes into
it (it does not even recover a killed run: that is a write), holds the store's lock only
while one snapshot is taken, and steps aside while a fix or rollback holds it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from stat import S_IMODE

from codexsnap.commands.retention import apply_retention, load_retention
from codexsnap.commands.snapshot import AUTOMATIC, take
from codexsnap.errors import CodexsnapError, LockHeldError
from codexsnap.file_events import Stopper, Watching, native_events, polling
from codexsnap.roots import SQLITE_PREFIX, walk_roots
from codexsnap.scope import Scope, load_scope
from codexsnap.store import Snapshot, SnapshotStore
from codexsnap.store.watcher import mark_running, mark_stopped
from codexsnap.transaction.recovery import pending

# How often the loop wakes with nothing to do: to notice the home vanish or be replaced.
# One stat per wake-up: no measurable CPU.
HEARTBEAT = 1.0
RETRY_BUSY = 1.0  # a fix or rollback holds the store: look again this soon
ERROR_PAUSE = 5.0  # a snapshot failed (a file vanished mid-read...): try again after this


@dataclass(frozen=True)
class WatchSettings:
    """Timing of the watcher; the defaults suit the desktop app's bursts of writes."""

    debounce: float = 5.0  # quiet seconds after the last change before a snapshot
    min_interval: float = 60.0  # at least this long between two automatic snapshots
    max_delay: float = 300.0  # a home that never goes quiet is still snapshotted this often
    poll: bool = False  # poll even where the OS gives file events

    @property
    def poll_interval(self) -> float:
        """Polling looks as often as the debounce waits: a change seen sooner waits anyway."""
        return max(self.debounce, 0.2)


@dataclass(frozen=True)
class WatchNews:
    """Something the watcher did or found, for the CLI to print."""

    kind: str  # started, snapshot, unchanged, busy, recovery-waiting, home-missing,
    # home-back, error, stopped
    snapshot: Snapshot | None = None
    pruned: int = 0
    detail: str = ""


class _Changes:
    """When the changes not yet snapshotted began and last happened (any thread marks)."""

    def __init__(self, wake: Stopper) -> None:
        self._lock = threading.Lock()
        self._wake = wake
        self.first: float | None = None
        self.last: float | None = None

    def mark(self, at: float | None = None) -> None:
        now = time.monotonic() if at is None else at
        with self._lock:
            self.first = now if self.first is None else min(self.first, now)
            self.last = now if self.last is None else max(self.last, now)
        self._wake.poke()

    def clear(self) -> None:
        with self._lock:
            self.first = self.last = None

    def due_in(self, settings: WatchSettings, since_snapshot: float) -> float | None:
        """Seconds until a snapshot is due (0: now), None when nothing changed."""
        with self._lock:
            if self.first is None or self.last is None:
                return None
            ready = min(self.last + settings.debounce, self.first + settings.max_delay)
        ready = max(ready, since_snapshot + settings.min_interval)
        return max(0.0, ready - time.monotonic())


def watch(
    home: Path,
    store_root: Path,
    sqlite_home: Path | None,
    settings: WatchSettings,
    stop: Stopper,
    tell: Callable[[WatchNews], None],
) -> None:
    """Snapshot ``home`` now and after every change, until ``stop`` is set."""
    scope = load_scope(store_root).with_sqlite_home(sqlite_home)
    load_retention(store_root)  # a bad retention.toml is an error now, not in a day
    SnapshotStore.open(store_root, create=True).close()  # a store that cannot be: fail now
    changes = _Changes(stop)
    changes.mark(0.0)  # the first snapshot, at start
    last_snapshot = -settings.min_interval
    source: Watching | None = None
    identity = _identity(home)
    said = ""  # the last repeated news told, so a long wait is told once
    started = datetime.now(UTC)
    try:
        while not stop.is_set():
            now_identity = _identity(home)
            if now_identity != identity or (source is None and now_identity is not None):
                if source is not None:
                    source.stop()
                    source = None
                if now_identity is not None:
                    source = _start(home, scope, settings, changes)
                    if identity is None and said == "home-missing":
                        tell(WatchNews("home-back", detail=str(home)))
                        said = ""
                    else:
                        tell(WatchNews("started", detail=source.mode))
                    mark_running(store_root, home, started, source.mode)
                    changes.mark()  # replaced or back: its state is new
                identity = now_identity
            if identity is None:
                if said != "home-missing":
                    said = "home-missing"
                    tell(WatchNews("home-missing", detail=str(home)))
                stop.sleep(min(HEARTBEAT, settings.poll_interval))
                continue
            due = changes.due_in(settings, last_snapshot)
            if due is None or due > 0:
                stop.sleep(HEARTBEAT if due is None else min(due, HEARTBEAT))
                continue
            changes.clear()  # changes made while we snapshot mark it again
            news = _attempt(home, store_root, sqlite_home)
            if news.kind in ("snapshot", "unchanged"):
                last_snapshot = time.monotonic()
                said = ""
                tell(news)
                continue
            pause = RETRY_BUSY
            if news.kind != "busy":  # no sooner than the next snapshot could be anyway
                pause = max(settings.debounce, min(ERROR_PAUSE, settings.min_interval))
            changes.mark(time.monotonic() + pause - settings.debounce)
            if news.kind + news.detail != said and not stop.is_set():
                said = news.kind + news.detail
                tell(news)
    finally:
        if source is not None:
            source.stop()
        mark_stopped(store_root, home)
    tell(WatchNews("stopped"))


def _attempt(home: Path, store_root: Path, sqlite_home: Path | None) -> WatchNews:
    """One automatic snapshot, and retention after it, with the store's lock held briefly."""
    if not home.is_dir():
        return WatchNews("home-missing", detail=str(home))
    try:
        with (
            SnapshotStore.open(store_root, create=True) as store,
            store.locked(brief=True),
        ):
            # Under the lock, a journal is a killed run's: snapshotting the half-written
            # home would record a state that never was, and undoing it writes the home.
            if pending(home, store_root):
                return WatchNews("recovery-waiting")
            done = take(store, home, sqlite_home, operation=AUTOMATIC)
            pruned = (
                apply_retention(store, home, load_retention(store_root)) if done.created else []
            )
    except LockHeldError:
        return WatchNews("busy")
    except CodexsnapError as exc:
        return WatchNews("error", detail=exc.message)
    except OSError as exc:  # a file or folder vanished under the scan
        return WatchNews("error", detail=str(exc.strerror or exc))
    return WatchNews("snapshot" if done.created else "unchanged", done.snapshot, len(pruned))


def _identity(home: Path) -> tuple[int, int] | None:
    try:
        st = home.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _start(home: Path, scope: Scope, settings: WatchSettings, changes: _Changes) -> Watching:
    """File events where the OS gives them, else polling the stat data of the scope."""
    roots = [home] + ([scope.sqlite_home] if scope.sqlite_home is not None else [])
    if not settings.poll:
        relevant = _relevance(home, scope)
        native = native_events(
            roots,
            lambda path, folder, kind: changes.mark() if relevant(path, folder, kind) else None,
        )
        if native is not None:
            return native
    return polling(lambda: _fingerprint(home, scope), settings.poll_interval, changes.mark)


def _relevance(home: Path, scope: Scope) -> Callable[[str, bool, str], bool]:
    """Whether a changed path is part of what a snapshot holds (sessions and logs are not)."""
    # Stat data of the files as last seen. An "attrib" or "modified" event that leaves it
    # alone is no change: SQLite, run as root, gives a -wal it opens (our own snapshot reads
    # the database through it) its database's owner again, and inotify reports that.
    seen: dict[str, tuple[int, ...]] = {}
    for relpath, *data in _fingerprint(home, scope):
        seen[str(_live(home, scope, relpath))] = tuple(data)

    def relevant(path: str, is_folder: bool, kind: str) -> bool:
        given = Path(path)
        if given == home:
            return True
        try:
            relpath = given.relative_to(home).as_posix()
        except ValueError:
            if scope.sqlite_home is None:
                return False
            try:
                relpath = SQLITE_PREFIX + given.relative_to(scope.sqlite_home).as_posix()
            except ValueError:
                return False
        # A database's new rows land in its -wal (out of scope itself), and the app saves
        # the global state by renaming a temporary file over it: the moved event names both.
        relpath = relpath.removesuffix("-wal")
        if is_folder:
            return scope.excluded_by(relpath + "/") is None and scope.includes(relpath)
        if not scope.includes(relpath):
            return False
        if kind in ("modified", "attrib"):
            try:
                st = os.stat(path)
            except OSError:
                return True
            now = (st.st_size, st.st_mtime_ns, st.st_ino, S_IMODE(st.st_mode))
            if seen.get(path) == now:
                return False
            seen[path] = now
        return True

    return relevant


def _live(home: Path, scope: Scope, relpath: str) -> Path:
    if relpath.startswith(SQLITE_PREFIX) and scope.sqlite_home is not None:
        return scope.sqlite_home / relpath[len(SQLITE_PREFIX) :]
    return home / relpath


def _fingerprint(home: Path, scope: Scope) -> tuple[tuple[str, int, int, int, int], ...]:
    """The stat data of every file in scope and of the databases' -wal files."""
    seen = []
    for entry in walk_roots(home, scope):
        seen.append((entry.relpath, entry.size, entry.mtime_ns, entry.inode, entry.mode))
        try:
            wal = Path(f"{entry.path}-wal").stat()
        except OSError:
            continue
        seen.append(
            (entry.relpath + "-wal", wal.st_size, wal.st_mtime_ns, wal.st_ino, S_IMODE(wal.st_mode))
        )
    return tuple(seen)
