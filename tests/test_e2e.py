"""The installed entry points, run as a user runs them: separate processes, real environment."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from codexsnap import __version__
from tests.helpers import file_states

GLOBAL = ".codex-global-state.json"
ENROLL = "electron-remote-control-client-enrollments"


def _environment(tmp_path: Path, codex_home: Path, store_root: Path) -> dict[str, str]:
    env = dict(os.environ)  # already isolated by conftest: XDG_* in tmp_path, no GIT_*
    env.update(
        CODEX_HOME=str(codex_home),
        CODEXSNAP_STORE=str(store_root),
        HOME=str(tmp_path / "user-home"),
    )
    return env


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        command,
        env=env,
        stdin=subprocess.DEVNULL,  # no terminal: nothing may wait for an answer
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"{command}: exit {done.returncode}\n{done.stdout}{done.stderr}"
    assert "Traceback" not in done.stderr
    return done


def _json(command: list[str], env: dict[str, str]) -> Any:
    done = _run([*command, "--json"], env)
    assert done.stderr == ""
    return json.loads(done.stdout)


def test_installed_script_fixes_lists_rolls_back_and_undoes(
    tmp_path: Path, codex_home: Path, store_root: Path
) -> None:
    script = shutil.which("codexsnap")
    if script is None:
        pytest.skip("the codexsnap console script is not on PATH (run 'pip install -e .')")
    env = _environment(tmp_path, codex_home, store_root)
    original = file_states(codex_home)

    # --force: a Codex app open on the developer's machine must not fail this test; the
    # refusal itself is tested in test_cli.py.
    fix = _json([script, "fix", "--yes", "--force"], env)
    assert fix["changed"] is True
    assert ENROLL not in json.loads((codex_home / GLOBAL).read_bytes())
    fixed = file_states(codex_home)
    assert fixed != original

    history = _json([script, "history"], env)
    assert [s["operation"] for s in history] == ["after-fix", "before-fix"]
    assert history[1]["id"] == fix["snapshot_before"]

    rollback = _json([script, "rollback", fix["snapshot_before"], "--yes", "--force"], env)
    assert rollback["changed"] is True
    assert file_states(codex_home) == original

    undo = shlex.split(rollback["undo"])
    assert undo[:2] == ["codexsnap", "rollback"]
    _run([script, *undo[1:], "--yes", "--force"], env)
    assert file_states(codex_home) == fixed
    assert store_root.is_dir() and not (codex_home / "repo.git").exists()


def test_python_dash_m_prints_the_version(
    tmp_path: Path, codex_home: Path, store_root: Path
) -> None:
    env = _environment(tmp_path, codex_home, store_root)
    done = _run([sys.executable, "-m", "codexsnap", "--version"], env)
    assert done.stdout == f"codexsnap {__version__}\n"
    assert done.stderr == ""
