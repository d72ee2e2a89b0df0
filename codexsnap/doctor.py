"""The checks of ``codexsnap doctor``: each reads, never writes, and names its cure.

Every check is a small function from explicit paths or data to a ``Check``. Evidence never
shows an id or token in full: client ids go through ``mask``, free text through
``redact_text``.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from codexsnap.errors import CodexsnapError
from codexsnap.home import CodexHome
from codexsnap.logs import LogScan, RevocationEvidence, scan_logs
from codexsnap.processes import CodexProcess, alive, find_codex_processes
from codexsnap.recipes.app_server_stale import PID_FILES, SOCKET, START_LOCK, pid_in
from codexsnap.recipes.restore_global_state import TMP_PREFIX, has_projects
from codexsnap.recipes.session_index import indexed_ids, session_meta
from codexsnap.redact import mask, redact_text
from codexsnap.sqlite_copy import sidecars
from codexsnap.state_file import GLOBAL_STATE, GLOBAL_STATE_BAK, read_state_file

Status = Literal["ok", "warning", "problem"]

ENROLLMENT_KEY = "electron-remote-control-client-enrollments"
SESSION_INDEX = "session_index.jsonl"
TUI_LOG = "log/codex-tui.log"
BIG_LOG = 1 << 30  # 3 GB and 50 GB reported (#11136, #13463); hundreds of MB (#29798)
BIG_WAL = 64 << 20  # a -wal this big, and WAL_RATIO times its database, is not checkpointed
WAL_RATIO = 4
QUICK_CHECK_LIMIT = 256 << 20  # bigger databases are not copied and checked: too slow
SAVE_IN_PROGRESS = 60.0  # seconds: a younger temp file may be the app's save under way

_KNOWN_DATABASES = (
    "state_5.sqlite",
    "logs_2.sqlite",
    "goals_1.sqlite",
    "memories_1.sqlite",
    "sqlite/codex.db",
)
_ROLLOUT = re.compile(r"^(archived_)?sessions/.*rollout-[^/]*\.jsonl$")
_HEAD_BYTES = 1 << 20
_COMMAND = re.compile(r"\bcodexsnap (fix|snapshot|history|rollback|doctor)\b")
_FIX = "codexsnap fix"


@dataclass(frozen=True)
class Check:
    """One verdict: what was looked at, what it showed, and how to cure it."""

    name: str
    status: Status
    evidence: str
    cure: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        """The check as JSON-ready data."""
        return {
            "name": self.name,
            "status": self.status,
            "evidence": self.evidence,
            "cure": self.cure,
        }


@dataclass(frozen=True)
class GlobalState:
    """One global-state file as read: its data, or why it could not be read."""

    name: str
    raw: bytes | None
    data: dict[str, Any] | None
    error: str | None


def run_checks(home: CodexHome, store_root: Path, log_folders: Sequence[Path]) -> list[Check]:
    """Every check, in the order a person reads them; nothing in the home or store changes."""
    processes = find_codex_processes()
    primary = load_global_state(home.path, GLOBAL_STATE)
    bak = load_global_state(home.path, GLOBAL_STATE_BAK)
    scan = scan_logs(log_folders)
    missing = tuple(f for f in dict.fromkeys(log_folders) if f not in scan.folders)
    return [
        check_home(home),
        check_store(store_root, home.path),
        check_processes(processes),
        check_global_state(primary, bak, processes),
        check_global_state_backup(primary, bak),
        check_state_leftovers(home.path, processes, time.time()),
        check_revoked_client(scan, primary, processes, missing),
        check_server_side(scan, "mfa-required"),
        check_server_side(scan, "account-mismatch"),
        check_app_server_socket(home.path, processes),
        check_daemon_pid_files(home.path, alive),
        *(check_database(home.path, db, bool(processes)) for db in find_databases(home.path)),
        check_session_index(home.path),
        check_log_sizes(home.path),
    ]


def with_flags(cure: str, location: str = "", logs: str = "") -> str:
    """The cure with the user's ``--codex-home``/``--store`` flags (and ``--logs`` where read)."""
    if location:
        cure = _COMMAND.sub(lambda found: found[0] + location, cure)
    if logs:
        cure = cure.replace("--only-revoked", "--only-revoked" + logs)
    return cure


# ----- where and what -------------------------------------------------------------------


