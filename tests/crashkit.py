"""The machinery of the crash suite (tests/test_crash.py): kill codexsnap, then judge the wreck.

A *lab* is one home and one store at fixed paths (the store names a home by its path), plus a
template copy of both taken once. Each trial copies the template back, runs one codexsnap
command in its own process and kills it (SIGKILL at a fault point or after a delay) or
interrupts it (Ctrl-C on a pseudo-terminal), then checks what it left behind.
"""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from codexsnap.store import home_id
from tests.helpers import git_in_store

REPO = Path(__file__).resolve().parents[1]
SQLITE_MAGIC = b"SQLite format 3\x00"
# SQLite's sidecars (their rows are judged through the database) and codexsnap's own
# unfinished temporary files (never in scope; the next run removes them, checked apart).
SIDE_FILES = ("-wal", "-shm", "-journal", ".codexsnap-tmp")
TEMP_SUFFIX = ".codexsnap-tmp"
PROMPT = "Apply these changes? [y/N]: "  # the last space is input()'s own: it is reading
# A person presses Ctrl-C some time after the question appears. Pressed within microseconds,
# SIGINT can land between input()'s last check for signals and its blocking read, and
# CPython only raises KeyboardInterrupt once that read returns: a harness artefact.
REACTION = 0.3
HUNG = 60.0  # seconds: a run this long is stuck (an uninterrupted one takes about one)

# Runs codexsnap with its fault points counted. CODEXSNAP_CRASH_ARM="kill:<point>:<n>" arms
# codexsnap's own fault (CODEXSNAP_TEST_FAULT=kill:<point>) for the n-th time the run reaches
# that point only; "sigint:<point>:<n>" sends this process a real SIGINT there instead, and
# "sigint-group:<point>:<n>" sends it to the whole process group, git children included, as a
# terminal's Ctrl-C does.
# CODEXSNAP_CRASH_CENSUS=<file> records every point reached, in order, and when (the
# system-wide monotonic clock, comparable with the parent's), when the run ends.
LAUNCHER = """
import os, signal, sys, time
import codexsnap.faults as faults
action, _, rest = os.environ.pop("CODEXSNAP_CRASH_ARM", "").partition(":")
point, _, nth = rest.rpartition(":")
census = os.environ.pop("CODEXSNAP_CRASH_CENSUS", "")
slow_point, _, pause = os.environ.pop("CODEXSNAP_CRASH_SLOW", "").partition(":")
original, reached, times, seen = faults.fault_point, [], [], {}
def counted(name):
    reached.append(name)
    times.append(time.monotonic())
    if name == slow_point:
        time.sleep(float(pause))
    seen[name] = seen.get(name, 0) + 1
    if name != point or seen[name] != int(nth):
        return
    if action == "sigint":
        os.kill(os.getpid(), signal.SIGINT)
        return
    if action == "sigint-group":
        os.killpg(os.getpgrp(), signal.SIGINT)
        return
    os.environ["CODEXSNAP_TEST_FAULT"] = f"{action}:{name}"
    try:
        original(name)
    finally:
        os.environ.pop("CODEXSNAP_TEST_FAULT", None)
faults.fault_point = counted  # before any module binds it with `from ... import`
if census:
    import atexit, json
    atexit.register(lambda: open(census, "w").write(json.dumps([reached, times])))
from codexsnap.cli import main
sys.argv = ["codexsnap", *sys.argv[1:]]
main()
"""

# Runs codexsnap and SIGKILLs it the instant it creates a file whose name holds
# CODEXSNAP_CRASH_FILE, before a byte is written: a step no fault point marks. Both ways of
# creating a file are watched (open() and os.open()), so the kill follows the file whether
# it is written in place or through a temporary file and a rename.
KILL_WHEN_CREATED = """
import io, os, signal, sys
name = os.environ.pop("CODEXSNAP_CRASH_FILE")
real_open, real_os_open = io.open, os.open
def _die_if_ours(path):
    if name in os.path.basename(os.fsdecode(path)):
        os.kill(os.getpid(), signal.SIGKILL)
def watched_open(file, mode="r", *args, **kwargs):
    handle = real_open(file, mode, *args, **kwargs)
    if isinstance(file, (str, bytes, os.PathLike)) and any(c in mode for c in "wax+"):
        _die_if_ours(file)
    return handle
def watched_os_open(path, flags, *args, **kwargs):
    fd = real_os_open(path, flags, *args, **kwargs)
    if flags & (os.O_WRONLY | os.O_RDWR):
        _die_if_ours(path)
    return fd
io.open, os.open = watched_open, watched_os_open
from codexsnap.cli import main
sys.argv = ["codexsnap", *sys.argv[1:]]
main()
"""

