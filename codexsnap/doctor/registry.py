"""Every doctor check, in the order a person reads them, and the run over them all."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from codexsnap.doctor.check import Check
from codexsnap.doctor.context import DoctorContext, gather_context
from codexsnap.doctor.databases import DatabaseCheck
from codexsnap.doctor.global_state import (
    check_global_state,
    check_global_state_backup,
    check_state_leftovers,
)
from codexsnap.doctor.log_files import check_log_sizes
from codexsnap.doctor.remote_control import (
    check_account_mismatch,
    check_mfa_required,
    check_revoked_client,
)
from codexsnap.doctor.runtime_files import check_app_server_socket, check_daemon_pid_files
from codexsnap.doctor.sessions import check_session_index
from codexsnap.doctor.setup import check_home, check_processes, check_store
from codexsnap.home import CodexHome

CheckFunction = Callable[[DoctorContext], Check]

# The databases' checks (one per database found) come between these two groups.
BEFORE_DATABASES: tuple[CheckFunction, ...] = (
    check_home,
    check_store,
    check_processes,
    check_global_state,
    check_global_state_backup,
    check_state_leftovers,
    check_revoked_client,
    check_mfa_required,
    check_account_mismatch,
    check_app_server_socket,
    check_daemon_pid_files,
)
AFTER_DATABASES: tuple[CheckFunction, ...] = (
    check_session_index,
    check_log_sizes,
)


def checks_for(ctx: DoctorContext) -> list[CheckFunction]:
    """The checks of this run, in order."""
    return [*BEFORE_DATABASES, *(DatabaseCheck(db) for db in ctx.databases), *AFTER_DATABASES]


def run_checks(home: CodexHome, store_root: Path, log_folders: Sequence[Path]) -> list[Check]:
    """Every check, in the order a person reads them; nothing in the home or store changes."""
    ctx = gather_context(home, store_root, log_folders)
    return [check(ctx) for check in checks_for(ctx)]
