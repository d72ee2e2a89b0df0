"""desktop-singleton: the Linux app's stale single-instance lock goes when its pid is dead
(openai/codex #38254: "The profile appears to be in use by another Codex process")."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codexsnap.doctor.runtime_files import check_desktop_singleton
from codexsnap.errors import RecipeRefusedError
from codexsnap.recipes import Evidence, RecipeOptions, get_recipe
from tests.helpers import apply_recipe as apply
from tests.helpers import file_states, run
from tests.test_doctor_projects import one_check

NAMES = ("SingletonLock", "SingletonSocket", "SingletonCookie")
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux app only")


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def lock_profile(pid: int, host: str | None = None) -> Path:
    """The profile as Chromium leaves it: three links, the lock naming host and pid."""
    profile = Path(os.environ["XDG_CONFIG_HOME"]) / "Codex"
    profile.mkdir(parents=True, exist_ok=True)
    os.symlink(f"{host or socket.gethostname()}-{pid}", profile / "SingletonLock")
    os.symlink("/tmp/.org.chromium.Chromium.a1B2c3/SingletonSocket", profile / "SingletonSocket")
    os.symlink("12345678901234567890", profile / "SingletonCookie")
    return profile


def present(profile: Path) -> list[str]:
    return [n for n in NAMES if os.path.lexists(profile / n)]


def test_a_dead_apps_lock_is_removed_and_the_home_is_untouched(
    codex_home: Path, store_root: Path, cli: CliRunner
) -> None:
    profile = lock_profile(dead_pid())
    code, out, _ = run(cli, "fix", "desktop-singleton", "--dry-run")
    assert code == 0 and "@codex-profile/SingletonLock" in out and present(profile) == list(NAMES)
    before = file_states(codex_home)
    result = apply(codex_home, store_root, "desktop-singleton")
    assert present(profile) == [] and result.changed
    assert result.restorable == ()  # runtime files: nothing to undo
    assert file_states(codex_home) == before
    assert apply(codex_home, store_root, "desktop-singleton").report.empty
    code, _, err = run(cli, "undo", "--yes")
    assert code == 7 and "nothing to undo" in err


def test_a_live_pid_or_another_host_is_refused(codex_home: Path, store_root: Path) -> None:
    profile = lock_profile(os.getpid())
    with pytest.raises(RecipeRefusedError, match="alive"):
        apply(codex_home, store_root, "desktop-singleton")
    assert present(profile) == list(NAMES)
    (profile / "SingletonLock").unlink()
    os.symlink(f"other-host-{dead_pid()}", profile / "SingletonLock")
    with pytest.raises(RecipeRefusedError, match="other-host"):
        apply(codex_home, store_root, "desktop-singleton")
    assert present(profile) == list(NAMES)


def test_other_systems_are_refused() -> None:
    recipe = get_recipe("desktop-singleton")
    with pytest.raises(RecipeRefusedError, match="Linux"):
        recipe.plan({}, RecipeOptions(), Evidence(platform="darwin"))


def test_doctor_names_the_cure_for_a_dead_apps_lock_only(
    codex_home: Path, store_root: Path
) -> None:
    assert one_check(codex_home, store_root, check_desktop_singleton).status == "ok"
    profile = lock_profile(dead_pid())
    check = one_check(codex_home, store_root, check_desktop_singleton)
    assert check.status == "problem" and "#38254" in check.evidence
    assert check.cure == "codexsnap fix desktop-singleton"
    (profile / "SingletonLock").unlink()
    os.symlink(f"{socket.gethostname()}-{os.getpid()}", profile / "SingletonLock")
    assert one_check(codex_home, store_root, check_desktop_singleton).status == "ok"
