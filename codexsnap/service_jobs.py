"""The per-user background job that runs ``codexsnap watch`` from login: its file and the
service manager's commands, for systemd (Linux), launchd (macOS) and Task Scheduler (Windows).

Pure: nothing here writes a file or runs a command (commands/protect.py does both), so the
three systems' files can be built and checked on any of them.
"""

from __future__ import annotations

import os
import plistlib
import subprocess
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from codexsnap.home import JobPlaces
from codexsnap.store.index import home_id

PLATFORMS = ("linux", "macos", "windows")


@dataclass(frozen=True)
class Job:
    """One home's watcher job on one system."""

    platform: str
    name: str  # the unit, label or task name
    path: Path  # the one file protect writes and unprotect removes
    content: bytes
    probe: tuple[str, ...]  # exit 0: a service manager runs for this user
    enable: tuple[tuple[str, ...], ...]  # run after the file is written
    disable: tuple[tuple[str, ...], ...]  # run before the file is removed
    status: tuple[str, ...]  # prints whether the job runs


def installed_job(home: Path, platform: str, places: JobPlaces) -> Job | None:
    """The job protect wrote for this home, if its file is there (nothing is run)."""
    job = build_job(platform, home, ["codexsnap"], places)
    return job if job.path.is_file() else None


def job_name(home: Path) -> str:
    """One job per Codex home: two homes can both be protected."""
    return f"codexsnap-watch-{home_id(home)[:8]}"


def watch_command(executable: list[str], home: Path, store: Path, sqlite: Path | None) -> list[str]:
    """The command line of the job: the same codexsnap, home and store, all absolute."""
    args = [*executable, "watch", "--codex-home", str(home), "--store", str(store)]
    return args + (["--codex-sqlite-home", str(sqlite)] if sqlite is not None else [])


def build_job(platform: str, home: Path, argv: list[str], places: JobPlaces) -> Job:
    """The job for ``platform`` running ``argv``."""
    name = job_name(home)
    about = f"codexsnap watch: automatic snapshots of the Codex home {home}"
    if platform == "macos":
        return _launch_agent(name, about, argv, places)
    if platform == "windows":
        return _scheduled_task(name, about, argv, places)
    return _systemd_unit(name, about, argv, places)


def _systemd_unit(name: str, about: str, argv: list[str], places: JobPlaces) -> Job:
    unit = f"{name}.service"
    text = (
        "# Written by `codexsnap protect`; `codexsnap unprotect` removes it.\n"
        "[Unit]\n"
        f"Description={_systemd_text(about)}\n"
        "\n[Service]\n"
        "Type=simple\n"
        f"ExecStart={' '.join(_systemd_word(a) for a in argv)}\n"
        # A crash or a store that cannot be opened yet: try again, without hammering.
        "Restart=on-failure\n"
        "RestartSec=30\n"
        "Nice=10\n"
        "IOSchedulingClass=idle\n"
        "\n[Install]\n"
        "WantedBy=default.target\n"
    )
    user = ("systemctl", "--user")
    return Job(
        "linux",
        unit,
        places.systemd_user / unit,
        text.encode("utf-8"),
        probe=(*user, "show-environment"),
        enable=((*user, "daemon-reload"), (*user, "enable", "--now", unit)),
        disable=((*user, "disable", "--now", unit),),
        status=(*user, "is-active", unit),
    )


def _systemd_word(arg: str) -> str:
    """One argument of ExecStart: quoted, with systemd's specifiers and variables escaped."""
    quoted = arg.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + _systemd_text(quoted) + '"'


def _systemd_text(text: str) -> str:
    return text.replace("%", "%%").replace("$", "$$").replace("\n", " ")


def _launch_agent(name: str, about: str, argv: list[str], places: JobPlaces) -> Job:
    label = f"io.github.codexsnap.{name.removeprefix('codexsnap-')}"
    log = str(places.mac_logs / f"{name}.log")
    plist = {
        "Label": label,
        "ProgramArguments": argv,
        "RunAtLoad": True,
        # Started again after a crash, not after a clean stop (unprotect, logout).
        "KeepAlive": {"SuccessfulExit": False},
        "ThrottleInterval": 30,
        "ProcessType": "Background",
        "LowPriorityIO": True,
        "StandardOutPath": log,
        "StandardErrorPath": log,
        "Comment": about,
    }
    path = places.launch_agents / f"{label}.plist"
    domain = f"gui/{os.getuid() if hasattr(os, 'getuid') else 0}"
    return Job(
        "macos",
        label,
        path,
        plistlib.dumps(plist, sort_keys=False),
        probe=("launchctl", "print", domain),
        enable=(("launchctl", "bootstrap", domain, str(path)),),
        disable=(("launchctl", "bootout", f"{domain}/{label}"),),
        status=("launchctl", "print", f"{domain}/{label}"),
    )


def _scheduled_task(name: str, about: str, argv: list[str], places: JobPlaces) -> Job:
    user = escape(places.windows_user)
    arguments = escape(subprocess.list2cmdline(argv[1:]))
    text = f"""<?xml version="1.0" encoding="UTF-16"?>
<!-- Written by `codexsnap protect`; `codexsnap unprotect` removes it. -->
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>{escape(about)}</Description>
  </RegistrationInfo>
  <Triggers>
    <LogonTrigger>
      <Enabled>true</Enabled>
      <UserId>{user}</UserId>
    </LogonTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <UserId>{user}</UserId>
      <LogonType>InteractiveToken</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <RestartOnFailure>
      <Interval>PT1M</Interval>
      <Count>999</Count>
    </RestartOnFailure>
    <Priority>7</Priority>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>{escape(argv[0])}</Command>
      <Arguments>{arguments}</Arguments>
    </Exec>
  </Actions>
</Task>
"""
    path = places.task_folder / f"{name}.xml"
    task = f"\\codexsnap\\{name}"
    return Job(
        "windows",
        task,
        path,
        # Task Scheduler reads its XML as UTF-16 (with the byte order mark).
        text.encode("utf-16"),
        probe=("schtasks", "/?"),
        enable=(
            ("schtasks", "/Create", "/TN", task, "/XML", str(path), "/F"),
            ("schtasks", "/Run", "/TN", task),
        ),
        disable=(("schtasks", "/End", "/TN", task), ("schtasks", "/Delete", "/TN", task, "/F")),
        status=("schtasks", "/Query", "/TN", task, "/FO", "LIST"),
    )