# kind, content (bytes, a link's target, or a database's SQL dump), mode
Version = tuple[str, bytes, int]
States = dict[str, Version]


# ----- the home and the store as seen after a crash ------------------------------------


def sqlite_content(path: Path) -> Version:
    """A database's rows as SQL, read from a copy with its -wal: ("sqlite!", why) if damaged."""
    mode = stat.S_IMODE(path.lstat().st_mode)
    with tempfile.TemporaryDirectory(prefix="crash-db-") as scratch:
        copy = Path(scratch) / "db.sqlite"
        shutil.copyfile(path, copy)
        wal = path.with_name(path.name + "-wal")
        if wal.exists():
            shutil.copyfile(wal, Path(scratch) / "db.sqlite-wal")
        try:
            db = sqlite3.connect(copy)
            try:
                verdict = db.execute("PRAGMA integrity_check").fetchall()
                if verdict != [("ok",)]:
                    return ("sqlite!", f"integrity_check: {verdict}".encode(), mode)
                return ("sqlite", "\n".join(db.iterdump()).encode(), mode)
            finally:
                db.close()
        except sqlite3.DatabaseError as exc:
            return ("sqlite!", f"{type(exc).__name__}: {exc}".encode(), mode)


def home_states(home: Path) -> States:
    """Every file and link of the home, in scope or not: databases by content, not bytes.

    A database's bytes change when any connection checkpoints its -wal (codexsnap's writer
    probe does), its rows do not; its -wal and -shm are therefore read through it.
    """
    states: States = {}
    for folder, dirs, files in os.walk(home):
        base = Path(folder)
        for name in [*files, *dirs]:
            path = base / name
            relpath = path.relative_to(home).as_posix()
            st = path.lstat()
            if name.endswith(SIDE_FILES):
                continue
            if stat.S_ISLNK(st.st_mode):
                states[relpath] = ("link", os.fsencode(os.readlink(path)), 0)
            elif stat.S_ISREG(st.st_mode):
                data = path.read_bytes()
                if data.startswith(SQLITE_MAGIC):
                    states[relpath] = sqlite_content(path)
                else:
                    states[relpath] = ("file", data, stat.S_IMODE(st.st_mode))
    return states


def leftover_temp_files(home: Path) -> list[str]:
    """codexsnap's unfinished temporary files anywhere in the home."""
    return sorted(
        path.relative_to(home).as_posix()
        for path in home.rglob(f"*{TEMP_SUFFIX}")
        if path.is_symlink() or not path.is_dir()
    )


def describe(version: Version | None) -> str:
    if version is None:
        return "absent"
    kind, data, mode = version
    return f"{kind} {oct(mode)} {data[:60]!r}{'...' if len(data) > 60 else ''}"


def not_old_or_new(found: States, allowed: Sequence[States]) -> list[str]:
    """Paths whose version is none of the allowed ones (absence is a version too)."""
    paths = sorted(set(found).union(*allowed))
    return [
        f"{path}: {describe(found.get(path))} is no allowed version"
        for path in paths
        if all(found.get(path) != states.get(path) for states in allowed)
    ]


