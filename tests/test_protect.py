"""codexsnap protect / unprotect / protect --status: the job files, without a service manager.

The systems' tools are never run: the in-process tests pass a runner that answers as they
would, and the CLI tests put a fake ``systemctl`` first on PATH that logs what it was asked.
"""

from __future__ import annotations

import os
import plistlib
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from pathlib import Path

import pytest

from codexsnap.commands.protect import installed_codexsnap, protect, protection_status, unprotect
from codexsnap.errors import ServiceJobError
from codexsnap.home import job_places
from codexsnap.service_jobs import build_job, job_name


class FakeManager:
    """Answers like systemctl/launchctl/schtasks with a user manager running (or not)."""

    def __init__(self, running: bool = True, status: str = "active") -> None:
        self.running = running
        self.status = status
        self.asked: list[tuple[str, ...]] = []

    def __call__(self, args: Sequence[str]) -> tuple[int, str]:
        self.asked.append(tuple(args))
        if not self.running:
            return 1, "Failed to connect to bus: No medium found"
        if args[-2:-1] == ("is-active",) or "print" in args[1:2] or "/Query" in args:
            return 0, self.status
        return 0, ""


def test_linux_a_systemd_user_unit_enabled_then_removed(codex_home: Path, store_root: Path) -> None:
    manager = FakeManager()
    done = protect(codex_home, store_root, None, dry_run=False, platform="linux", run=manager)
    unit = f"{job_name(codex_home)}.service"
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "systemd" / "user" / unit
    assert done.job.path == path and done.manager and done.changed
    text = path.read_text()
    executable = installed_codexsnap("linux")
    assert Path(executable[0]).is_absolute()
    words = [*executable, "watch", "--codex-home", str(codex_home), "--store", str(store_root)]
    assert f"ExecStart={' '.join(f'{chr(34)}{w}{chr(34)}' for w in words)}\n" in text
    assert "WantedBy=default.target" in text and "Restart=on-failure" in text
    assert manager.asked == [
        ("systemctl", "--user", "show-environment"),
        ("systemctl", "--user", "daemon-reload"),
        ("systemctl", "--user", "enable", "--now", unit),
    ]
    status = protection_status(codex_home, store_root, None, platform="linux", run=manager)
    assert status.installed and status.current and status.running is True
    assert doctor_says(codex_home, store_root).startswith(f"protection on ({path}), but no")

    manager.asked.clear()
    removed = unprotect(codex_home, dry_run=False, platform="linux", run=manager)
    assert removed.changed and not path.exists()
    assert ("systemctl", "--user", "disable", "--now", unit) in manager.asked
    assert manager.asked[-1] == ("systemctl", "--user", "daemon-reload")
    again = protection_status(codex_home, store_root, None, platform="linux", run=manager)
    assert not again.installed and again.running is None
    assert doctor_says(codex_home, store_root).startswith("protection off")


def doctor_says(home: Path, store_root: Path) -> str:
    from codexsnap.commands.doctor import doctor
    from codexsnap.home import CodexHome

    result = doctor(CodexHome(home, "CODEX_HOME"), store_root, ())
    (check,) = [c for c in result.checks if c.name == "protection"]
    assert check.status == "ok"  # a hint, never a warning: most homes are not protected
    return check.evidence


def test_without_a_user_manager_the_unit_is_written_and_nothing_pretends(
    codex_home: Path, store_root: Path
) -> None:
    manager = FakeManager(running=False)
    done = protect(codex_home, store_root, None, dry_run=False, platform="linux", run=manager)
    assert done.job.path.is_file() and not done.manager and done.ran == ()
    assert manager.asked == [("systemctl", "--user", "show-environment")]
    status = protection_status(codex_home, store_root, None, platform="linux", run=manager)
    assert status.installed and status.running is None


def test_macos_a_launch_agent(codex_home: Path, store_root: Path, tmp_path: Path) -> None:
    manager = FakeManager(status="state = running")
    done = protect(codex_home, store_root, None, dry_run=False, platform="macos", run=manager)
    path = done.job.path
    assert path.parent == tmp_path / "user-home" / "Library" / "LaunchAgents"
    agent = plistlib.loads(path.read_bytes())
    assert agent["Label"] == path.stem and agent["RunAtLoad"] is True
    assert agent["ProgramArguments"] == [
        *installed_codexsnap("macos"),
        "watch",
        "--codex-home",
        str(codex_home),
        "--store",
        str(store_root),
    ]
    assert manager.asked[1][:2] == ("launchctl", "bootstrap")
    assert protection_status(codex_home, store_root, None, platform="macos", run=manager).running
    unprotect(codex_home, dry_run=False, platform="macos", run=manager)
    assert not path.exists() and manager.asked[-1][:2] == ("launchctl", "bootout")


