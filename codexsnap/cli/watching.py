"""Commands that keep snapshots coming on their own: watch, protect, unprotect."""

from __future__ import annotations

import typer

from codexsnap.cli.locate import locate, sqlite_root
from codexsnap.cli.options import (
    DebounceOption,
    DryRunOption,
    HomeOption,
    MinIntervalOption,
    PollOption,
    SqliteHomeOption,
    StatusOption,
    StoreOption,
)


def watch(
    debounce: DebounceOption = 5.0,
    min_interval: MinIntervalOption = 60.0,
    poll: PollOption = False,
    codex_home: HomeOption = None,
    codex_sqlite_home: SqliteHomeOption = None,
    store: StoreOption = None,
) -> None:
    """Snapshot the Codex home whenever its state changes, until stopped (exit 0).

    Runs in the foreground (protect runs it at login); takes a snapshot at start, never
    writes into the home, and waits while a fix or rollback runs. Ctrl-C or SIGTERM stops it.
    Example: codexsnap watch
    """
    import signal

    from codexsnap.cli.watch_text import watch_line
    from codexsnap.commands.watch import WatchSettings
    from codexsnap.commands.watch import watch as run_watch
    from codexsnap.file_events import Stopper

    home, location = locate(codex_home, store)
    sqlite, _ = sqlite_root(home, codex_sqlite_home)
    stop = Stopper()

    def halt(signum: int, frame: object) -> None:
        stop.set()  # the snapshot under way finishes: no half-written store

    signal.signal(signal.SIGTERM, halt)
    signal.signal(signal.SIGINT, halt)
    settings = WatchSettings(debounce=debounce, min_interval=min_interval, poll=poll)
    try:
        run_watch(
            home.path, location.path, sqlite, settings, stop, lambda n: typer.echo(watch_line(n))
        )
    finally:
        stop.close()


def protect(
    status: StatusOption = False,
    dry_run: DryRunOption = False,
    codex_home: HomeOption = None,
    codex_sqlite_home: SqliteHomeOption = None,
    store: StoreOption = None,
) -> None:
    """Run 'codexsnap watch' on this home at every login, as a background job of yours.

    A systemd user unit on Linux, a LaunchAgent on macOS, a Task Scheduler task on Windows,
    running this codexsnap with the same --codex-home and --store.
    Example: codexsnap protect --dry-run
    """
    from codexsnap.cli.watch_text import protect_text, status_text
    from codexsnap.commands.protect import protect as run_protect
    from codexsnap.commands.protect import protection_status

    home, location = locate(codex_home, store)
    sqlite, _ = sqlite_root(home, codex_sqlite_home)
    if status:
        return _echo(status_text(protection_status(home.path, location.path, sqlite)))
    _echo(protect_text(run_protect(home.path, location.path, sqlite, dry_run=dry_run)))


def unprotect(
    dry_run: DryRunOption = False,
    codex_home: HomeOption = None,
    codex_sqlite_home: SqliteHomeOption = None,
    store: StoreOption = None,
) -> None:
    """Stop and remove the background job protect installed for this home.

    Removes only the file protect wrote; every snapshot stays.
    Example: codexsnap unprotect
    """
    from codexsnap.cli.watch_text import unprotect_text
    from codexsnap.commands.protect import unprotect as run_unprotect

    del codex_sqlite_home  # taken by every command, so one set of flags works everywhere
    home, _ = locate(codex_home, store)
    _echo(unprotect_text(run_unprotect(home.path, dry_run=dry_run)))


def _echo(lines: list[str]) -> None:
    for line in lines:
        typer.echo(line)
