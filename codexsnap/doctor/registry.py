"""Every doctor check, in the order a person reads them, and the run over them all."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from codexsnap.doctor.backfill import check_backfill
from codexsnap.doctor.check import Check
from codexsnap.doctor.context import DoctorContext, gather_context
from codexsnap.doctor.databases import DatabaseCheck, check_sqlite_home
from codexsnap.doctor.global_state import (
    check_global_state,
    check_global_state_backup,
    check_state_leftovers,
)
from codexsnap.doctor.log_files import check_log_sizes
from codexsnap.doctor.projects import check_project_registry, check_root_paths
from codexsnap.doctor.protection import check_protection
from codexsnap.doctor.remote_control import (
    check_account_mismatch,
    check_mfa_required,
    check_revoked_client,
)
from codexsnap.doctor.remote_host import check_already_online, check_host_enrollment
from codexsnap.doctor.runtime_files import (
    check_app_server_socket,
    check_daemon_pid_files,
    check_desktop_singleton,
)
from codexsnap.doctor.setup import check_home, check_processes, check_store
from codexsnap.doctor.threads import check_threads
from codexsnap.home import CodexHome

CheckFunction = Callable[[DoctorContext], Check]

# The databases' checks (one per database found) come between these two groups.
BEFORE_DATABASES: tuple[CheckFunction, ...] = (
    check_home,
    check_store,
    check_protection,
    check_processes,
    check_global_state,
    check_global_state_backup,
    check_state_leftovers,
    check_project_registry,
    check_root_paths,
    check_revoked_client,
    check_mfa_required,
    check_account_mismatch,
    check_host_enrollment,
    check_already_online,
    check_app_server_socket,
    check_daemon_pid_files,
    check_desktop_singleton,
    check_sqlite_home,
)
AFTER_DATABASES: tuple[CheckFunction, ...] = (
    check_backfill,
    check_threads,
    check_log_sizes,
)


def checks_for(ctx: DoctorContext) -> list[CheckFunction]:
    """The checks of this run, in order."""
    return [*BEFORE_DATABASES, *(DatabaseCheck(db) for db in ctx.databases), *AFTER_DATABASES]


def run_checks(
    home: CodexHome,
    store_root: Path,
    log_folders: Sequence[Path],
    sqlite_option: Path | None = None,
    platform: str = sys.platform,
    interrupted: str | None = None,
) -> list[Check]:
    """Every check, in the order a person reads them; nothing in the home or store changes.

    ``interrupted``: the operation of a journal left in the store (see DoctorContext).
    """
    ctx = gather_context(home, store_root, log_folders, sqlite_option, platform, interrupted)
    return [check(ctx) for check in checks_for(ctx)]
