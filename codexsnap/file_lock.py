"""One mutating operation at a time per store; a killed holder never leaves it stuck."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from codexsnap.errors import LockHeldError


@contextmanager
def store_lock(lock_path: Path) -> Iterator[None]:
    """Hold the store's lock, or fail at once when another codexsnap holds it."""
    import filelock

    # An OS-level lock (flock / LockFileEx): the kernel drops it when the holder dies,
    # so a SIGKILLed codexsnap cannot block the next run.
    lock = filelock.FileLock(str(lock_path), mode=0o600)
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        raise LockHeldError(
            f"another codexsnap operation is running on the store ({lock_path})",
            hint="Wait for it to finish, then try again.",
        ) from None
    try:
        yield
    finally:
        lock.release()