def check_home(home: CodexHome) -> Check:
    """The home in use and how it was found; a folder without any Codex file is suspicious."""
    markers = ("config.toml", GLOBAL_STATE, "sessions", "auth.json", "state_5.sqlite")
    found = [m for m in markers if os.path.lexists(home.path / m)]
    where = f"{home.path} (from {home.source})"
    if not found:
        return Check(
            "codex-home",
            "warning",
            f"{where} holds none of {', '.join(markers)}: is it the Codex home?",
            "point --codex-home (or CODEX_HOME) at the folder that holds config.toml",
        )
    return Check("codex-home", "ok", f"{where}: holds {', '.join(found)}")


def check_store(store_root: Path, home: Path) -> Check:
    """The snapshot store opens and has a snapshot of this home; never creates it."""
    from codexsnap.store import SnapshotStore

    try:
        if not SnapshotStore.exists(store_root):
            if store_root.exists() and (not store_root.is_dir() or any(store_root.iterdir())):
                return Check(
                    "store",
                    "problem",
                    f"{store_root} exists but is not a codexsnap store",
                    "choose an empty or new folder with --store or CODEXSNAP_STORE",
                )
            return Check(
                "store",
                "warning",
                f"no store yet at {store_root}: there is no snapshot to roll back to",
                "codexsnap snapshot",
            )
        with SnapshotStore.open(store_root, create=False) as store:
            latest = store.latest(home)
    except CodexsnapError as error:
        return Check("store", "problem", error.message, error.hint)
    except OSError as error:
        return Check("store", "problem", f"{store_root} cannot be read: {error.strerror}", None)
    if latest is None:
        return Check(
            "store", "warning", f"{store_root} holds no snapshot of this home", "codexsnap snapshot"
        )
    return Check(
        "store",
        "ok",
        f"{store_root}: latest snapshot {latest.short_id} of "
        f"{latest.created_at:%Y-%m-%d %H:%M} ({redact_text(latest.summary)})",
    )


def check_processes(processes: Sequence[CodexProcess]) -> Check:
    """Codex running: edits to its state would be undone when it quits (#23112, #23952)."""
    if not processes:
        return Check("codex-running", "ok", "no Codex desktop app or app server is running")
    listed = ", ".join(f"{p.kind} {p.name} (pid {p.pid})" for p in processes)
    return Check(
        "codex-running",
        "warning",
        f"running: {listed}; fixes refuse while it runs, it would undo them",
        "quit Codex",
    )


# ----- global state ---------------------------------------------------------------------


def load_global_state(home: Path, name: str) -> GlobalState:
    """Read one global-state file strictly, turning refusal into a reason."""
    try:
        found = read_state_file(home, home / name)
    except CodexsnapError as error:
        return GlobalState(name, _raw(home / name), None, error.message)
    except OSError as error:
        return GlobalState(name, None, None, f"{home / name} cannot be read: {error.strerror}")
    if found is None:
        return GlobalState(name, None, None, None)
    return GlobalState(name, found.raw, found.data, None)


def _raw(path: Path) -> bytes | None:
    try:
        if not path.is_file():
            return None  # a FIFO would block the read forever
        return path.read_bytes()
    except OSError:
        return None


def _present(state: GlobalState) -> bool:
    return state.raw is not None or state.error is not None


def check_global_state(
    primary: GlobalState, bak: GlobalState, processes: Sequence[CodexProcess]
) -> Check:
    """The primary file parses and still lists projects (the app empties it silently)."""
    cure = _after_quit(f"{_FIX} restore-global-state", processes)
    if primary.error is not None:
        return Check(
            "global-state",
            "problem",
            f"{primary.error}; the app would start from empty state and overwrite both files "
            "(#38757)",
            cure,
        )
    if primary.data is None:
        if _present(bak):
            return Check("global-state", "warning", f"{GLOBAL_STATE} is missing, .bak is not", cure)
        return Check(
            "global-state", "ok", f"no {GLOBAL_STATE}: the desktop app has not saved state here"
        )
    size = _size(len(primary.raw or b""))
    if not has_projects(primary.data):
        return Check(
            "global-state",
            "warning",
            f"parses ({len(primary.data)} keys, {size}) but lists no local project: the app may "
            "have started from empty state (#38757, #46987)",
            cure,
        )
    projects = primary.data.get("local-projects")
    count = len(projects) if isinstance(projects, list | dict) else 0
    return Check(
        "global-state", "ok", f"parses: {len(primary.data)} keys, {count} projects, {size}"
    )


