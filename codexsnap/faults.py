"""Deterministic fault points, so tests can kill or fail codexsnap at an exact step.

Inert unless ``CODEXSNAP_TEST_FAULT`` is set: ``kill:<point>`` sends SIGKILL to this process,
``enospc:<point>`` raises "No space left on device", ``eacces:<point>`` a permission error.

``CODEXSNAP_TEST_RACE`` plays another program changing the home while it is scanned:
``flip:<name>`` turns the file (or folder) named ``<name>`` into a folder (or a file) just
after the walk looked at it, ``vanish:<name>`` removes it there (see ``race_point``).
"""

from __future__ import annotations

import errno
import os
import signal
from pathlib import Path

# Read once: race_point runs for every entry of a walk, and tests set it per process.
_RACE = os.environ.get("CODEXSNAP_TEST_RACE", "")
_raced: set[Path] = set()


def fault_point(name: str) -> None:
    """Act on the fault named for this point, if any."""
    spec = os.environ.get("CODEXSNAP_TEST_FAULT")
    if not spec:
        return
    action, _, point = spec.partition(":")
    if point != name:
        return
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "enospc":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    elif action == "eacces":
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))


def race_point(where: str) -> None:
    """Between a walk's look at ``where`` and its read: change it as CODEXSNAP_TEST_RACE says.

    Once per path and process, so a second walk of the same run sees the changed home. Takes
    the walk's string: a Path built per entry, only to be ignored, cost a fifth of a
    no-change scan.
    """
    if not _RACE:
        return
    path = Path(where)
    action, _, name = _RACE.partition(":")
    if path.name != name or path in _raced:
        return
    _raced.add(path)
    folder = path.is_dir() and not path.is_symlink()
    if folder:
        import shutil  # tests only: not on every command's start-up

        shutil.rmtree(path)
    else:
        path.unlink()
    if action == "flip" and folder:
        path.write_bytes(b"a file now\n")
    elif action == "flip":
        path.mkdir()
        (path / "inside").write_bytes(b"a folder now\n")
