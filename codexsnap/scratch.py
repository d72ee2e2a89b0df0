"""Private scratch folders for temporary copies (of SQLite databases above all) in the store.

A killed run cannot clean up after itself: a copy in the system temp folder would stay
there, a full copy of the user's threads readable by whoever finds it. Inside the store's
own ``tmp/`` (owner-only) it is private, and the next run that takes the store lock clears
what dead runs left (``clear_dead``). Each folder's name starts with its process id, so a
run clearing under the lock never removes the folder of a live reader (``diff`` scans
without the lock).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_STORE_TMP: list[Path] = []


def use_store(store_root: Path) -> None:
    """Put this process's scratch folders in the store at ``store_root`` (once it exists)."""
    _STORE_TMP[:] = [store_root / "tmp"]


def _base() -> str | None:
    # Only a tmp/ the store made: creating one would turn a folder that is no store yet
    # (or not ours) into a non-empty one. Before the store exists (a doctor run on a home
    # never snapshotted), the system's temp folder is all there is.
    if _STORE_TMP and _STORE_TMP[0].is_dir():
        return str(_STORE_TMP[0])
    return None


@contextmanager
def scratch_folder(prefix: str = "codexsnap-") -> Iterator[Path]:
    """A new private folder, removed when done."""
    folder = make_scratch_folder(prefix)
    try:
        yield folder
    finally:
        remove_scratch_folder(folder)


_TIMES: dict[Path, tuple[int, int]] = {}


def make_scratch_folder(prefix: str = "codexsnap-") -> Path:
    """A new private folder the caller removes with ``remove_scratch_folder``."""
    import tempfile  # not on the read path's start-up

    base = _base()
    if base is not None:
        st = os.stat(base)
        _TIMES[Path(base)] = (st.st_atime_ns, st.st_mtime_ns)
    return Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-{prefix}", dir=base))


def remove_scratch_folder(folder: Path) -> None:
    """Remove a scratch folder; a read-only command (a dry run) leaves tmp/ as it found it."""
    remove_tree(folder)
    times = _TIMES.get(folder.parent)
    if times is not None and not any(folder.parent.iterdir()):
        with contextlib.suppress(OSError):
            os.utime(folder.parent, ns=times)


def remove_tree(folder: Path) -> None:
    """Remove a folder and all it holds, whatever is already gone."""
    import shutil  # with tempfile above: not loaded by the commands that only read

    shutil.rmtree(folder, ignore_errors=True)


def clear_dead(folder: Path) -> None:
    """Remove what runs that are no longer alive left in ``folder`` (store locked)."""
    try:
        entries = list(folder.iterdir())
    except OSError:
        return
    for entry in entries:
        owner = entry.name.split("-", 1)[0]
        if owner.isdigit() and _alive(int(owner)):
            continue
        if entry.is_dir() and not entry.is_symlink():
            remove_tree(entry)
        else:
            entry.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    import psutil  # os.kill(pid, 0) would end the process on Windows

    return pid == os.getpid() or bool(psutil.pid_exists(pid))
