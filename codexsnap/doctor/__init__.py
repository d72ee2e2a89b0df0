"""The checks of ``codexsnap doctor``: each reads, never writes, and names its cure.

Every check is a function ``check_x(ctx: DoctorContext) -> Check``; ``registry`` lists them
in the order they are shown. The context (``context``) reads the home, the processes, the
global states and the logs once. A cure is data (``Cure``) that the CLI renders with the
run's flags. Evidence never shows an id or token in full: client ids go through ``mask``,
free text through ``redact_text``.

- ``check``: Check, Cure, Status, render_cure, and small helpers the checks share
- ``setup``: the Codex home, the store, Codex processes
- ``global_state``: the primary file, its ``.bak`` mirror, temp leftovers of a save
- ``remote_control``: revoked clients, server-side refusals (from the desktop logs)
- ``runtime_files``: the app server's socket, start lock and pid files
- ``databases``: the SQLite home and its layouts; integrity, ``-wal`` size and Codex's own
  recovery copies, one check per database of every layout
- ``threads``: rollout files against the state database's ``threads`` rows
- ``remote_host``: this computer as a host, from the app server's own log table
- ``app_server_log``: reading that table (logs_2.sqlite) read-only
- ``log_files``: logs growing without bound
"""

from __future__ import annotations

from codexsnap.doctor.check import Check, Cure, Status, render_cure
from codexsnap.doctor.context import DoctorContext, gather_context
from codexsnap.doctor.registry import CheckFunction, checks_for, run_checks

__all__ = [
    "Check",
    "CheckFunction",
    "Cure",
    "DoctorContext",
    "Status",
    "checks_for",
    "gather_context",
    "render_cure",
    "run_checks",
]