def check_global_state_backup(primary: GlobalState, bak: GlobalState) -> Check:
    """The ``.bak`` is the byte-identical mirror the app writes on every save (#43393)."""
    name = "global-state-bak"
    if not _present(bak):
        return Check(name, "ok", "no .bak (the app writes one on its next save)")
    if primary.raw is not None and primary.raw == bak.raw:
        return Check(name, "ok", ".bak is a byte-identical mirror of the primary file")
    if primary.data is None:
        return Check(
            name,
            "warning",
            ".bak is no backup: the app overwrites it with the primary on its next save "
            "(#37927); restore from a snapshot instead",
            f"{_FIX} restore-global-state",
        )
    if bak.error is not None or bak.data is None:
        return Check(
            name,
            "warning",
            f"{bak.error or '.bak cannot be read'}; the app rewrites it on its next save",
        )
    keys = sorted(
        k
        for k in primary.data.keys() | bak.data.keys()
        if primary.data.get(k, _MISSING) != bak.data.get(k, _MISSING)
    )
    if not keys:
        return Check(name, "ok", ".bak holds the same data as the primary (formatted apart)")
    shown = ", ".join(redact_text(k) for k in keys[:3]) + (", …" if len(keys) > 3 else "")
    return Check(
        name,
        "warning",
        f".bak differs from the primary in {len(keys)} top-level keys ({shown}): one file was "
        "edited alone; the app rewrites .bak on its next save",
    )


_MISSING = object()


def check_state_leftovers(home: Path, processes: Sequence[CodexProcess], now: float) -> Check:
    """Temp files of an interrupted atomic save (#41578)."""
    app_runs = any(p.kind == "desktop app" for p in processes)
    found: list[tuple[str, int]] = []
    try:
        names = sorted(n for n in os.listdir(home) if n.startswith(TMP_PREFIX))
    except OSError as error:
        return Check("global-state-leftovers", "warning", f"{home}: {error.strerror}")
    for name in names:
        try:
            st = os.lstat(home / name)
        except OSError:
            continue  # renamed by the app's save meanwhile
        if app_runs and now - st.st_mtime < SAVE_IN_PROGRESS:
            continue
        found.append((name, st.st_size))
    if not found:
        return Check("global-state-leftovers", "ok", f"no {TMP_PREFIX}* file")
    shown = ", ".join(n for n, _ in found[:3]) + (", …" if len(found) > 3 else "")
    total = _size(sum(size for _, size in found))
    return Check(
        "global-state-leftovers",
        "warning",
        f"{len(found)} leftover temp file(s) of an interrupted save: {shown} ({total})",
        _after_quit(f"{_FIX} restore-global-state", processes),
    )


# ----- remote control -------------------------------------------------------------------


def enrollments(data: dict[str, Any] | None) -> dict[str, str | None]:
    """Enrollment key -> clientId, from a parsed global state."""
    found = (data or {}).get(ENROLLMENT_KEY)
    if not isinstance(found, dict):
        return {}
    return {
        str(key): value.get("clientId") if isinstance(value, dict) else None
        for key, value in found.items()
    }


def check_revoked_client(
    scan: LogScan,
    primary: GlobalState,
    processes: Sequence[CodexProcess],
    missing_folders: Sequence[Path] = (),
) -> Check:
    """A revoked controller client still held in the global state (#28379, #25532, #23865)."""
    name = "remote-control-revoked"
    searched = _searched(scan, missing_folders)
    quiet: Status = "warning" if missing_folders else "ok"
    if not scan.folders:
        return Check(name, quiet, f"not checked: {searched}; give one with --logs DIR")
    if not scan.revoked:
        return Check(name, quiet, f"no revocation in {searched}")
    held = enrollments(primary.data)
    revoked_ids = scan.revoked_client_ids
    if primary.error is not None:
        return Check(
            name,
            "warning",
            f"logs show a revoked client ({_at(scan.revoked[0])}), but the global state cannot "
            "be read to compare (see global-state)",
        )
    matches = {key: cid for key, cid in held.items() if cid is not None and cid in revoked_ids}
    if matches:
        key, client = next(iter(matches.items()))
        others = len(held) - len(matches)
        more = f" and {len(matches) - 1} more" if len(matches) > 1 else ""
        kept = f"; {others} other enrollment(s) would be kept" if others else ""
        command = f"{_FIX} remote-control" + (" --only-revoked" if others else "")
        return Check(
            name,
            "problem",
            f"client {mask(client)} revoked ({_at(_latest_for(scan, client))}); the global state "
            f"still holds it: enrollment {_enrollment_name(key)}{more}{kept}"
            + _caveats(scan, missing_folders),
            _after_quit(command, processes),
        )
    nameless = [e for e in scan.revoked if e.client_id is None]
    if nameless and held:
        return Check(
            name,
            "problem",
            f"{len(nameless)} revocation line(s) name no client (latest {_at(nameless[0])}); "
            f"the global state holds {len(held)} enrollment(s)" + _caveats(scan, missing_folders),
            _after_quit(f"{_FIX} remote-control", processes),
        )
    ids = sorted(revoked_ids)
    shown = ", ".join(mask(c) for c in ids[:3]) + (", …" if len(ids) > 3 else "") or "a client"
    return Check(
        name,
        "ok",
        f"logs show {shown} revoked ({_at(scan.revoked[0])}), but the global state no longer "
        "holds it: already fixed (pair again from the app if it still fails)"
        + _caveats(scan, missing_folders),
    )