def parse_problems(states: States) -> list[str]:
    """Files that no longer parse: JSON, JSON lines, TOML, damaged databases."""
    problems: list[str] = []
    for path, (kind, data, _) in states.items():
        name = path.rsplit("/", 1)[-1]
        if kind == "sqlite!":
            problems.append(f"{path}: damaged database ({data.decode(errors='replace')})")
        if kind != "file":
            continue
        try:
            if name.endswith((".json", ".json.bak")):
                json.loads(data)
            elif name.endswith(".jsonl"):
                for line in data.splitlines():
                    if line.strip():
                        json.loads(line)
            elif name.endswith(".toml"):
                tomllib.loads(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: does not parse ({type(exc).__name__}: {exc})")
    return problems


def home_ref(home: Path) -> str:
    return f"refs/codexsnap/homes/{home_id(home)}"


def snapshot_ids(store: Path, home: Path) -> set[str]:
    """Every snapshot reachable from this home's ref (empty when there is no ref)."""
    listed = git_in_store(store, "rev-list", home_ref(home))
    return set(listed.stdout.split()) if listed.returncode == 0 else set()


def store_exists(store: Path) -> bool:
    """True once codexsnap's marker is written: before that, the next run starts afresh."""
    return (store / "codexsnap-store.json").exists()


def fsck_problems(store: Path) -> list[str]:
    """What ``git fsck --full`` finds wrong; objects left dangling by a killed run are harmless."""
    checked = git_in_store(store, "fsck", "--full", "--no-dangling", "--no-progress")
    lines = [
        line
        for line in (checked.stdout + checked.stderr).splitlines()
        if line.strip() and not line.startswith("notice:")
    ]
    if checked.returncode != 0 and not lines:
        lines = [f"git fsck exited with {checked.returncode}"]
    return lines


def journal_files(store: Path) -> list[Path]:
    """Journals of interrupted operations waiting in the store."""
    folder = store / "journal"
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def git_lock_files(store: Path) -> list[str]:
    return sorted(str(p.relative_to(store)) for p in (store / "repo.git").rglob("*.lock"))


# ----- copies -----------------------------------------------------------------------------


def _copy_entry(source: str, destination: str) -> None:
    mode = os.lstat(source).st_mode
    if stat.S_ISSOCK(mode):  # the app server's socket: copy2 cannot open it
        os.mknod(destination, stat.S_IFSOCK | stat.S_IMODE(mode))
        return
    shutil.copy2(source, destination)


def copy_tree(source: Path, destination: Path) -> None:
    """A faithful copy: links stay links, sockets stay sockets, modes and times are kept."""
    shutil.copytree(source, destination, symlinks=True, copy_function=_copy_entry)


def replace_tree(source: Path, destination: Path) -> None:
    shutil.rmtree(destination, ignore_errors=True)
    copy_tree(source, destination)


# ----- running codexsnap ------------------------------------------------------------------


@dataclass(frozen=True)
class Lab:
    """A home and a store at fixed paths, and the template both are reset from."""

    root: Path

    @property
    def home(self) -> Path:
        return self.root / "slot" / "codex-home"

    @property
    def store(self) -> Path:
        return self.root / "slot" / "store"

    @property
    def user_home(self) -> Path:
        return self.root / "slot" / "user-home"

    @property
    def sqlite_home(self) -> Path:
        """A SQLite home outside the Codex home (WSL), for the labs whose template has one."""
        return self.root / "slot" / "sqlite-home"

    @property
    def template(self) -> Path:
        return self.root / "template"

    def states(self) -> States:
        """The home's states, and an outside SQLite home's as ``@sqlite/<name>``."""
        found = home_states(self.home)
        if self.sqlite_home.exists():
            outside = home_states(self.sqlite_home)
            found.update({f"@sqlite/{relpath}": state for relpath, state in outside.items()})
        return found

    def env(self) -> dict[str, str]:
        """The environment of a codexsnap run on this lab, isolated like the test's own."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "CODEX"))}
        env.update(
            HOME=str(self.user_home),
            USERPROFILE=str(self.user_home),
            CODEX_HOME=str(self.home),
            CODEXSNAP_STORE=str(self.store),
            # Only Codex processes started under pytest count, never a developer's app.
            CODEXSNAP_TEST_PROCESS_ROOT=str(os.getpid()),
            PYTHONFAULTHANDLER="1",  # a run found stuck shows where
        )
        return env

    def flags(self) -> list[str]:
        return ["--codex-home", str(self.home), "--store", str(self.store)]

    def save_template(self) -> None:
        """Copy the home and the store (if there is one yet) aside."""
        shutil.rmtree(self.template, ignore_errors=True)
        self.template.mkdir(parents=True)
        copy_tree(self.home, self.template / "codex-home")
        if self.store.exists():
            copy_tree(self.store, self.template / "store")
        if self.sqlite_home.exists():
            copy_tree(self.sqlite_home, self.template / "sqlite-home")

    def reset(self) -> None:
        """Put the template's home and store back at the lab's paths."""
        replace_tree(self.template / "codex-home", self.home)
        shutil.rmtree(self.store, ignore_errors=True)
        if (self.template / "store").exists():
            copy_tree(self.template / "store", self.store)
        if (self.template / "sqlite-home").exists():
            replace_tree(self.template / "sqlite-home", self.sqlite_home)


def codexsnap(lab: Lab, *args: str) -> subprocess.CompletedProcess[str]:
    """Run codexsnap to completion in its own process."""
    return launched(lab, "-m", "codexsnap", *args)


def launched(lab: Lab, *argv: str) -> subprocess.CompletedProcess[str]:
    """Run ``python argv`` (``-m codexsnap ...``, or ``-c <launcher> ...``) to completion."""
    return subprocess.run(
        [sys.executable, *argv],
        env=lab.env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@dataclass
class Run:
    """How one interrupted (or not) run ended."""

    returncode: int
    output: str
    seconds: float
    reached: list[str] = field(default_factory=list)
    times: list[float] = field(default_factory=list)  # seconds from the start, per point

    @property
    def killed(self) -> bool:
        return self.returncode == -signal.SIGKILL


def _settle(session: int, timeout: float = 20.0) -> None:
    """Wait for what the dead run left running (a git child finishing its step), then end it.

    Orphans keep running after their parent is killed, exactly as they would for a user;
    the next command is only started once they are gone.
    """
    deadline = time.monotonic() + timeout
    while True:
        alive = []
        for proc in psutil.process_iter(["pid", "status"]):
            try:
                if proc.info["status"] != psutil.STATUS_ZOMBIE and os.getsid(proc.pid) == session:
                    alive.append(proc.pid)
            except (ProcessLookupError, PermissionError):
                continue
        if not alive:
            return
        if time.monotonic() > deadline:
            for pid in alive:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            return
        time.sleep(0.01)


def run_armed(lab: Lab, args: Sequence[str], arm: str = "", census: Path | None = None) -> Run:
    """Run codexsnap through the launcher, its fault armed as ``arm`` (see LAUNCHER)."""
    env = lab.env()
    if arm:
        env["CODEXSNAP_CRASH_ARM"] = arm
    if census is not None:
        env["CODEXSNAP_CRASH_CENSUS"] = str(census)
    started, clock = time.perf_counter(), time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, *args],
        env=env,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    out, _ = proc.communicate(timeout=120)
    seconds = time.perf_counter() - started
    _settle(proc.pid)
    reached, times = [], []
    if census is not None and census.exists():
        reached, stamps = json.loads(census.read_text())
        times = [stamp - clock for stamp in stamps]
    return Run(proc.returncode, out.decode(errors="replace"), seconds, reached, times)


def run_timed_kill(
    lab: Lab, args: Sequence[str], delay: float, whole_group: bool, slow: str = ""
) -> Run:
    """SIGKILL ``codexsnap args`` after ``delay`` seconds: the process, or all it started.

    ``slow`` ("<point>:<seconds>") pauses the run at that fault point each time, as a slow
    disk would: a timer then has room to land between two home writes on a loaded machine.
    """
    started = time.perf_counter()
    env = lab.env()
    command = [sys.executable, "-m", "codexsnap", *args]
    if slow:
        env["CODEXSNAP_CRASH_SLOW"] = slow
        command = [sys.executable, "-c", LAUNCHER, *args]
    proc = subprocess.Popen(
        command,
        env=env,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        if whole_group:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            os.kill(proc.pid, signal.SIGKILL)
    out, _ = proc.communicate(timeout=120)
    seconds = time.perf_counter() - started
    _settle(proc.pid)
    return Run(proc.returncode, out.decode(errors="replace"), seconds)


def run_in_terminal(
    lab: Lab,
    argv: Sequence[str],
    *,
    ctrl_c_at_prompt: bool = False,
    ctrl_c_after: float | None = None,
    env_extra: dict[str, str] | None = None,
) -> Run:
    """Run ``argv`` on a pseudo-terminal and press Ctrl-C at the prompt or after a delay.

    Ctrl-C is what a terminal makes of it: SIGINT to the whole foreground process group,
    codexsnap and any git process it is waiting for.
    """
    master, terminal = pty.openpty()
    started = time.perf_counter()
    proc = subprocess.Popen(
        list(argv),
        env={**lab.env(), **(env_extra or {})},
        cwd=REPO,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        start_new_session=True,
    )
    os.close(terminal)
    output = b""
    pressed = aborted = False
    asked: float | None = None  # when the prompt appeared
    try:
        while True:
            elapsed = time.perf_counter() - started
            if elapsed > HUNG and not aborted:  # PYTHONFAULTHANDLER: its stack goes in the output
                os.killpg(proc.pid, signal.SIGABRT)
                aborted = True
            elif elapsed > 2 * HUNG:
                os.killpg(proc.pid, signal.SIGKILL)
            wait = 0.05
            if ctrl_c_after is not None and not pressed:
                wait = min(wait, max(0.0, ctrl_c_after - elapsed))
            ready, _, _ = select.select([master], [], [], wait)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: no process holds the terminal any more
                    chunk = b""
                if not chunk:
                    break
                output += chunk
            elif proc.poll() is not None:
                break
            if pressed:
                continue
            if ctrl_c_at_prompt and asked is None and PROMPT.encode() in output:
                asked = time.perf_counter()
            at_prompt = asked is not None and time.perf_counter() - asked >= REACTION
            rang = ctrl_c_after is not None and time.perf_counter() - started >= ctrl_c_after
            if at_prompt or rang:
                try:
                    os.killpg(proc.pid, signal.SIGINT)
                except ProcessLookupError:
                    pass
                pressed = True
    finally:
        returncode = proc.wait(timeout=120)
        os.close(master)
    seconds = time.perf_counter() - started
    _settle(proc.pid)
    return Run(returncode, output.decode(errors="replace"), seconds)
