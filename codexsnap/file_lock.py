"""One mutating operation at a time per store; a killed holder never leaves it stuck."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from codexsnap.errors import LockHeldError, StoreError

# How long a command waits for the lock while `codexsnap watch` holds it for one snapshot
# (a second at most on a large home): long enough for a slow disk, short enough to notice
# a watcher that hangs.
BRIEF_WAIT = 30.0
_BRIEF = ".brief-"


@contextmanager
def store_lock(lock_path: Path, *, brief: bool = False) -> Iterator[None]:
    """Hold the store's lock, or fail at once when another codexsnap holds it.

    ``brief``: the holder is ``codexsnap watch`` taking one automatic snapshot. It says so
    in a marker beside the lock, and a command that finds the lock held by such a holder
    waits for it instead of failing: the watcher must never make a fix or rollback fail.
    """
    # An OS-level lock (flock / LockFileEx): the kernel drops it when the holder dies,
    # so a SIGKILLed codexsnap cannot block the next run.
    lock = _os_lock(lock_path)
    marker = lock_path.with_name(f"{lock_path.name}{_BRIEF}{os.getpid()}")
    owner = lock_path.with_name(f"{lock_path.name}.pid")
    if brief:
        # Written before the lock is tried, so nobody sees the lock held by us unmarked.
        marker.write_bytes(b"")
    try:
        try:
            _acquire(lock, lock_path, brief)
        except OSError as exc:  # a read-only store with no lock file yet, or another owner's
            raise StoreError(
                f"the store {lock_path.parent} cannot be locked ({exc.strerror or exc}): it "
                "is read-only or not yours; nothing was changed",
                hint="Make it writable again (chmod -R u+w), or give another store with --store.",
            ) from None
        try:
            # Beside the lock, not in it: every process that tries the lock opens its file,
            # so only the holder's own note can name it.
            with contextlib.suppress(OSError):
                owner.write_text(f"{os.getpid()}\n")
                owner.chmod(0o600)
            yield
        finally:
            with contextlib.suppress(OSError, ValueError):
                if int(owner.read_text().strip()) == os.getpid():
                    owner.unlink()
            lock.release()
    finally:
        if brief:
            with contextlib.suppress(OSError):
                marker.unlink()


class _Held(Exception):
    """The lock is held by another process (after waiting as long as asked)."""


class _FlockLock:
    """flock(2) on POSIX: what filelock's UnixFileLock does, without its import.

    filelock 4 loads logging, decimal, secrets and its async machinery when imported: 30 ms
    and more of every command that locks the store, a no-change snapshot's fifth. Both take
    the same flock, so a filelock holder (the tests use one) excludes us and we exclude it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def acquire(self, timeout: float, poll_interval: float = 0.05) -> None:
        import fcntl  # POSIX only: this class is only built there

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.fd = fd
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise _Held from None
                time.sleep(poll_interval)
            except BaseException:
                os.close(fd)
                raise

    def release(self) -> None:
        if self.fd is not None:
            fd, self.fd = self.fd, None
            os.close(fd)  # closing the only descriptor drops the flock


class _WindowsLock:
    """LockFileEx through filelock on Windows, where it is imported (and only there)."""

    def __init__(self, path: Path) -> None:
        import filelock

        self._timeout = filelock.Timeout
        self._lock = filelock.FileLock(str(path), mode=0o600)

    def acquire(self, timeout: float, poll_interval: float = 0.05) -> None:
        try:
            self._lock.acquire(timeout=timeout, poll_interval=poll_interval)
        except self._timeout:
            raise _Held from None

    def release(self) -> None:
        self._lock.release()


def _os_lock(path: Path) -> _FlockLock | _WindowsLock:
    return _WindowsLock(path) if sys.platform == "win32" else _FlockLock(path)


def _acquire(lock: _FlockLock | _WindowsLock, lock_path: Path, brief: bool) -> None:
    """Take the lock at once; wait only for a watcher's snapshot."""
    for _ in range(3):
        try:
            lock.acquire(timeout=0)
            return
        except _Held:
            if brief:
                raise _held(lock_path) from None
        # The watcher lets go and takes the lock again every few seconds: seen between its
        # release and the removal of its marker, the lock is free on the next try.
        if _brief_holder(lock_path):
            try:
                lock.acquire(timeout=BRIEF_WAIT, poll_interval=0.05)
                return
            except _Held:
                raise _held(lock_path) from None
        time.sleep(0.01)
    raise _held(lock_path)


def _held(lock_path: Path) -> LockHeldError:
    holder = _holder(lock_path.with_name(f"{lock_path.name}.pid"))
    return LockHeldError(
        "another codexsnap operation is running on the store "
        f"({lock_path}{f', pid {holder}' if holder else ''})",
        hint="Wait for it to finish, then try again.",
    )


def _holder(owner: Path) -> int | None:
    """The pid the holder wrote, if that process still runs (else the note is stale)."""
    import psutil

    try:
        pid = int(owner.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if psutil.pid_exists(pid) else None


def _brief_holder(lock_path: Path) -> bool:
    """True when a live ``codexsnap watch`` marked the lock as held for one snapshot."""
    import psutil

    for marker in lock_path.parent.glob(f"{lock_path.name}{_BRIEF}*"):
        pid = marker.name.rsplit("-", 1)[1]
        if pid.isdigit() and psutil.pid_exists(int(pid)):
            return True
    return False