_SERVER_SIDE = {
    "mfa-required": (
        "remote-control-mfa",
        "the server refused remote control: multi-factor authentication required",
        "no local cure: turn on multi-factor authentication for the ChatGPT account, sign out "
        "and in again, then pair; follow https://github.com/openai/codex/issues/27167",
    ),
    "account-mismatch": (
        "remote-control-account",
        "the enrollment answer did not match the signed-in account",
        "no local cure: sign in with the same ChatGPT account and workspace on both devices; "
        "follow https://github.com/openai/codex/issues/22804",
    ),
}


def check_server_side(scan: LogScan, kind: str) -> Check:
    """A refusal from the server (MFA, account mismatch): reported with the issue to follow."""
    name, what, cure = _SERVER_SIDE[kind]
    found = [f for f in scan.findings if f.kind == kind]
    if not found:
        return Check(name, "ok", f"not seen in {_searched(scan, ())}")
    latest = found[0]
    return Check(
        name,
        "warning",
        f"{what}: {len(found)} log line(s), latest {latest.timestamp or 'undated'} "
        f"({latest.path}:{latest.line_number})",
        cure,
    )


def _latest_for(scan: LogScan, client: str) -> RevocationEvidence:
    return next(e for e in scan.revoked if e.client_id == client)


def _at(evidence: RevocationEvidence) -> str:
    return f"{evidence.timestamp or 'undated'}, {evidence.path}:{evidence.line_number}"


def _enrollment_name(key: str) -> str:
    parts = [p for p in key.split("\n") if p]
    shown = f"{parts[0]} … {parts[-1]}" if len(parts) > 1 else key
    return redact_text(shown if len(shown) <= 80 else shown[:79] + "…")


def _searched(scan: LogScan, missing: Sequence[Path]) -> str:
    if scan.folders:
        text = f"{scan.files_read} log file(s), {_size(scan.bytes_read)}, in " + ", ".join(
            str(f) for f in scan.folders
        )
    else:
        text = "no desktop log folder found"
    return text + _caveats(scan, missing)


def _caveats(scan: LogScan, missing: Sequence[Path]) -> str:
    """What the scan could not see: the bound, unreadable files, folders not found."""
    text = ""
    if scan.truncated:
        text += " (stopped at the read bound: older lines unread)"
    if scan.unreadable:
        text += f"; {len(scan.unreadable)} unreadable: {scan.unreadable[0]}" + (
            ", …" if len(scan.unreadable) > 1 else ""
        )
    if missing:
        text += "; not found: " + ", ".join(str(f) for f in missing)
    return text


# ----- runtime files --------------------------------------------------------------------


def check_app_server_socket(home: Path, processes: Sequence[CodexProcess]) -> Check:
    """A socket and start lock left by a dead app server (#20143)."""
    name = "app-server-socket"
    present = [n for n in (SOCKET, START_LOCK) if os.path.lexists(home / n)]
    if not present:
        return Check(name, "ok", "no app-server socket or startup lock")
    servers = [p for p in processes if p.kind == "app server"]
    if servers:
        return Check(name, "ok", f"{', '.join(present)} in use by app server {_pids(servers)}")
    apps = [p for p in processes if p.kind == "desktop app"]
    if apps:
        return Check(
            name,
            "warning",
            f"{', '.join(present)} present and no app server runs, but the desktop app does "
            f"({_pids(apps)}): it may be starting one",
            f"quit Codex, then {_FIX} app-server-stale",
        )
    return Check(
        name,
        "problem",
        f"{', '.join(present)} left by an app server that no longer runs",
        f"{_FIX} app-server-stale",
    )