def test_windows_a_scheduled_task_at_logon(
    codex_home: Path, store_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APPDATA", str(tmp_path / "user-home" / "AppData" / "Roaming"))
    monkeypatch.setenv("USERDOMAIN", "DESK")
    monkeypatch.setenv("USERNAME", "ana")
    manager = FakeManager(status="Status: Running")
    done = protect(codex_home, store_root, None, dry_run=False, platform="windows", run=manager)
    assert done.job.path.parent == tmp_path / "user-home" / "AppData" / "Roaming" / "codexsnap"
    ns = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}
    task = ElementTree.fromstring(done.job.path.read_bytes().decode("utf-16"))
    assert task.findtext("t:Triggers/t:LogonTrigger/t:UserId", namespaces=ns) == "DESK\\ana"
    assert (
        task.findtext("t:Actions/t:Exec/t:Command", namespaces=ns)
        == (installed_codexsnap("windows")[0])
    )
    arguments = task.findtext("t:Actions/t:Exec/t:Arguments", namespaces=ns) or ""
    assert f"--codex-home {codex_home} --store {store_root}" in arguments
    assert manager.asked[1][:2] == ("schtasks", "/Create")
    unprotect(codex_home, dry_run=False, platform="windows", run=manager)
    assert not done.job.path.exists() and manager.asked[-1][:2] == ("schtasks", "/Delete")


def test_paths_with_spaces_quotes_and_percent_signs_stay_one_argument(tmp_path: Path) -> None:
    odd = tmp_path / 'my "codex" 100%'
    job = build_job("linux", odd, ["/opt/code snap/bin/codexsnap", "watch", str(odd)], job_places())
    line = next(x for x in job.content.decode().splitlines() if x.startswith("ExecStart="))
    assert line == (
        f'ExecStart="/opt/code snap/bin/codexsnap" "watch" "{tmp_path!s}/my \\"codex\\" 100%%"'
    )


def test_dry_runs_write_nothing_and_unprotect_leaves_a_foreign_file(
    codex_home: Path, store_root: Path
) -> None:
    manager = FakeManager()
    planned = protect(codex_home, store_root, None, dry_run=True, platform="linux", run=manager)
    assert planned.dry_run and planned.changed and not planned.job.path.exists()
    assert manager.asked == [] and not store_root.exists()
    planned.job.path.parent.mkdir(parents=True)
    planned.job.path.write_text("[Service]\nExecStart=/usr/bin/something-else\n")
    with pytest.raises(ServiceJobError, match="not written by codexsnap protect"):
        unprotect(codex_home, dry_run=False, platform="linux", run=manager)
    assert planned.job.path.exists() and manager.asked == []


def _fake_systemctl(tmp_path: Path, manager: bool) -> tuple[dict[str, str], Path]:
    """A ``systemctl`` first on PATH that logs its arguments (the real one is never run)."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    log = tmp_path / "systemctl.log"
    script = bin_dir / "systemctl"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> "{log}"\n'
        f'[ "$2" = show-environment ] && exit {0 if manager else 1}\n'
        '[ "$2" = is-active ] && { echo active; exit 0; }\n'
        "exit 0\n"
    )
    script.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}, log


def _codexsnap(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codexsnap", *args], capture_output=True, text=True, env=env
    )


@pytest.mark.skipif(sys.platform != "linux", reason="the CLI picks this system's job kind")
def test_the_cli_protects_reports_and_unprotects(
    codex_home: Path, store_root: Path, tmp_path: Path
) -> None:
    env, log = _fake_systemctl(tmp_path, manager=True)
    dry = _codexsnap(env, "protect", "--dry-run")
    assert dry.returncode == 0 and "Would write" in dry.stdout and "ExecStart=" in dry.stdout
    assert not log.exists()
    done = _codexsnap(env, "protect")
    assert done.returncode == 0, done.stderr
    assert "Protection is on" in done.stdout
    unit = f"{job_name(codex_home)}.service"
    assert f"--user enable --now {unit}" in log.read_text()
    status = _codexsnap(env, "protect", "--status")
    assert status.returncode == 0
    assert "installed" in status.stdout and ", running." in status.stdout
    assert "Last automatic snapshot: none yet." in status.stdout
    gone = _codexsnap(env, "unprotect")
    assert gone.returncode == 0 and "Protection is off" in gone.stdout
    assert f"--user disable --now {unit}" in log.read_text()


@pytest.mark.skipif(sys.platform != "linux", reason="the CLI picks this system's job kind")
def test_the_cli_says_plainly_when_no_user_manager_runs(
    codex_home: Path, store_root: Path, tmp_path: Path
) -> None:
    env, log = _fake_systemctl(tmp_path, manager=False)
    done = _codexsnap(env, "protect")
    assert done.returncode == 0, done.stderr
    assert "is NOT running" in done.stdout and "systemctl --user enable --now" in done.stdout
    assert log.read_text() == "--user show-environment\n"
