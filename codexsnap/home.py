"""Finding the Codex home, its databases and the snapshot store: the only module that reads
the environment."""

from __future__ import annotations

import contextlib
import contextvars
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from codexsnap.errors import HomeNotFoundError, StoreError
from codexsnap.wording import plural


class CodexHome(NamedTuple):
    """A Codex home folder and how it was found."""

    path: Path
    source: str  # "--codex-home", "CODEX_HOME" or "default"


class StoreLocation(NamedTuple):
    """Where the private snapshot store lives and how that was decided."""

    path: Path
    source: str  # "--store", "CODEXSNAP_STORE" or "default"


def find_codex_home(option: Path | None = None) -> CodexHome:
    """Resolve the Codex home the way Codex does: option, then CODEX_HOME, then ~/.codex."""
    env_value = os.environ.get("CODEX_HOME", "")
    if option is not None:
        candidate, source = option.expanduser(), "--codex-home"
    elif env_value:
        candidate, source = Path(env_value).expanduser(), "CODEX_HOME"
    else:
        candidate, source = Path.home() / ".codex", "default"
    if not candidate.exists():
        raise HomeNotFoundError(
            f"Codex home {candidate} (from {source}) does not exist",
            hint="Run Codex once, or point --codex-home / CODEX_HOME at your Codex home folder.",
        )
    if not candidate.is_dir():
        raise HomeNotFoundError(
            f"Codex home {candidate} (from {source}) is not a folder",
            hint="Point --codex-home / CODEX_HOME at the folder that holds config.toml.",
        )
    # Codex canonicalizes CODEX_HOME; so do we, so one home has one identity in the store.
    return CodexHome(path=candidate.resolve(), source=source)


# The databases Codex keeps in its SQLite home (codex-rs/state/src/lib.rs), and the desktop
# app's own, which only its sqlite/ folder holds.
STATE_DB = "state_5.sqlite"
LOGS_DB = "logs_2.sqlite"
GOALS_DB = "goals_1.sqlite"
MEMORIES_DB = "memories_1.sqlite"
CODEX_DATABASES = (STATE_DB, LOGS_DB, GOALS_DB, MEMORIES_DB)
DESKTOP_DATABASES = ("codex-dev.db", "codex-history-snapshots-dev.db")
DESKTOP_SQLITE_FOLDER = "sqlite"  # the app starts Codex with CODEX_SQLITE_HOME=<home>/sqlite
ACTIVE_MARGIN = 60.0  # seconds: writes closer than this do not tell two layouts apart


class SqliteLayout(NamedTuple):
    """One folder that holds Codex databases, and the evidence of its use."""

    path: Path
    kind: str  # "home" (the CLI's top level), "desktop" (<home>/sqlite) or "elsewhere"
    databases: tuple[str, ...]  # the known database files present, by name
    last_write: float | None  # newest mtime of a database's -wal (else the database)
    threads: int | None  # rows of threads in its state_5.sqlite; None when unreadable


class SqliteHome(NamedTuple):
    """Where Codex keeps its databases: what it resolves, and every layout found."""

    path: Path  # the folder Codex resolves from this environment
    source: str  # "--codex-sqlite-home", "config.toml", "CODEX_SQLITE_HOME" or "default"
    layouts: tuple[SqliteLayout, ...]  # every folder with a database; the resolved one first
    live: SqliteLayout | None  # the layout in use (None when no database exists yet)
    reason: str  # why ``live`` was chosen
    rollouts: int  # rollout files of the Codex home, to weigh thread counts against
    warning: str | None  # set when two layouts hold a state database

    def database(self, name: str) -> Path:
        """The live copy of a database: in the live layout, else where Codex would create it."""
        return (self.live.path if self.live else self.path) / name


def find_sqlite_home(home: CodexHome, option: Path | None = None) -> SqliteHome:
    """Resolve the SQLite home as Codex does, and find every layout of databases.

    Codex reads the top-level ``sqlite_home`` of config.toml (``~`` expanded, relative to the
    home), else ``$CODEX_SQLITE_HOME`` (trimmed, relative to the working folder), else the
    home (codex-rs/core/src/config/mod.rs). The desktop app sets that variable to
    ``<home>/sqlite`` for its own processes only, so a terminal resolves the top level while
    the app writes ``sqlite/``: both are looked at, and the live one is named.
    """
    path, source = _resolve_sqlite_path(home.path, option)
    folders = {path: _kind(home.path, path)}
    folders.setdefault(home.path, "home")
    folders.setdefault(home.path / DESKTOP_SQLITE_FOLDER, "desktop")
    layouts = [
        layout for folder, kind in folders.items() if (layout := _layout(folder, kind)) is not None
    ]
    rollouts = sum(
        1 for sub in ("sessions", "archived_sessions") for _ in (home.path / sub).rglob("rollout-*")
    )
    live, reason = _pick_live(layouts, rollouts, path)
    states = [layout for layout in layouts if STATE_DB in layout.databases]
    warning = None
    if len(states) > 1 and live is not None:
        seen = "; ".join(f"{lay.path} ({_threads(lay)})" for lay in states)
        warning = (
            f"Codex has {len(states)} state databases: {seen}. {live.path} is in use: {reason}. "
            f"The desktop app keeps its databases in {home.path / DESKTOP_SQLITE_FOLDER}, a "
            "plain codex run in the home's top level, so threads made in one are missing from "
            "the other (openai/codex #29953, #28087)."
        )
    return SqliteHome(path, source, tuple(layouts), live, reason, rollouts, warning)