def check_daemon_pid_files(home: Path, live: Callable[[list[int]], frozenset[int]]) -> Check:
    """Daemon pid files naming a dead process (#47206, #35295)."""
    name = "daemon-pid-files"
    read: list[tuple[str, int | None]] = []
    for relpath in PID_FILES:
        path = home / relpath
        if not os.path.lexists(path):
            continue
        read.append((relpath, pid_in(_raw(path))))
    if not read:
        return Check(name, "ok", "no daemon pid file")
    living = live([pid for _, pid in read if pid is not None])
    stale = [(r, pid) for r, pid in read if pid is None or pid not in living]
    if not stale:
        return Check(name, "ok", "; ".join(f"{r}: pid {pid} is running" for r, pid in read))
    shown = "; ".join(
        f"{r}: {'names no pid' if pid is None else f'pid {pid} is not running'}" for r, pid in stale
    )
    return Check(name, "problem", shown, f"{_FIX} app-server-stale")


def _pids(processes: Iterable[CodexProcess]) -> str:
    return ", ".join(f"pid {p.pid}" for p in processes)


# ----- databases ------------------------------------------------------------------------


def find_databases(home: Path) -> list[Path]:
    """The SQLite databases of the home: the known ones and any other ``*.sqlite``."""
    found = [home / name for name in _KNOWN_DATABASES]
    found += sorted(home.glob("*.sqlite")) + sorted((home / "sqlite").glob("*.db"))
    unique = dict.fromkeys(p for p in found if p.is_file() and not p.is_symlink())
    return list(unique)


def quick_check(path: Path, live: bool = False) -> list[str]:
    """``PRAGMA quick_check``'s complaints (none when healthy), creating no file in the home.

    While Codex runs (``live``) and the database has its ``-wal`` and ``-shm``, it is read in
    place, read-only, through SQLite's locks: like any reader, that only moves read marks in
    the ``-shm``. Otherwise the check runs on a copy in a temporary folder, as opening the
    database in the home would create ``-wal``/``-shm`` there.
    """
    wal, shm = sidecars(path)
    if live and wal.exists() and shm.exists():
        return _quick_check(f"{path.resolve().as_uri()}?mode=ro")
    for attempt in range(3):
        before = _stamps(path, wal)
        with tempfile.TemporaryDirectory(prefix="codexsnap-doctor-") as scratch:
            copy = Path(scratch) / "db.sqlite"
            shutil.copyfile(path, copy)
            if wal.exists():
                shutil.copyfile(wal, Path(scratch) / "db.sqlite-wal")
            if _stamps(path, wal) != before and attempt < 2:
                continue  # a process we do not know of wrote meanwhile: the copy may be torn
            return _quick_check(copy.as_uri())
    raise AssertionError("unreachable")


def _stamps(*paths: Path) -> list[tuple[int, int] | None]:
    found: list[tuple[int, int] | None] = []
    for path in paths:
        try:
            st = path.stat()
            found.append((st.st_size, st.st_mtime_ns))
        except OSError:
            found.append(None)
    return found


def _quick_check(uri: str) -> list[str]:
    db = sqlite3.connect(uri, uri=True, timeout=2.0)
    try:
        rows = db.execute("PRAGMA quick_check(20)").fetchall()
    finally:
        db.close()
    complaints = [str(row[0]) for row in rows]
    return [] if complaints == ["ok"] else complaints


