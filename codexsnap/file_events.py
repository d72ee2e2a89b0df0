"""File events: the only module that imports watchdog, and the polling that stands in for it.

``codexsnap watch`` only needs to know *that* something in the home changed, and roughly
when: the paths are filtered by the caller and the snapshot itself finds what changed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import threading
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, Protocol, cast

# Reads fire these (our own snapshot opens every file it hashes, and SQLite opens a -wal
# for writing even to read it, so closing it fires "closed"): a write fires "modified".
_NOT_CHANGES = frozenset({"opened", "closed", "closed_no_write"})


class Watching(Protocol):
    """A running source of change notices."""

    mode: str  # "events" (the OS tells us) or "polling"

    def stop(self) -> None: ...


class _Native:
    mode = "events"

    def __init__(self, observer: Any) -> None:
        self._observer = observer

    def stop(self) -> None:
        self._observer.stop()
        self._observer.join(timeout=5)


def native_events(
    folders: list[Path], changed: Callable[[str, bool, str], None]
) -> Watching | None:
    """Watch ``folders`` recursively with the OS's own notices (inotify, FSEvents,
    ReadDirectoryChangesW); ``changed(path, is_folder, kind)`` runs on watchdog's thread, with
    ``kind`` one of created, deleted, modified, moved.

    None when no such notices can be had here (watchdog missing or falling back to its own
    polling, inotify's watch limit reached, a folder gone): the caller polls instead.
    """
    try:
        from watchdog.observers import Observer
        from watchdog.observers.polling import PollingObserver
    except ImportError:
        return None

    class Handler:
        # watchdog only calls dispatch(); not subclassing its handler keeps this module
        # type-checked where watchdog is missing (a checkout whose environment predates it).
        def dispatch(self, event: Any) -> None:
            if event.event_type in _NOT_CHANGES:
                return
            if event.is_directory and event.event_type == "modified":
                return  # a folder "changes" when a file in it does: that file's event says it
            for path in (event.src_path, getattr(event, "dest_path", "")):
                if path:
                    changed(os.fsdecode(path), event.is_directory, event.event_type)

    if Observer is PollingObserver:
        return None  # watchdog's polling stats the whole home, sessions and logs included
    # When a watched folder vanishes (the home moved aside, the app reinstalled), watchdog's
    # thread logs "queue_events() called when the thread is inactive" at error level, which
    # Python's last-resort handler prints to stderr. The watcher notices the vanished home
    # itself and says so in its own words, so watchdog's own log stays quiet.
    quiet = logging.getLogger("watchdog")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    observer = Observer()
    try:
        for folder in folders:
            observer.schedule(cast(Any, Handler()), str(folder), recursive=True)
        observer.start()
    except OSError:
        # ENOSPC from inotify_add_watch (fs.inotify.max_user_watches), a folder that
        # vanished between the check and the watch: polling still works.
        observer.stop()
        return None
    return _Native(observer)


class _Poller:
    mode = "polling"

    def __init__(
        self, fingerprint: Callable[[], Hashable], interval: float, changed: Callable[[], None]
    ) -> None:
        self._fingerprint = fingerprint
        self._interval = interval
        self._changed = changed
        self._stopped = threading.Event()
        self._last = fingerprint()
        self._thread = threading.Thread(target=self._run, name="codexsnap-poll", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                now = self._fingerprint()
            except Exception:
                # The home going away, a folder turned unreadable: the watcher's own checks
                # and the next snapshot report those; polling just goes on.
                now = None
            if now != self._last:
                self._last = now
                self._changed()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)


def polling(
    fingerprint: Callable[[], Hashable], interval: float, changed: Callable[[], None]
) -> Watching:
    """Call ``changed`` whenever ``fingerprint()`` (the stat data of the files in scope) moves,
    looking every ``interval`` seconds."""
    return _Poller(fingerprint, interval, changed)


class Stopper:
    """What stops the watcher: safe to set from a signal handler, and it wakes the loop.

    The loop sleeps in ``select`` on a socket pair (sockets, so that Windows can select on
    them too) rather than on a ``threading.Event``: setting an Event from a signal handler
    can deadlock on the Event's own lock, and a file event must wake the loop as well.
    """

    def __init__(self) -> None:
        self._stopped = False
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)

    def set(self) -> None:
        self._stopped = True
        self.poke()

    def is_set(self) -> bool:
        return self._stopped

    def poke(self) -> None:
        with contextlib.suppress(OSError):  # full or closed: the loop is awake anyway
            self._writer.send(b"\0")

    def sleep(self, seconds: float) -> None:
        """Until ``seconds`` pass, a change is marked or the watcher is stopped."""
        if self._stopped:
            return
        with contextlib.suppress(OSError, ValueError):
            select.select([self._reader], [], [], max(0.0, seconds))
        with contextlib.suppress(OSError):
            while self._reader.recv(4096):
                pass

    def close(self) -> None:
        self._reader.close()
        self._writer.close()
