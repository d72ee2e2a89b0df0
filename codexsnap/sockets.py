"""Whether a Unix socket file still has a server behind it, asked by connecting to it.

Upstream ``codex doctor`` calls the app server's socket stale only when a connect to it fails
(codex-rs/cli/src/doctor/background.rs): the name of a running process proves nothing.
"""

from __future__ import annotations

import errno
import os
import socket
import tempfile
from pathlib import Path
from typing import Literal

SocketState = Literal["absent", "listening", "stale", "unknown"]
_PATH_LIMIT = 100  # AF_UNIX paths are cut at 104 bytes (macOS) or 108 (Linux)


def probe_socket(path: Path, timeout: float = 1.0) -> tuple[SocketState, str]:
    """The socket's state and, when ``unknown``, why it could not be told."""
    if not os.path.lexists(path):
        return "absent", ""
    if not hasattr(socket, "AF_UNIX"):
        return "unknown", "this system has no Unix sockets"
    target = str(path)
    if len(os.fsencode(target)) <= _PATH_LIMIT:
        return _connect(target, timeout)
    # A longer path cannot be connected to directly: a short link to it can.
    with tempfile.TemporaryDirectory(prefix="cs") as short:
        link = os.path.join(short, "s")
        os.symlink(path.resolve(), link)
        return _connect(link, timeout)


def _connect(target: str, timeout: float) -> tuple[SocketState, str]:
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(timeout)
    try:
        client.connect(target)
    except OSError as error:
        if error.errno in (errno.ECONNREFUSED, errno.ENOENT):
            return "stale", ""  # no server listens: the file outlived its server
        return "unknown", error.strerror or str(error)
    finally:
        client.close()
    return "listening", ""