def resolve_sqlite_home(home: CodexHome, option: Path | None = None) -> tuple[Path, str]:
    """The folder Codex resolves for its databases and its source, without looking inside."""
    return _resolve_sqlite_path(home.path, option)


def _resolve_sqlite_path(home: Path, option: Path | None) -> tuple[Path, str]:
    if option is not None:
        return option.expanduser().resolve(), "--codex-sqlite-home"
    import tomllib

    try:
        config = tomllib.loads((home / "config.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        config = {}  # Codex itself refuses to start then; the other sources still tell
    configured = config.get("sqlite_home")
    if isinstance(configured, str):
        return (home / Path(configured).expanduser()).resolve(), "config.toml"
    env_value = os.environ.get("CODEX_SQLITE_HOME", "").strip()
    if env_value:
        return Path(env_value).expanduser().resolve(), "CODEX_SQLITE_HOME"
    return home, "default"


def _kind(home: Path, folder: Path) -> str:
    if folder == home:
        return "home"
    return "desktop" if folder == home / DESKTOP_SQLITE_FOLDER else "elsewhere"


def _layout(folder: Path, kind: str) -> SqliteLayout | None:
    names = CODEX_DATABASES + (DESKTOP_DATABASES if kind != "home" else ())
    present = tuple(name for name in names if (folder / name).is_file())
    if not present:
        return None
    stamps = []
    for name in present:
        for candidate in (folder / f"{name}-wal", folder / name):
            try:
                stamps.append(candidate.stat().st_mtime)
                break
            except OSError:
                continue
    threads = count_threads(folder / STATE_DB) if STATE_DB in present else None
    return SqliteLayout(folder, kind, present, max(stamps, default=None), threads)


def _pick_live(
    layouts: list[SqliteLayout], rollouts: int, resolved: Path
) -> tuple[SqliteLayout | None, str]:
    states = [layout for layout in layouts if STATE_DB in layout.databases]
    if not states:
        first = layouts[0] if layouts else None
        return first, "no state database exists yet" if first else "no database exists yet"
    if len(states) == 1:
        return states[0], "the only state database"
    by_write = sorted(states, key=lambda lay: lay.last_write or 0.0, reverse=True)
    newest, runner_up = by_write[0].last_write or 0.0, by_write[1].last_write or 0.0
    if newest - runner_up > ACTIVE_MARGIN:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(newest))
        return by_write[0], f"its databases were written last ({when})"
    counted = [lay for lay in states if lay.threads is not None]
    if counted:
        best = min(counted, key=lambda lay: (abs(rollouts - (lay.threads or 0)), lay.path))
        if any(lay.threads != best.threads for lay in counted):
            return best, f"its thread count is closest to the {rollouts} rollout files"
    resolved_one = [lay for lay in states if lay.path == resolved]
    if resolved_one:
        return resolved_one[0], "nothing tells them apart; Codex resolves it from here"
    return states[0], "nothing tells them apart"


def _threads(layout: SqliteLayout) -> str:
    return "threads unreadable" if layout.threads is None else plural(layout.threads, "thread")


def count_threads(database: Path) -> int | None:
    """Rows of ``threads``, read without creating or changing a file beside the database."""
    import sqlite3

    from codexsnap.sqlite_read import read_rows

    try:
        rows, _ = read_rows(database, "SELECT count(*) FROM threads", timeout=1.0)
    except (sqlite3.Error, OSError):
        return None
    return int(rows[0][0])


def find_store_location(option: Path | None, home: CodexHome | None) -> StoreLocation:
    """Resolve the store: option, then CODEXSNAP_STORE, then the user data folder."""
    env_value = os.environ.get("CODEXSNAP_STORE", "")
    if option is not None:
        path, source = option.expanduser(), "--store"
    elif env_value:
        path, source = Path(env_value).expanduser(), "CODEXSNAP_STORE"
    else:
        import platformdirs

        path, source = Path(platformdirs.user_data_dir("codexsnap", appauthor=False)), "default"
    resolved = path.resolve()
    if home is None:
        return StoreLocation(path=resolved, source=source)
    # Deleting the Codex home is the last-resort cure; it must never take the history with it.
    if resolved == home.path or home.path in resolved.parents:
        raise StoreError(
            f"the store {resolved} (from {source}) is inside the Codex home {home.path}",
            hint="Choose a store outside the Codex home with --store or CODEXSNAP_STORE.",
        )
    if resolved in home.path.parents:
        raise StoreError(
            f"the store {resolved} (from {source}) contains the Codex home {home.path}",
            hint="Choose a separate folder for the store with --store or CODEXSNAP_STORE.",
        )
    return StoreLocation(path=resolved, source=source)


# The folder a sealed run lives in (``codexsnap demo``), else None.
_SEALED: contextvars.ContextVar[Path | None] = contextvars.ContextVar("sealed", default=None)


@contextlib.contextmanager
def sealed(root: Path) -> Iterator[None]:
    """Run as if this machine had no desktop logs, no Codex process and no desktop profile
    but under ``root`` (``codexsnap demo``): a throwaway home must not be judged by the
    user's own app, its logs or its processes."""
    token = _SEALED.set(root)
    try:
        yield
    finally:
        _SEALED.reset(token)


def is_sealed() -> bool:
    return _SEALED.get() is not None


def desktop_profile_folder() -> Path:
    """The Linux desktop app's Electron profile: ``$XDG_CONFIG_HOME/Codex``, else
    ``~/.config/Codex`` (#38254), where its single-instance lock lives. Sealed (the demo):
    one under the sealed folder, so the user's own app is never looked at."""
    root = _SEALED.get()
    if root is not None:
        return root / "desktop-profile" / "Codex"
    xdg_config = os.environ.get("XDG_CONFIG_HOME", "")
    base = Path(xdg_config) if xdg_config else Path.home() / ".config"
    return base / "Codex"


def default_log_folders() -> list[Path]:
    """The desktop app's log folders that exist here, looked for under every OS's names.

    Only existing folders are returned. Every OS's places are looked at whatever this OS is,
    so logs copied from another machine into one of them are found too. None when sealed.
    """
    if is_sealed():
        return []
    home = Path.home()
    candidates = [home / "Library" / "Logs" / "com.openai.codex"]  # macOS: YYYY/MM/DD/ below
    xdg_config = os.environ.get("XDG_CONFIG_HOME", "")
    if xdg_config:
        candidates.append(Path(xdg_config) / "Codex" / "logs")  # Linux: Electron's logs path
    candidates.append(home / ".config" / "Codex" / "logs")
    for name in ("APPDATA", "LOCALAPPDATA"):  # Windows
        value = os.environ.get(name, "")
        if value:
            candidates.append(Path(value) / "Codex" / "logs")
    local = os.environ.get("LOCALAPPDATA", "")
    if local:
        # [?] The Store package (OpenAI.Codex) sees %APPDATA% redirected into its own folder.
        packages = Path(local) / "Packages"
        candidates += sorted(packages.glob("OpenAI.Codex_*/LocalCache/Roaming/Codex/logs"))
    found: list[Path] = []
    for folder in candidates:
        if folder.is_dir() and folder not in found:
            found.append(folder)
    return found


def is_interactive() -> bool:
    """True when a person can answer a question on this terminal."""
    import sys

    return sys.stdin is not None and sys.stdin.isatty()


def debug_requested() -> bool:
    """True when CODEXSNAP_DEBUG asks for full tracebacks of internal errors."""
    return os.environ.get("CODEXSNAP_DEBUG", "") not in ("", "0")


def color_allowed() -> bool:
    """Colours and tables only for a person at a terminal (https://no-color.org)."""
    import sys

    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return sys.stdout.isatty()


class JobPlaces(NamedTuple):
    """Where ``codexsnap protect`` writes the per-user background job on each system."""

    systemd_user: Path  # Linux: the systemd user units
    launch_agents: Path  # macOS: ~/Library/LaunchAgents
    mac_logs: Path  # macOS: where launchd sends the watcher's output
    task_folder: Path  # Windows: the Task Scheduler definition protect registers
    windows_user: str  # Windows: DOMAIN\\user, whose logon starts the task


def job_places() -> JobPlaces:
    """The places for this user, from the environment as systemd, launchd and Windows read it."""
    home = Path.home()
    xdg_config = os.environ.get("XDG_CONFIG_HOME", "")
    config = Path(xdg_config) if xdg_config and Path(xdg_config).is_absolute() else None
    appdata = os.environ.get("APPDATA", "")
    domain = os.environ.get("USERDOMAIN", "")
    user = os.environ.get("USERNAME", "") or os.environ.get("USER", "")
    return JobPlaces(
        systemd_user=(config or home / ".config") / "systemd" / "user",
        launch_agents=home / "Library" / "LaunchAgents",
        mac_logs=home / "Library" / "Logs",
        task_folder=(Path(appdata) if appdata else home / "AppData" / "Roaming") / "codexsnap",
        windows_user=f"{domain}\\{user}" if domain else user,
    )


def this_platform() -> str:
    """``linux``, ``macos`` or ``windows``: which kind of background job protect installs."""
    import sys

    if sys.platform == "darwin":
        return "macos"
    return "windows" if sys.platform == "win32" else "linux"
