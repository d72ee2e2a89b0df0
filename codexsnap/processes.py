"""Finding a running Codex desktop app or app server, which would undo any edit on quit."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

# Every name on every OS: a renamed or cross-installed app must not slip through.
_APP_NAMES = frozenset({"Codex", "Codex.exe", "ChatGPT.exe", "Codex Desktop", "codex-desktop"})
_APP_PREFIXES = ("Codex Helper",)
_CLI_NAMES = frozenset({"codex", "codex.exe"})


@dataclass(frozen=True)
class CodexProcess:
    """A live process that holds Codex state in memory."""

    pid: int
    name: str
    kind: str  # "desktop app", "app server" or "CLI"


def _basename(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def classify_process(name: str, exe: str, cmdline: list[str]) -> str | None:
    """Say which kind of Codex process this is, from its name, executable and command line."""
    first = _basename(cmdline[0]) if cmdline else ""
    candidates = {name, _basename(exe), first}
    for candidate in candidates:
        if candidate in _APP_NAMES or candidate.startswith(_APP_PREFIXES):
            return "desktop app"
        if exe.endswith("/Codex.app/Contents/MacOS/Codex"):
            return "desktop app"
    if candidates & _CLI_NAMES:
        # The CLI holds state_5.sqlite open too: replacing it under a live session would
        # lose that session's writes, so any `codex` process counts.
        return "app server" if "app-server" in cmdline[1:] else "CLI"
    return None


def find_codex_processes() -> list[CodexProcess]:
    """All live Codex desktop app and app-server processes visible to this user."""
    import psutil

    found: list[CodexProcess] = []
    own = os.getpid()
    only = _test_process_tree(psutil)
    for proc in psutil.process_iter(["pid", "name", "exe", "cmdline"]):
        info = proc.info
        if info["pid"] == own or (only is not None and info["pid"] not in only):
            continue
        kind = classify_process(info["name"] or "", info["exe"] or "", info["cmdline"] or [])
        if kind is not None:
            found.append(CodexProcess(pid=info["pid"], name=info["name"] or "?", kind=kind))
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
