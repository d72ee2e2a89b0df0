"""Deterministic fault points, so tests can kill or fail codexsnap at an exact step.

Inert unless ``CODEXSNAP_TEST_FAULT`` is set: ``kill:<point>`` sends SIGKILL to this process,
``enospc:<point>`` raises "No space left on device", ``eacces:<point>`` a permission error.
"""

from __future__ import annotations

import errno
import os
import signal


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
