"""Terminal output: colours and tables for a person, plain text for pipes and NO_COLOR."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codexsnap.cli.console import paint_report_line, paint_status
from codexsnap.home import color_allowed
from tests.helpers import run


def on_a_terminal(*args: str) -> str:
    """Run codexsnap with stdout on a pseudo-terminal and return what it showed."""
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["TERM"] = "xterm-256color"
    done = subprocess.run(
        [sys.executable, "-m", "codexsnap", *args],
        stdout=follower,
        stderr=subprocess.PIPE,
        env=env,
        check=False,
        timeout=60,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert done.returncode in (0, 1), done.stderr
    return b"".join(chunks).decode("utf-8", "replace")


def test_painting_marks_changes_and_statuses() -> None:
    assert "\x1b[" in paint_report_line("  + added: 1")
    assert "\x1b[" in paint_report_line("config.toml  (modified, toml)")
    assert paint_report_line("      nested: 1") == "      nested: 1"
    assert "\x1b[31m" in paint_status("problem")


def test_no_color_and_pipes_get_plain_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert color_allowed() is False


def test_a_terminal_gets_a_table_and_colours(cli: CliRunner, codex_home: Path) -> None:
    assert run(cli, "fix", "--yes")[0] == 0
    shown = on_a_terminal("history")
    assert "\x1b[" in shown  # styled header
    assert "remote-control" in shown and "files" in shown and "before" in shown
    piped = subprocess.run(
        [sys.executable, "-m", "codexsnap", "history"], capture_output=True, text=True, check=True
    )
    assert "\x1b[" not in piped.stdout and "fix remote-control" in piped.stdout