def check_database(home: Path, path: Path, live: bool = False) -> Check:
    """Integrity (``quick_check``) and a ``-wal`` far larger than its database."""
    relpath = path.relative_to(home).as_posix()
    name = f"sqlite:{relpath}"
    wal = sidecars(path)[0]
    db_size = _stat_size(path)
    wal_size = _stat_size(wal)
    sizes = _size(db_size) + (f", -wal {_size(wal_size)}" if wal_size else "")
    if relpath.startswith("logs_"):
        repair = (
            f"quit Codex, then move {relpath} and its -wal/-shm out of the home "
            "(it holds only logs)"
        )
    else:
        repair = "quit Codex, then roll back to a snapshot from before: codexsnap history"
    if db_size + wal_size > QUICK_CHECK_LIMIT:
        verdict = Check(
            name, "ok", f"{sizes}; quick_check skipped: over {_size(QUICK_CHECK_LIMIT)}, too slow"
        )
    else:
        try:
            complaints = quick_check(path, live)
        except sqlite3.OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                return Check(name, "warning", f"{sizes}; busy, not checked: {error}", None)
            return Check(name, "problem", f"{sizes}; cannot be read: {error}", repair)
        except sqlite3.DatabaseError as error:
            return Check(name, "problem", f"{sizes}; {error}", repair)
        except OSError as error:
            return Check(name, "warning", f"cannot be read: {error.strerror}", None)
        if complaints:
            more = f" (+{len(complaints) - 1} more)" if len(complaints) > 1 else ""
            return Check(
                name, "problem", f"quick_check: {redact_text(complaints[0])}{more}", repair
            )
        verdict = Check(name, "ok", f"quick_check ok ({sizes})")
    if wal_size > BIG_WAL and wal_size > WAL_RATIO * db_size:
        return Check(
            name,
            "warning",
            f"-wal is {_size(wal_size)} for a {_size(db_size)} database: not checkpointed",
            "quit Codex (SQLite folds the -wal into the database when its last connection closes)",
        )
    return verdict


# ----- sessions and logs ----------------------------------------------------------------


def rollout_thread_ids(home: Path) -> dict[str, str]:
    """Thread id -> rollout path, from each uncompressed rollout's ``session_meta`` line."""
    found: dict[str, str] = {}
    for top in ("sessions", "archived_sessions"):
        for folder, dirs, files in os.walk(home / top):
            dirs.sort()
            for file_name in sorted(files):
                relpath = (Path(folder) / file_name).relative_to(home).as_posix()
                if not _ROLLOUT.match(relpath):
                    continue
                thread_id = _session_id(home / relpath)
                if thread_id is not None:
                    found.setdefault(thread_id, relpath)
    return found


def _session_id(path: Path) -> str | None:
    try:
        with path.open("rb") as handle:
            payload = session_meta(handle.readline(_HEAD_BYTES))
    except OSError:
        return None
    return None if payload is None else str(payload["id"])


def check_session_index(home: Path) -> Check:
    """Threads whose rollout exists but which the sidebar index lacks (#22452, #40779)."""
    name = "session-index"
    rollouts = rollout_thread_ids(home)
    if not rollouts:
        return Check(name, "ok", "no rollout file in sessions/")
    index = home / SESSION_INDEX
    raw = _raw(index)
    if raw is None:
        evidence = (
            f"{SESSION_INDEX} is missing or unreadable; {len(rollouts)} threads have rollouts"
        )
        return Check(name, "warning", evidence, f"{_FIX} session-index")
    missing = [t for t in rollouts if t not in indexed_ids(raw)]
    if not missing:
        return Check(name, "ok", f"all {len(rollouts)} threads with a rollout are indexed")
    return Check(
        name,
        "warning",
        f"{len(missing)} of {len(rollouts)} threads with a rollout are missing from "
        f"{SESSION_INDEX}, so the sidebar does not list them",
        f"{_FIX} session-index",
    )


def check_log_sizes(home: Path) -> Check:
    """The CLI log and the app server's log database grow without bound (#11136, #29798)."""
    tui = home / TUI_LOG
    parts = [(TUI_LOG, _stat_size(tui), f"empty it: : > {shlex.quote(str(tui))}")]
    for db in sorted(home.glob("logs_*.sqlite")):
        total = sum(_stat_size(p) for p in (db, *sidecars(db)))
        parts.append((db.name, total, f"move {db.name} and its -wal/-shm out of the home"))
    present = [(n, s, c) for n, s, c in parts if s]
    big = [(n, s, c) for n, s, c in present if s > BIG_LOG]
    if not big:
        listed = ", ".join(f"{n} {_size(s)}" for n, s, _ in present) or "no log file"
        return Check("log-size", "ok", listed)
    return Check(
        "log-size",
        "warning",
        "; ".join(f"{n} is {_size(s)}" for n, s, _ in big),
        "quit Codex, then " + "; ".join(c for _, _, c in big),
    )


# ----- small helpers --------------------------------------------------------------------


def _after_quit(command: str, processes: Sequence[CodexProcess]) -> str:
    return f"quit Codex, then {command}" if processes else command


def _stat_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
