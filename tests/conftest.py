"""Shared fixtures: every test runs on real files under tmp_path with a real git store."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.homebuilder import CodexHomeBuilder

_REAL_HOME = Path(os.path.expanduser("~")).resolve()

# A suite started in the background of a non-interactive shell (`cmd &`, nohup under
# `( ... &)`) inherits SIGINT ignored, and every codexsnap it starts inherits that too, so
# the tests that press Ctrl-C saw nothing happen (13 failures, exits -6 on their timeouts).
# A handled SIGINT is reset to its default by exec: the commands start as from a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point HOME, CODEX_HOME and the store into tmp_path and drop inherited git variables."""
    for name in list(os.environ):
        if name.startswith(("GIT_", "CODEX", "XDG_")) and name != "GIT_PYTHON_REFRESH":
            monkeypatch.delenv(name)
    user_home = tmp_path / "user-home"
    user_home.mkdir()
    monkeypatch.setenv("HOME", str(user_home))
    monkeypatch.setenv("USERPROFILE", str(user_home))
    monkeypatch.setenv("XDG_DATA_HOME", str(user_home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(user_home / ".config"))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex-home"))
    monkeypatch.setenv("CODEXSNAP_STORE", str(tmp_path / "store"))
    # Only Codex processes this test starts count: not a developer's app, not CI's.
    monkeypatch.setenv("CODEXSNAP_TEST_PROCESS_ROOT", str(os.getpid()))
    # The guard: nothing below may resolve to the developer's or CI's real home.
    assert Path.home().resolve() != _REAL_HOME
    yield
    assert Path.home().resolve() != _REAL_HOME


@pytest.fixture
def builder(tmp_path: Path) -> Iterator[CodexHomeBuilder]:
    """A realistic home builder writing to $CODEX_HOME; databases it holds open are closed."""
    home_builder = CodexHomeBuilder(tmp_path / "codex-home")
    yield home_builder
    home_builder.close()


@pytest.fixture
def codex_home(builder: CodexHomeBuilder) -> Path:
    """A realistic broken Codex home (revoked enrollment), with a WAL database held open."""
    return builder.build().resolve()


@pytest.fixture
def store_root(tmp_path: Path) -> Path:
    """Where the tests' snapshot store lives ($CODEXSNAP_STORE)."""
    return tmp_path / "store"


@pytest.fixture
def cli() -> CliRunner:
    """Typer's runner; stdout and stderr stay apart."""
    return CliRunner()
