"""Everything a recipe needs read for it: input files, the home's listing, logs, processes."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from codexsnap.codex_files import (
    PID_FILES,
    PID_LOCKS,
    ROLLOUT_HEAD_BYTES,
    SOCKET,
    STATE_DB,
    pid_in,
)
from codexsnap.errors import StateFileInvalidError
from codexsnap.recipes import Evidence, Recipe, RecipeOptions
from codexsnap.roots import SQLITE_PREFIX, root_relative, split_root
from codexsnap.sqlite_copy import backup_database, is_sqlite_file
from codexsnap.state_file import resolve_target


@dataclass(frozen=True)
class InputFile:
    """One file a recipe reads: where its bytes live, what they are, what kind of file."""

    relpath: str  # the real file, relative to the home (through links inside the home)
    data: bytes | None
    kind: str  # "file", "sqlite" or "other" (sockets: present, without content)


def read_input(
    home: Path, name: str, head_only: tuple[str, ...], sqlite_home: Path | None = None
) -> InputFile:
    """Read one input the way a recipe expects it; refuse links that leave its root.

    ``name`` is a manifest path: ``@sqlite/<db>`` lives in ``sqlite_home``, the SQLite home
    outside the Codex home that the snapshots hold as a second root (roots.py).
    """
    root, inner = split_root(home, name, sqlite_home)
    path = root / inner
    if not os.path.lexists(path):
        return InputFile(name, None, "file")
    target = resolve_target(root, path)
    relpath = target.relative_to(root.resolve()).as_posix()
    if root != home:
        relpath = SQLITE_PREFIX + relpath
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        raise StateFileInvalidError(
            f"{path} is a link to a missing file", hint="Remove the broken link."
        ) from None
    if stat.S_ISDIR(mode):
        raise StateFileInvalidError(
            f"{path} is a folder, not a file", hint="Move it away, then run codexsnap again."
        )
    json_state = name.endswith((".json", ".json.bak"))
    if not stat.S_ISREG(mode):
        if json_state:
            # A FIFO or socket where a JSON state belongs holds no state at all: saying it is
            # "empty" would send the user looking for lost content.
            what = "a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "not a regular file"
            raise StateFileInvalidError(
                f"{path} is {what}, not a JSON file",
                hint="Move it away and restore the file with 'codexsnap rollback <id>'.",
            )
        return InputFile(relpath, b"", "other")
    try:
        if name.startswith(head_only) and head_only:
            with target.open("rb") as handle:
                return InputFile(relpath, handle.readline(ROLLOUT_HEAD_BYTES), "file")
        # A JSON state whose first bytes happen to read "SQLite format 3" is a damaged JSON
        # file, not a database: the recipe's own parser says what is wrong with it.
        if not json_state and is_sqlite_file(target):
            return InputFile(relpath, _consistent_copy(path, target), "sqlite")
        return InputFile(relpath, target.read_bytes(), "file")
    except PermissionError:
        raise StateFileInvalidError(
            f"{path} cannot be read (permission denied)",
            hint="Run codexsnap as the owner of the Codex home.",
        ) from None


def _consistent_copy(path: Path, target: Path) -> bytes:
    import sqlite3

    from codexsnap.scratch import scratch_folder

    with scratch_folder() as scratch:
        copy = scratch / "copy.sqlite"
        try:
            backup_database(target, copy)
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise StateFileInvalidError(
                    f"cannot copy the SQLite database {path}: {exc}",
                    hint="If Codex is writing to it, quit Codex and try again.",
                ) from None
            raise _damaged(path, exc) from None
        except sqlite3.DatabaseError as exc:
            raise _damaged(path, exc) from None
        return copy.read_bytes()


def _damaged(path: Path, exc: Exception) -> StateFileInvalidError:
    return StateFileInvalidError(
        f"{path} is a damaged SQLite database ({exc})",
        hint="Run 'codexsnap doctor' to see its restore sources; nothing was changed.",
    )


def list_home(home: Path) -> tuple[str, ...]:
    """Every file in the home (not following links): recipes pick their inputs from it."""
    found: list[str] = []
    for folder, dirs, files in os.walk(home):
        dirs.sort()
        base = Path(folder).relative_to(home).as_posix()
        for name in sorted(files):
            found.append(name if base == "." else f"{base}/{name}")
    return tuple(found)


def gather_evidence(
    recipe: Recipe,
    options: RecipeOptions,
    home: Path,
    store_root: Path,
    log_folders: Sequence[Path],
    sqlite_home: Path | None = None,
) -> Evidence:
    """Read what this recipe declared it needs, and nothing else.

    ``sqlite_home``: the SQLite home outside the Codex home that snapshots hold, if any.
    """
    listing = list_home(home) if "listing" in recipe.needs else ()
    revoked: frozenset[str] = frozenset()
    searched: tuple[str, ...] = ()
    if options.only_revoked:
        from codexsnap.logs import scan_logs

        scan = scan_logs(log_folders)
        revoked, searched = scan.revoked_client_ids, tuple(str(f) for f in log_folders)
    app_servers: tuple[int, ...] = ()
    live: frozenset[int] = frozenset()
    socket_state = "absent"
    if "processes" in recipe.needs:
        from codexsnap.processes import alive, find_codex_processes
        from codexsnap.sockets import probe_socket

        app_servers = tuple(p.pid for p in find_codex_processes() if p.kind == "app server")
        pids = [pid_in(read_input(home, name, ()).data) for name in (*PID_FILES, *PID_LOCKS)]
        live = alive([p for p in pids if p is not None])
        socket_state = probe_socket(home / SOCKET)[0]
    candidate = projects = None
    if "snapshots" in recipe.needs:
        from codexsnap.commands.snapshot_search import restore_candidates

        candidate, projects = restore_candidates(home, store_root)
    state_database, outside = _live_state_database(home, sqlite_home)
    files: tuple[str, ...] = ()
    copies: tuple[str, ...] = ()
    good = None
    if "database" in recipe.needs and options.database:
        from codexsnap.commands.database_evidence import (
            database_files,
            resolve_database,
            snapshot_copy,
        )

        found = database_files(home, resolve_database(home, options.database))
        files, copies = found.files, found.recovery_copies
        if options.source == "snapshot":
            good = snapshot_copy(home, store_root, found.relpath)
        database = found.relpath
    else:
        database = ""
    singleton: tuple[tuple[str, str], ...] = ()
    hostname = ""
    if "singleton" in recipe.needs:
        singleton, hostname, live = _singleton()
    return Evidence(
        home_files=listing,
        revoked_client_ids=revoked,
        logs_searched=searched,
        app_server_pids=app_servers,
        live_pids=live,
        restore_candidate=candidate,
        projects_candidate=projects,
        socket_state=socket_state,
        state_database=state_database,
        state_database_outside=outside,
        platform=sys.platform,
        database=database,
        database_files=files,
        recovery_copies=copies,
        database_candidate=good,
        singleton_files=singleton,
        hostname=hostname,
    )


def _singleton() -> tuple[tuple[tuple[str, str], ...], str, frozenset[int]]:
    """The profile's single-instance files, this host's name, and the lock's pid if alive."""
    import socket

    from codexsnap.codex_files import SINGLETON_FILES, singleton_owner
    from codexsnap.home import desktop_profile_folder
    from codexsnap.processes import alive

    folder = desktop_profile_folder()
    found: list[tuple[str, str]] = []
    for name in SINGLETON_FILES:
        path = folder / name
        if path.is_symlink():
            found.append((name, os.readlink(path)))
        elif os.path.lexists(path):
            found.append((name, ""))
    owner = singleton_owner(dict(found).get(SINGLETON_FILES[0], ""))
    return tuple(found), socket.gethostname(), alive([owner[1]]) if owner else frozenset()


def _live_state_database(home: Path, sqlite_home: Path | None) -> tuple[str, str | None]:
    """The live state database as a manifest path (in the home, or ``@sqlite/...`` in the
    outside SQLite home the snapshots hold); else the top one and where it really is."""
    from codexsnap.home import CodexHome, find_sqlite_home

    live = find_sqlite_home(CodexHome(home, "--codex-home"), sqlite_home).database(STATE_DB)
    try:
        return live.relative_to(home.resolve()).as_posix(), None
    except ValueError:
        pass
    # In the second root, a fix there is snapshotted and undone like one in the home.
    held = root_relative(sqlite_home, live)
    if held is not None and "/" not in held[len(SQLITE_PREFIX) :]:
        return held, None
    return STATE_DB, str(live)
