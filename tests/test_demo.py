"""codexsnap demo: the whole cycle on a throwaway home."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codexsnap.demo_home import write_revocation_log
from tests.helpers import run
from tests.test_safety import running


def test_demo_walks_through_and_touches_nothing_of_the_user(cli: CliRunner, tmp_path: Path) -> None:
    user_home = Path.home()
    before = sorted(p.as_posix() for p in user_home.rglob("*"))
    code, out, err = run(cli, "demo")
    assert code == 0, out + err
    for step in (
        "codexsnap doctor",
        "codexsnap fix --yes",
        "codexsnap history",
        "codexsnap undo --yes",
        "remote-control-revoked",
        "Snapshot before:",
        "Restored",
        "Your own Codex home was not touched",
    ):
        assert step in out, step
    assert sorted(p.as_posix() for p in user_home.rglob("*")) == before
    assert not (tmp_path / "store").exists() and not (tmp_path / "codex-home").exists()


def test_demo_is_sealed_off_from_this_machine(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The user's own desktop logs, a running Codex app and a CODEX_SQLITE_HOME elsewhere.
    real_logs = Path.home() / ".config" / "Codex" / "logs"
    log = write_revocation_log(real_logs)
    log.write_text(log.read_text().replace("Remote-control", "REAL-MACHINE Remote-control"))
    profile = Path.home() / ".config" / "Codex"  # XDG_CONFIG_HOME points there in tests
    (profile / "SingletonLock").symlink_to("realhost-4242")
    elsewhere = tmp_path / "real-sqlite"
    elsewhere.mkdir()
    monkeypatch.setenv("CODEX_SQLITE_HOME", str(elsewhere))
    exe = tmp_path / "Codex"
    shutil.copy("/bin/sleep", exe)
    with running([str(exe), "30"]) as proc:
        code, out, err = run(cli, "demo")
    assert code == 0, out + err
    assert str(real_logs) not in out and "REAL-MACHINE" not in out
    assert str(elsewhere) not in out and str(profile) not in out and "realhost" not in out
    assert f"pid {proc.pid}" not in out + err and "Warning:" not in err
    assert "no Codex desktop app or app server is running" in out
    assert "--force" not in out


def test_ctrl_c_in_a_demo_step_ends_the_demo_with_130(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The interrupted step said so, then the demo ran its other steps and exited 0."""

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("codexsnap.commands.fix.fix", interrupted)
    code, out, err = run(cli, "demo")
    assert code == 130, out + err
    assert err.strip().splitlines()[-1] == (
        "Interrupted: nothing written; the Codex home is as it was."
    )
    assert "== 3." not in out and "Your own Codex home was not touched" not in out
