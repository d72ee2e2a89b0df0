"""Finding the Codex home and the snapshot store: the only module that reads the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from codexsnap.errors import HomeNotFoundError, StoreError


@dataclass(frozen=True)
class CodexHome:
    """A Codex home folder and how it was found."""

    path: Path
    source: str  # "--codex-home", "CODEX_HOME" or "default"


@dataclass(frozen=True)
class StoreLocation:
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


def default_log_folders() -> list[Path]:
    """The desktop app's log folders that exist here, looked for under every OS's names.

    Only existing folders are returned. Every OS's places are looked at whatever this OS is,
    so logs copied from another machine into one of them are found too.
    """
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
