"""Finding a running Codex desktop app or app server, which would undo any edit on quit.

Since mid-2026 the desktop app is called ChatGPT: ``/Applications/ChatGPT.app`` on macOS
(``Contents/MacOS/ChatGPT``, bundle id still ``com.openai.codex``, ``Contents/Resources/codex``
inside), ``ChatGPT.exe`` on Windows (package ``OpenAI.Codex``), ``chatgpt`` on Linux; older
installs still run ``Codex.app`` / ``Codex``. The plain ChatGPT app shares the name, so a
ChatGPT-named process counts as Codex unless its install shows it is another app (a bundle
whose Info.plist names another id and that holds no ``Resources/codex``, or a Windows package
folder of another app). When nothing can be read (another user's process, a deleted bundle),
it counts: a refusal that names the process is cured by ``--force``, a missed app undoes the
user's fix on quit.
"""

from __future__ import annotations

import os
import plistlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CODEX_BUNDLE_ID = "com.openai.codex"
CODEX_WINDOWS_PACKAGES = ("OpenAI.Codex",)  # OpenAI.CodexBeta starts with it too

# Every name on every OS: a renamed or cross-installed app must not slip through.
_APP_NAMES = frozenset({"Codex", "Codex.exe", "Codex Desktop", "codex-desktop"})
_APP_PREFIXES = ("Codex Helper",)
# Names the plain ChatGPT app may share with the renamed Codex app.
_SHARED_NAMES = frozenset({"ChatGPT", "ChatGPT.exe", "chatgpt", "chatgpt.exe"})
_SHARED_PREFIXES = ("ChatGPT Helper",)  # [?] the renamed app's Electron helpers
_CLI_NAMES = frozenset({"codex", "codex.exe"})
_WINDOWS_PACKAGE = re.compile(r"/WindowsApps/([^/_]+)_[^/]*/", re.IGNORECASE)


@dataclass(frozen=True)
class CodexProcess:
    """A live process that holds Codex state in memory."""

    pid: int
    name: str
    kind: str  # "desktop app", "app server" or "CLI"
    exe: str = ""  # its executable when readable: tells the renamed app from others

    def describe(self) -> str:
        """The process as a refusal names it: ``ChatGPT (pid 812, desktop app)``."""
        return f"{self.name} (pid {self.pid}, {self.kind})"


def _basename(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def _bundle_of(exe: str) -> Path | None:
    """The outermost ``.app`` bundle an executable lies in (helpers sit in nested ones)."""
    parts = exe.replace("\\", "/").split("/")
    for index, part in enumerate(parts):
        if part.endswith(".app") and index > 0:
            return Path("/".join(parts[: index + 1]))
    return None


def install_is_codex(exe: str) -> bool | None:
    """What the install of ``exe`` says: Codex (True), another app (False), or nothing (None)."""
    if not exe:
        return None
    bundle = _bundle_of(exe)
    if bundle is not None:
        if (bundle / "Contents" / "Resources" / "codex").exists():
            return True
        try:
            with (bundle / "Contents" / "Info.plist").open("rb") as handle:
                info = plistlib.load(handle)
        except (OSError, plistlib.InvalidFileException, ValueError):
            return None
        bundle_id = info.get("CFBundleIdentifier") if isinstance(info, dict) else None
        if not isinstance(bundle_id, str):
            return None
        return bundle_id == CODEX_BUNDLE_ID
    package = _WINDOWS_PACKAGE.search(exe.replace("\\", "/"))
    if package is not None:
        return package.group(1).startswith(CODEX_WINDOWS_PACKAGES)
    folder = Path(exe).parent
    if any((folder / "resources" / name).exists() for name in ("codex", "codex.exe")):
        return True  # an Electron build that bundles the Codex binary, on Linux or Windows
    return None


def classify_process(name: str, exe: str, cmdline: list[str]) -> str | None:
    """Say which kind of Codex process this is, from its name, executable and command line."""
    first = _basename(cmdline[0]) if cmdline else ""
    candidates = {name, _basename(exe), first}
    for candidate in candidates:
        if candidate in _APP_NAMES or candidate.startswith(_APP_PREFIXES):
            return "desktop app"
        if exe.endswith("/Codex.app/Contents/MacOS/Codex"):
            return "desktop app"
    if any(c in _SHARED_NAMES or c.startswith(_SHARED_PREFIXES) for c in candidates):
        return None if install_is_codex(exe) is False else "desktop app"
    if candidates & _CLI_NAMES:
        # The CLI holds state_5.sqlite open too: replacing it under a live session would
        # lose that session's writes, so any `codex` process counts.
        return "app server" if "app-server" in cmdline[1:] else "CLI"
    return None


def find_codex_processes() -> list[CodexProcess]:
    """All live Codex desktop app and app-server processes visible to this user (none when
    sealed off from this machine, as ``codexsnap demo`` runs)."""
    import psutil

    from codexsnap.home import is_sealed

    if is_sealed():
        return []
    found: list[CodexProcess] = []
    own = os.getpid()
    only = _test_process_tree(psutil)
    for proc in psutil.process_iter(["pid", "name", "exe", "cmdline"]):
        info = proc.info
        if info["pid"] == own or (only is not None and info["pid"] not in only):
            continue
        exe = info["exe"] or ""
        kind = classify_process(info["name"] or "", exe, info["cmdline"] or [])
        if kind is not None:
            name = info["name"] or "?"
            found.append(CodexProcess(pid=info["pid"], name=name, kind=kind, exe=exe))
    return sorted(found, key=lambda p: p.pid)


def _test_process_tree(psutil: Any) -> set[int] | None:
    """Tests set CODEXSNAP_TEST_PROCESS_ROOT so that only the processes they start count:
    a developer's open Codex app (or CI's) must not decide a test's outcome."""
    root = os.environ.get("CODEXSNAP_TEST_PROCESS_ROOT")
    if not root:
        return None
    try:
        parent = psutil.Process(int(root))
        return {parent.pid, *(child.pid for child in parent.children(recursive=True))}
    except (ValueError, psutil.Error):
        return set()


def alive(pids: list[int]) -> frozenset[int]:
    """The pids among ``pids`` that belong to a live process."""
    import psutil

    return frozenset(p for p in pids if p > 0 and psutil.pid_exists(p))
