"""The renamed desktop app (ChatGPT.app, ChatGPT.exe, chatgpt) blocks a fix like the old one.

Real processes: a copy of ``sleep`` under the app's name and bundle layout in tmp_path, so the
detector sees what psutil reports for the real app (name, executable, first argument).
"""

from __future__ import annotations

import os
import plistlib
import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codexsnap.processes import (
    CodexProcess,
    classify_process,
    find_codex_processes,
    install_is_codex,
)
from tests.helpers import run

APP = "desktop app"
MAC_EXE = "Contents/MacOS/ChatGPT"
HELPER = (
    "Contents/Frameworks/ChatGPT Helper (Renderer).app/Contents/MacOS/ChatGPT Helper (Renderer)"
)


def bundle(root: Path, bundle_id: str | None, with_codex: bool = False) -> Path:
    """A ``ChatGPT.app`` bundle: its Info.plist and, for the Codex app, ``Resources/codex``."""
    app = root / "Applications" / "ChatGPT.app"
    (app / "Contents" / "MacOS").mkdir(parents=True)
    if bundle_id is not None:
        info = {"CFBundleIdentifier": bundle_id, "CFBundleName": "ChatGPT"}
        (app / "Contents" / "Info.plist").write_bytes(plistlib.dumps(info, fmt=plistlib.FMT_BINARY))
    if with_codex:
        (app / "Contents" / "Resources").mkdir()
        (app / "Contents" / "Resources" / "codex").write_bytes(b"\x7fELF")
    return app


@contextmanager
def running_as(exe: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``sleep`` copied to ``exe`` and started from there, killed however the test ends."""
    exe.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy("/bin/sleep", exe)
    proc = subprocess.Popen([str(exe), "30"], start_new_session=True)
    try:
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_the_renamed_app_is_known_by_every_name() -> None:
    # No bundle or package can be read for these paths: the name alone counts.
    assert classify_process("ChatGPT", f"/Applications/ChatGPT.app/{MAC_EXE}", []) == APP
    assert classify_process("ChatGPT Helper (GPU)", "", ["ChatGPT Helper (GPU)"]) == APP
    assert classify_process("ChatGPT.exe", "C:\\Program Files\\ChatGPT\\ChatGPT.exe", []) == APP
    assert classify_process("chatgpt", "/opt/ChatGPT/chatgpt", ["/opt/ChatGPT/chatgpt"]) == APP
    assert classify_process("electron", "/usr/lib/electron", ["/usr/bin/chatgpt"]) == APP
    # The app server the renamed app starts from its bundle is an app server.
    server = "/Applications/ChatGPT.app/Contents/Resources/codex"
    assert classify_process("codex", server, [server, "app-server"]) == "app server"
    # The old names still count.
    assert classify_process("Codex", "/Applications/Codex.app/Contents/MacOS/Codex", []) == APP
    assert classify_process("Safari", "/Applications/Safari.app/Contents/MacOS/Safari", []) is None


def test_the_bundle_tells_the_codex_app_from_the_plain_chatgpt_app(tmp_path: Path) -> None:
    codex = bundle(tmp_path / "a", "com.openai.codex")
    chat = bundle(tmp_path / "b", "com.openai.chat")
    with_binary = bundle(tmp_path / "c", "com.example.renamed", with_codex=True)
    unreadable = bundle(tmp_path / "d", None)
    assert classify_process("ChatGPT", str(codex / MAC_EXE), []) == APP
    assert classify_process("ChatGPT Helper (Renderer)", str(codex / HELPER), []) == APP
    assert classify_process("ChatGPT", str(chat / MAC_EXE), []) is None
    assert classify_process("ChatGPT Helper (Renderer)", str(chat / HELPER), []) is None
    assert classify_process("ChatGPT", str(with_binary / MAC_EXE), []) == APP
    assert install_is_codex(str(unreadable / MAC_EXE)) is None
    assert classify_process("ChatGPT", str(unreadable / MAC_EXE), []) == APP


def test_the_windows_package_tells_the_codex_app_from_the_plain_chatgpt_app() -> None:
    apps = "C:\\Program Files\\WindowsApps"
    codex = f"{apps}\\OpenAI.Codex_26.1.0.0_x64__2p2nqsd0c76g0\\app\\ChatGPT.exe"
    beta = f"{apps}\\OpenAI.CodexBeta_26.2.0.0_x64__2p2nqsd0c76g0\\app\\ChatGPT.exe"
    chat = f"{apps}\\OpenAI.ChatGPT-Desktop_1.2026.0.0_x64__2p2nqsd0c76g0\\app\\ChatGPT.exe"
    assert classify_process("ChatGPT.exe", codex, [codex]) == APP
    assert classify_process("ChatGPT.exe", beta, [beta]) == APP
    assert classify_process("ChatGPT.exe", chat, [chat]) is None


def test_a_refusal_names_the_process() -> None:
    process = CodexProcess(pid=812, name="ChatGPT", kind=APP, exe="/Applications/ChatGPT.app")
    assert process.describe() == "ChatGPT (pid 812, desktop app)"


@pytest.mark.parametrize(
    "where",
    [
        pytest.param("mac", id="ChatGPT.app"),
        pytest.param("mac-helper", id="ChatGPT-Helper"),
        pytest.param("linux", id="chatgpt"),
    ],
)
def test_the_running_renamed_app_blocks_a_fix(
    codex_home: Path, store_root: Path, cli: CliRunner, tmp_path: Path, where: str
) -> None:
    if where == "linux":
        exe = tmp_path / "opt" / "ChatGPT" / "chatgpt"
    else:
        app = bundle(tmp_path, "com.openai.codex")
        exe = app / (MAC_EXE if where == "mac" else HELPER)
    state = (codex_home / ".codex-global-state.json").read_bytes()
    with running_as(exe) as proc:
        found = {p.pid: p for p in find_codex_processes()}
        assert found[proc.pid].kind == APP
        code, out, err = run(cli, "fix", "--yes")
        assert code == 5, out + err
        assert f"{found[proc.pid].name} (pid {proc.pid}, desktop app)" in err
        assert found[proc.pid].name.startswith(("ChatGPT", "chatgpt"))
    assert (codex_home / ".codex-global-state.json").read_bytes() == state
    assert not store_root.exists()


def test_the_plain_chatgpt_app_does_not_block_a_fix(
    codex_home: Path, cli: CliRunner, tmp_path: Path
) -> None:
    app = bundle(tmp_path, "com.openai.chat")
    with running_as(app / MAC_EXE) as proc:
        assert proc.pid not in {p.pid for p in find_codex_processes()}
        code, out, err = run(cli, "fix", "--yes")
    assert code == 0, out + err
