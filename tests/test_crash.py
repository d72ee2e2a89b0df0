"""Crash injection: codexsnap killed (SIGKILL) or interrupted (Ctrl-C) anywhere in its run.

Each trial copies a realistic home and its store back from a template, runs ``fix``,
``fix --reset``, ``fix pairing-reset --with-db`` (a SQLite write), ``rollback`` (many files,
two databases, a link, a removal, a mode), ``snapshot`` or a first ``fix`` (the store made on
the way) in its own process, and stops it:

- at a fault point: every point the uninterrupted run reaches, each time it reaches it
  (CODEXSNAP_TEST_FAULT=kill:<point>, armed for that one occurrence by a launcher);
- after a delay spread over the measured length of an uninterrupted run, SIGKILL to the
  codexsnap process only (its git child finishes alone) or to its whole process group;
- with Ctrl-C on a pseudo-terminal: at the confirmation prompt, at fault points, after delays;
- a second time: ``recover`` itself killed at each of its fault points after a first kill.

After each one: every file of the home is its old or its new version, JSON/TOML parse and
databases pass integrity_check; ``git fsck`` is clean; no snapshot is lost; then ``recover``,
``history`` and the command again all succeed, say what they recovered, and leave the home
in its expected final state. Violations are counted, reported and asserted to be 0.

CI runs a fixed sample; ``python3 -m pytest tests/test_crash.py -m slow`` runs every trial
(``CODEXSNAP_CRASH_TRIALS=all`` does too). docs/reliability.md has the figures.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import psutil
import pytest
from typer.testing import CliRunner

from codexsnap.demo_data import PROJECT_IDS, fill_state, local_projects
from codexsnap.demo_data import THREADS as DEMO_THREADS
from tests.crashkit import (
    KILL_WHEN_CREATED,
    LAUNCHER,
    REPO,
    Lab,
    Run,
    States,
    codexsnap,
    fsck_problems,
    git_lock_files,
    home_ref,
    journal_files,
    leftover_temp_files,
    not_old_or_new,
    parse_problems,
    run_armed,
    run_in_terminal,
    run_timed_kill,
    snapshot_ids,
    store_exists,
)
from tests.helpers import git_in_store, run
from tests.homebuilder import THREADS, CodexHomeBuilder, insert_thread, thread_id

FULL_COMMAND = "python3 -m pytest tests/test_crash.py -m slow"
RECOVERED = "Recovered an interrupted"
IN_PROCESS = threading.Lock()
PENDING = "Warning: an interrupted codexsnap run"


# ----- scenarios --------------------------------------------------------------------------


# The CI sample: the steps where a crash is most likely to tear something, by fault point
# (the first snapshot's ref, the journal, the first home writes, between two writes, the
# last snapshot of the run), two timers, a few Ctrl-C and one killed `recover`.
SAMPLE_POINTS = (
    ("before-update-ref", 1),
    ("half-written", 3),  # a home write with half its bytes written
    # The third atomic write is the second home file (journal, main file, .bak): a fourth
    # (the stat cache) happens only when the home's files are old enough to be cached, so
    # sampling it made the sample fail or pass with the machine's speed.
    ("atomic-write", 3),
    ("after-journal", 1),
    ("before-rename", 3),
    ("between-writes", 1),
    ("before-after-snapshot", 1),
    ("before-update-ref", 3),
)


@dataclass(frozen=True)
class Scenario:
    """One command under test, on one of the templates, its timed trials and its CI sample."""

    name: str
    template: str  # "edited", "rollback" or "fresh"
    args: tuple[str, ...]  # without --yes; "{base}" stands for the rollback's target
    prompts: bool = True
    timers: int = 20  # SIGKILL after a delay, in the full suite
    ctrl_c_timers: int = 5
    # Where to kill the command so that a journal is left, before killing `recover` too.
    first_kill: tuple[str, int] | None = ("between-writes", 1)
    sample_points: tuple[tuple[str, int], ...] = SAMPLE_POINTS
    sample_ctrl_c: tuple[str, ...] = ("prompt", "ctrl-c-fault", "ctrl-c-timer")
    sample_recovery: bool = True
    # SIGKILL on a timer aimed between two home writes (the window measured by a clean
    # run), searched until one lands there: 0 in the sample, or that many in the full suite.
    aimed: int = 0
    sample_aimed: bool = False

    @property
    def yes(self) -> tuple[str, ...]:
        """What makes the command go ahead without asking."""
        return ("--yes",) if self.prompts else ()


SCENARIOS = {
    s.name: s
    for s in (
        Scenario("fix", "edited", ("fix",), ctrl_c_timers=6),
        Scenario(
            "fix --reset",
            "edited",
            ("fix", "--reset"),
            timers=14,
            # Removals only: no atomic write into the home.
            sample_points=(
                ("before-update-ref", 1),
                ("after-journal", 1),
                ("between-writes", 1),
                ("before-after-snapshot", 1),
                ("half-written", 3),
                ("before-update-ref", 3),
            ),
            sample_ctrl_c=(),
        ),
        Scenario(
            "fix pairing-reset --with-db",
            "edited",
            ("fix", "pairing-reset", "--with-db"),
            timers=14,
            first_kill=("between-writes", 3),  # the database written too
            sample_ctrl_c=("ctrl-c-fault",),
        ),
        # WSL: the live database in a SQLite home outside the Codex home, named by an option
        # that `recover` and `history` are not given: the journal must say where it is.
        Scenario(
            "fix pairing-reset --with-db (outside SQLite home)",
            "outside",
            ("fix", "pairing-reset", "--with-db", "--codex-sqlite-home", "{sqlite}"),
            timers=10,
            ctrl_c_timers=3,
            first_kill=("between-writes", 3),  # the outside database written too
            sample_points=(
                ("after-journal", 1),
                ("before-rename", 3),  # the database's write, its bytes down, not renamed
                ("between-writes", 3),
            ),
            sample_ctrl_c=(),
        ),
        Scenario(
            "rollback",
            "rollback",
            ("rollback", "{base}"),
            ctrl_c_timers=6,
            # Its files are staged (temporary files written, none renamed), then renamed,
            # then their folders synced: killed in the first and the last of those steps too.
            sample_points=(*SAMPLE_POINTS, ("staged", 2), ("before-folder-sync", 1)),
            first_kill=("between-writes", 7),
            aimed=4,
            sample_aimed=True,
        ),
        Scenario(
            "snapshot",
            "edited",
            ("snapshot", "-m", "by hand"),
            prompts=False,
            first_kill=None,
            sample_recovery=False,
            # Its steps that can tear: an object of its own half made, the ref's move.
            sample_points=(("loose-object", 1), ("before-update-ref", 1)),
            sample_ctrl_c=("ctrl-c-timer",),
        ),
        # The very first run: the store is created on the way (and may be killed half-made).
        Scenario(
            "fix (first run)",
            "fresh",
            ("fix",),
            ctrl_c_timers=4,
            sample_points=(("after-journal", 1), ("half-written", 4), ("between-writes", 1)),
            sample_ctrl_c=("prompt",),
            sample_recovery=False,
        ),
    )
}


@dataclass
class Template:
    """A lab whose template holds a prepared home and store."""

    lab: Lab
    base: str  # the snapshot taken first


def _write(home: Path, relpath: str, data: bytes) -> None:
    (home / relpath).write_bytes(data)


def build_edited(lab: Lab) -> Template:
    """A realistic home with a base snapshot, then edited by hand (a drift to record).

    The app's database connection stays open while the template is copied: its new rows
    live only in -wal, as they do when Codex was force-quit.
    """
    builder = CodexHomeBuilder(lab.home)  # the desktop layout: the live database in sqlite/
    builder.build()
    lab.user_home.mkdir(parents=True, exist_ok=True)
    try:
        base = _snapshot_id(lab, "base")
        _write(lab.home, "AGENTS.md", b"# Agent rules\n\nEdited by hand.\n")
        db = builder.open_connections[0]
        insert_thread(db, thread_id(7), "Thread 7", "/Users/ana/src/web")
        db.commit()
        lab.save_template()
    finally:
        builder.close()
    return Template(lab, base)


def build_fresh(lab: Lab) -> Template:
    """A realistic home that codexsnap has never seen: no store yet."""
    # On purpose the CLI layout (databases at the top), so both layouts go through the kills.
    builder = CodexHomeBuilder(lab.home, layout="cli")
    builder.build()
    lab.user_home.mkdir(parents=True, exist_ok=True)
    try:
        lab.save_template()
    finally:
        builder.close()
    return Template(lab, "")


def build_outside(lab: Lab) -> Template:
    """A home whose databases live outside it (WSL), its live state database held open."""
    builder = CodexHomeBuilder(lab.home, with_sqlite=False)
    builder.build()
    lab.user_home.mkdir(parents=True, exist_ok=True)
    lab.sqlite_home.mkdir(parents=True)
    db = sqlite3.connect(lab.sqlite_home / "state_5.sqlite")
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA wal_autocheckpoint=0")  # its rows live in -wal, as Codex leaves them
        fill_state(
            db,
            list(DEMO_THREADS),
            list(local_projects().values()),
            str(lab.home),
            list(PROJECT_IDS),
        )
        db.commit()
        done = codexsnap(
            lab, "snapshot", "-m", "base", "--json", "--codex-sqlite-home", str(lab.sqlite_home)
        )
        assert done.returncode == 0, done.stdout + done.stderr
        lab.save_template()
    finally:
        db.close()
        builder.close()
    return Template(lab, json.loads(done.stdout)["id"])


def build_rollback(lab: Lab) -> Template:
    """A home fixed once, then changed in many ways; the rollback goes back to the base."""
    builder = CodexHomeBuilder(lab.home)  # the desktop layout: the live database in sqlite/
    home = builder.build()
    lab.user_home.mkdir(parents=True, exist_ok=True)
    try:
        (home / "prompts" / "latest.md").symlink_to("review.md")
        base = _snapshot_id(lab, "base")
        fixed = codexsnap(lab, "fix", "--yes")
        assert fixed.returncode == 0, fixed.stdout + fixed.stderr
        _write(home, "config.toml", (home / "config.toml").read_bytes() + b'\n[x]\ny = "z"\n')
        (home / "config.toml").chmod(0o600)
        _write(home, "AGENTS.md", b"# Agent rules\n\nNever run the tests.\n")
        _write(home, "rules/default.rules", b'prefix_rule(pattern=["rm"])\n')
        (home / "prompts" / "review.md").unlink()
        _write(home, "prompts/new.md", b"A new prompt.\n")
        (home / "prompts" / "latest.md").unlink()
        (home / "prompts" / "latest.md").symlink_to("new.md")
        _write(
            home, "automations/auto_1/automation.toml", b'name = "hourly"\nschedule = "0 * * * *"\n'
        )
        _write(home, "hooks.json", b'{"pre": ["echo hi"]}\n')
        _write(home, "installation_id", b"11111111-2222-4333-8444-555555555555\n")
        tid9 = thread_id(9).encode()
        with (home / "session_index.jsonl").open("ab") as handle:
            handle.write(b'{"id":"%s","thread_name":"Thread 9","updated_at":"x"}\n' % tid9)
        _write(home, "app-server-daemon/settings.json", b'{"remoteControlEnabled": false}\n')
        db = builder.open_connections[0]
        db.execute("UPDATE threads SET name = 'Renamed' WHERE id = ?", (THREADS[0].id,))
        for i in range(20):
            insert_thread(db, thread_id(200 + i), f"Thread b{i}", "/Users/ana/src/api")
        db.execute("DELETE FROM remote_control_enrollments")
        db.commit()
        other = sqlite3.connect(home / "sqlite" / "codex-dev.db")
        other.execute("INSERT INTO automations (id, name) VALUES ('auto_2', 'weekly')")
        other.commit()
        other.close()
        lab.save_template()
    finally:
        builder.close()
    return Template(lab, base)


def _snapshot_id(lab: Lab, message: str) -> str:
    done = codexsnap(lab, "snapshot", "-m", message, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    snapshot_id: str = json.loads(done.stdout)["id"]
    return snapshot_id


# ----- what an uninterrupted run does -----------------------------------------------------


@dataclass
class Prepared:
    """A scenario measured once: the home before and after a clean run, its fault points."""

    scenario: Scenario
    lab: Lab
    args: list[str]
    old: States
    new: States
    known: set[str]  # the template's snapshots: none may ever be lost
    refs: str
    reached: list[str]  # fault points of a clean run, in order
    seconds: float
    recovery_reached: list[str]  # fault points of `recover` after the scenario's first kill
    # When a clean run writes into the home: from its journal to its last home write.
    window: tuple[float, float] = (0.0, 0.0)


def prepare(scenario: Scenario, template: Template) -> Prepared:
    lab = template.lab
    args = [
        a.replace("{base}", template.base).replace("{sqlite}", str(lab.sqlite_home))
        for a in scenario.args
    ]
    lab.reset()
    old = lab.states()
    known = snapshot_ids(lab.store, lab.home)
    refs = git_in_store(lab.store, "for-each-ref").stdout
    assert template.base in known or not template.base
    clean = run_armed(lab, [*args, *scenario.yes], census=lab.root / "census.json")
    assert clean.returncode == 0, clean.output
    new = lab.states()
    assert new != old or scenario.name == "snapshot"
    recovery: list[str] = []
    if scenario.first_kill is not None:
        lab.reset()
        point, nth = scenario.first_kill
        assert run_armed(lab, [*args, *scenario.yes], arm=f"kill:{point}:{nth}").killed
        recovered = run_armed(lab, ["recover"], census=lab.root / "census.json")
        assert recovered.returncode == 0, recovered.output
        recovery = recovered.reached
    return Prepared(
        scenario,
        lab,
        args,
        old,
        new,
        known,
        refs,
        clean.reached,
        clean.seconds,
        recovery,
        writes_window(clean),
    )


def writes_window(clean: Run) -> tuple[float, float]:
    """Seconds from the start when the run's journal was written and its last home write."""
    stamps = dict(zip(clean.reached, clean.times, strict=True))  # the last of each point
    if "after-journal" not in stamps or "between-writes" not in stamps:
        return (0.0, 0.0)
    first = clean.times[clean.reached.index("after-journal")]
    return (first, stamps["between-writes"])


# ----- trials -----------------------------------------------------------------------------

KILLS = ("fault", "timer", "aimed")  # SIGKILL of the command; "aimed": between home writes
CTRL_C = ("prompt", "ctrl-c-fault", "ctrl-c-timer")
RECOVERY = "recovery-fault"  # SIGKILL of the `recover` that follows a killed command


@dataclass(frozen=True)
class Trial:
    """One way to stop one run."""

    kind: str  # a KILLS or CTRL_C kind, or RECOVERY
    point: str = ""
    nth: int = 0
    delay: float = 0.0
    whole_group: bool = False

    def label(self) -> str:
        if self.point:
            return f"{self.kind} {self.point}#{self.nth}"
        if self.kind in ("timer", "ctrl-c-timer"):
            target = " (process group)" if self.whole_group else ""
            return f"{self.kind} {self.delay:.3f}s{target}"
        return self.kind


def all_trials(prep: Prepared) -> list[Trial]:
    """Every trial of the full suite: all fault point occurrences, timers spread over the run."""
    scenario = prep.scenario
    seen: Counter[str] = Counter()
    occurrences: list[tuple[str, int]] = []
    for point in prep.reached:
        seen[point] += 1
        occurrences.append((point, seen[point]))
    rng = random.Random(f"codexsnap crash suite / {scenario.name}")
    trials = [Trial("fault", point, nth) for point, nth in occurrences]
    trials += [
        Trial("timer", delay=d, whole_group=i % 2 == 1)
        for i, d in enumerate(_spread(prep.seconds, scenario.timers, rng))
    ]
    trials += [Trial("aimed", nth=i, whole_group=i % 2 == 1) for i in range(scenario.aimed)]
    if scenario.prompts:
        trials.append(Trial("prompt"))
    # Ctrl-C at every third point, and between every two writes into the home.
    trials += [
        Trial("ctrl-c-fault", point, nth)
        for i, (point, nth) in enumerate(occurrences)
        if i % 3 == 1 or point == "between-writes"
    ]
    trials += [
        Trial("ctrl-c-timer", delay=d) for d in _spread(prep.seconds, scenario.ctrl_c_timers, rng)
    ]
    seen.clear()
    for point in prep.recovery_reached:
        seen[point] += 1
        trials.append(Trial(RECOVERY, point, seen[point]))
    return trials


def _spread(seconds: float, count: int, rng: random.Random) -> list[float]:
    """``count`` delays, one at a random moment in each equal slice of the run."""
    return [round(seconds * (i + rng.random()) / count, 3) for i in range(count)]


def sample_trials(prep: Prepared) -> list[Trial]:
    """The scenario's CI sample, a fixed subset of its full trials."""
    scenario, trials = prep.scenario, all_trials(prep)
    picked = [t for t in trials if t.kind == "fault" and (t.point, t.nth) in scenario.sample_points]
    missing = set(scenario.sample_points) - {(t.point, t.nth) for t in picked}
    # A sampled point the run no longer reaches (a writer that stopped calling it) must
    # fail the suite, not shrink the sample.
    picked += [Trial("unreached", point, nth) for point, nth in sorted(missing)]
    timers = [t for t in trials if t.kind == "timer"]
    middle = len(timers) // 2  # one killing the process, one its whole process group
    picked += [t for t in timers[middle:] if not t.whole_group][:1]
    picked += [t for t in timers[middle:] if t.whole_group][:1]
    if scenario.sample_aimed:
        picked.append(Trial("aimed", nth=0, whole_group=True))
    for kind in scenario.sample_ctrl_c:
        of_kind = [t for t in trials if t.kind == kind]
        if kind == "ctrl-c-fault":  # between the first two writes into the home
            of_kind = [t for t in of_kind if t.point == "between-writes"]
        chosen = of_kind[1:2] if kind == "ctrl-c-timer" else of_kind[:1]
        picked += chosen or [Trial("unreached", kind, 1)]
    if scenario.sample_recovery:  # `recover` killed as it puts the first file back
        # The second replace when the clean recover makes one; whether it does depends on
        # how old the home's files are (a stat cache write is a replace too), so the first
        # serves as well: the sample failed or passed with the clock (seen twice).
        replaces = sorted(
            (t for t in trials if t.kind == RECOVERY and t.point == "replace" and t.nth <= 2),
            key=lambda t: -t.nth,
        )
        picked += replaces[:1] or [Trial("unreached", "recover replace", 1)]
    return picked


# ----- one trial --------------------------------------------------------------------------


@dataclass
class Outcome:
    trial: Trial
    run: Run
    journal: bool  # a journal was left for the next command
    problems: list[str] = field(default_factory=list)
    landed: str = ""  # where a kill or a Ctrl-C landed, judged from what it left


def stop_run(prep: Prepared, trial: Trial) -> Run:
    lab, args, yes = prep.lab, prep.args, prep.scenario.yes
    if trial.kind == "fault":
        return run_armed(lab, [*args, *yes], arm=f"kill:{trial.point}:{trial.nth}")
    if trial.kind == "timer":
        return run_timed_kill(lab, [*args, *yes], trial.delay, trial.whole_group)
    if trial.kind == "aimed":  # each home write takes SLOW_WRITE more, as on a slow disk
        slow = f"between-writes:{SLOW_WRITE}"
        return run_timed_kill(lab, [*args, *yes], trial.delay, trial.whole_group, slow)
    if trial.kind == RECOVERY:
        assert prep.scenario.first_kill is not None
        point, nth = prep.scenario.first_kill
        assert run_armed(lab, [*args, *yes], arm=f"kill:{point}:{nth}").killed
        return run_armed(lab, ["recover"], arm=f"kill:{trial.point}:{trial.nth}")
    python = [sys.executable, "-m", "codexsnap", *args]
    if trial.kind == "prompt":
        return run_in_terminal(lab, python, ctrl_c_at_prompt=True)
    if trial.kind == "ctrl-c-timer":
        return run_in_terminal(lab, [*python, *yes], ctrl_c_after=trial.delay)
    assert trial.kind == "ctrl-c-fault", trial
    # SIGINT to the whole process group, git children included, as a terminal sends it.
    return run_in_terminal(
        lab,
        [sys.executable, "-c", LAUNCHER, *args, *yes],
        env_extra={"CODEXSNAP_CRASH_ARM": f"sigint-group:{trial.point}:{trial.nth}"},
    )


BEFORE_JOURNAL = "before the journal"
JOURNAL_ONLY = "journal written, home untouched"
BETWEEN_WRITES = "between two home writes"
WRITES_DONE = "home written, not yet recorded"
COMMITTED = "after the commit"
FINISHED = "finished first"


def landing(prep: Prepared, stopped: Run, journal: bool, left: States) -> str:
    """Where the run stopped, from what it left: the journal and the home's files."""
    if stopped.returncode == 0:
        return FINISHED
    old, new = left == prep.old, left == prep.new
    if journal:
        return JOURNAL_ONLY if old else WRITES_DONE if new else BETWEEN_WRITES
    if new and not old:
        return COMMITTED
    return BEFORE_JOURNAL if old else "a mix with no journal"


# The last line a Ctrl-C leaves, and what must then be true of the home.
INTERRUPTED_NOTHING = "Interrupted: nothing written; the Codex home is as it was."
INTERRUPTED_PUT_BACK = " put back; the Codex home is as it was."
INTERRUPTED_HALF = "Interrupted: half-recorded: run 'codexsnap recover'"
APPLIED = "Applied before the interrupt: snapshot "
SNAPSHOT_TAKEN = "Interrupted after snapshot "  # a plain `snapshot`, committed first


def check_exit(trial: Trial, stopped: Run) -> list[str]:
    code, output = stopped.returncode, stopped.output
    if trial.kind == "unreached":
        return [f"the sampled fault point {trial.point}#{trial.nth} is never reached"]
    if trial.kind in ("fault", RECOVERY):
        missed = f"not killed at its fault point: exit {code}: {output[-500:]}"
        return [] if stopped.killed else [missed]
    if trial.kind in ("timer", "aimed"):
        # 0: it finished before the timer rang; anything else is an error it reported.
        return [] if code in (0, -signal.SIGKILL) else [f"exit {code}: {output[-500:]}"]
    problems = []
    # At the prompt and at a fault point, codexsnap's own handler runs: one true line.
    said = any(
        marker in last_line(output)
        for marker in (
            INTERRUPTED_NOTHING,
            INTERRUPTED_PUT_BACK,
            INTERRUPTED_HALF,
            APPLIED,
            SNAPSHOT_TAKEN,
        )
    )
    if trial.kind in ("prompt", "ctrl-c-fault") and (code not in (0, 130) or not said):
        problems.append(f"Ctrl-C ({trial.kind}): exit {code}: {output[-500:]}")
    # 130 without a word: typer caught it before codexsnap's code ran. -SIGINT: Python was
    # still starting (no handler yet) or already shutting down, so a traceback is Python's;
    # 1 and a traceback ending in KeyboardInterrupt: `python -m` was still finding the module.
    python_starting = code == 1 and output.rstrip().endswith("KeyboardInterrupt")
    if code not in (0, 130, -signal.SIGINT) and not python_starting:
        problems.append(f"Ctrl-C: exit {code}: {output[-500:]}")
    if code == 130 and "Traceback" in output:
        problems.append(f"Ctrl-C: a traceback: {output[-500:]}")
    return problems


def last_line(output: str) -> str:
    lines = output.strip().splitlines()
    return lines[-1] if lines else ""


def check_sentence(prep: Prepared, stopped: Run, journal: bool, left: States) -> list[str]:
    """The last line of an interrupted run says what is true of the home and the journal."""
    line, code = last_line(stopped.output), stopped.returncode
    whole_old = left == prep.old and not journal
    if INTERRUPTED_NOTHING in line or INTERRUPTED_PUT_BACK in line:
        true = whole_old and code == 130
    elif INTERRUPTED_HALF in line:
        true = journal and code == 130
    elif APPLIED in line:
        true = left == prep.new and not journal and code == 0
    elif SNAPSHOT_TAKEN in line:
        true = whole_old and code == 0  # a snapshot writes nothing into the home
    else:
        return []  # not codexsnap's own line (finished first, Python starting): judged above
    return [] if true else [f"the last line is false: {line!r} (exit {code}, journal {journal})"]


def run_trial(prep: Prepared, trial: Trial, number: int) -> Outcome:
    """Stop one run, judge what it left, then run the next commands and judge them too."""
    lab = prep.lab
    if trial.kind == "unreached":
        return Outcome(trial, Run(0, "", 0.0), False, check_exit(trial, Run(0, "", 0.0)))
    lab.reset()
    stopped = stop_run(prep, trial)
    journal = bool(journal_files(lab.store))
    outcome = Outcome(trial, stopped, journal)
    problems = outcome.problems
    problems += check_exit(trial, stopped)

    left = lab.states()
    outcome.landed = landing(prep, stopped, journal, left)
    problems += not_old_or_new(left, [prep.old, prep.new])
    problems += parse_problems(left)
    if trial.kind in CTRL_C:
        problems += check_sentence(prep, stopped, journal, left)
    if store_exists(lab.store):  # before its marker, the next run makes the store anew
        problems += [f"git fsck: {line}" for line in fsck_problems(lab.store)]
    ids = snapshot_ids(lab.store, lab.home)
    problems += [f"snapshot {i[:10]} lost" for i in sorted(prep.known - ids)]
    if trial.kind == "prompt":
        if left != prep.old:
            problems.append("Ctrl-C at the prompt changed the home")
        if git_in_store(lab.store, "for-each-ref").stdout != prep.refs or journal:
            problems.append("Ctrl-C at the prompt changed the store")
        if INTERRUPTED_NOTHING not in last_line(stopped.output):
            problems.append(f"Ctrl-C at the prompt: {last_line(stopped.output)!r}")
    # Without a journal the next command would not know what to undo: the change must be
    # all or nothing already (Ctrl-C puts the files back before it exits).
    if not journal and left not in (prep.old, prep.new):
        problems.append("no journal left, yet the home is a mix of old and new files")
    with IN_PROCESS:  # typer's runner swaps sys.stdout: one at a time
        problems += next_commands(prep, number, journal, ids, CliRunner())
    return outcome


RETRIES = 3  # a timer that rang after the run finished is tried again, earlier
SLOW_WRITE = 0.06  # seconds added after each home write of an aimed trial
AIMS = 10  # attempts of an aimed timer to land between two home writes


def run_trials(prep: Prepared, trial: Trial, number: int) -> list[Outcome]:
    """One trial, or a timer's attempts until it kills the run where it is meant to.

    A timer that rings after the run finished kills nothing: it is tried again earlier, so
    the sample cannot silently shrink when the machine is fast. An aimed timer searches
    the delay (bisecting the clean run's write window) until its kill lands between two
    home writes; missing every time is a violation.
    """
    if trial.kind == "timer":
        outcomes = [run_trial(prep, trial, number)]
        for attempt in range(1, RETRIES + 1):
            if outcomes[-1].run.killed:
                return outcomes
            # Down to no delay at all on the last try: under load the clean run measured
            # slow and a timed one can finish fast, and a timer that never rings is the
            # harness failing, not codexsnap (seen at a load average of 8 on 2 cores).
            earlier = trial.delay * (RETRIES - attempt) / RETRIES
            outcomes.append(run_trial(prep, replace(trial, delay=round(earlier, 3)), number))
        if not outcomes[-1].run.killed:
            outcomes[-1].problems.append(f"the timer never killed the run ({RETRIES + 1} tries)")
        return outcomes
    if trial.kind != "aimed":
        return [run_trial(prep, trial, number)]
    # Bisect the whole run: a timed run starts faster or slower than the measured one, so
    # the window only seeds the first try. Too early (no write yet) moves up, too late down.
    writes = prep.reached.count("between-writes")
    low, high = 0.0, prep.seconds + writes * SLOW_WRITE
    outcomes = []
    for attempt in range(AIMS):
        first_try = prep.window[0] + writes * SLOW_WRITE / 2 + 0.01 * trial.nth
        delay = round(first_try if attempt == 0 else (low + high) / 2, 4)
        outcomes.append(run_trial(prep, replace(trial, delay=delay), number))
        landed = outcomes[-1].landed
        if landed == BETWEEN_WRITES:
            return outcomes
        if landed in (BEFORE_JOURNAL, JOURNAL_ONLY):
            low = delay
        else:
            high = delay
    outcomes[-1].problems.append(
        f"no aimed kill landed between two home writes in {AIMS} tries "
        f"(window {prep.window[0]:.3f}-{prep.window[1]:.3f} s): "
        + ", ".join(o.landed for o in outcomes)
    )
    return outcomes


def next_commands(
    prep: Prepared, number: int, journal: bool, ids: set[str], cli: CliRunner
) -> list[str]:
    """recover, history, the command again (even trials); history, the command (odd ones).

    Run in this process, as the user's next command: the odd trials leave the recovery to
    the command itself, which must say so.
    """
    lab, problems = prep.lab, []
    flags = lab.flags()
    if number % 2 == 0:
        code, out, err = run(cli, "recover", *flags)
        said = RECOVERED if journal else "Nothing to recover."
        if code != 0 or said not in out:
            problems.append(f"recover: exit {code}, expected {said!r}: {out + err}")
        if journal_files(lab.store):
            problems.append("recover left the journal")
        recovered = lab.states()
        if recovered not in (prep.old, prep.new):
            problems.append("after recover, the home is a mix of old and new files")
            problems += not_old_or_new(recovered, [prep.old])
    code, out, err = run(cli, "history", *flags)
    if code != 0:
        problems.append(f"history: exit {code}: {out + err}")
    if number % 2 == 1 and journal and PENDING not in err:
        problems.append(f"history did not warn of the interrupted run: {err}")
    code, out, err = run(cli, *prep.args, *prep.scenario.yes, *flags)
    if code != 0:
        problems.append(f"{' '.join(prep.args)} again: exit {code}: {out + err}")
    if number % 2 == 1 and journal and RECOVERED not in err:
        problems.append(f"the command again did not say what it recovered: {err}")
    problems += [f"final state: {p}" for p in not_old_or_new(lab.states(), [prep.new])]
    # The latest snapshot holds the home (and the outside SQLite home, when there is one).
    outside = ["--codex-sqlite-home", str(lab.sqlite_home)] if lab.sqlite_home.exists() else []
    code, out, err = run(cli, "diff", "--stat", *flags, *outside)
    if code != 0:
        problems.append(f"diff: the latest snapshot is not the home: exit {code}: {out + err}")
    problems += [f"git fsck after: {line}" for line in fsck_problems(lab.store)]
    now = snapshot_ids(lab.store, lab.home)
    problems += [f"snapshot {i[:10]} lost after" for i in sorted((prep.known | ids) - now)]
    if journal_files(lab.store):
        problems.append("a journal is still there after the command")
    problems += [f"temporary file left: {p}" for p in leftover_temp_files(lab.home)]
    problems += [f"git lock left: {p}" for p in git_lock_files(lab.store)]
    return problems


def said(output: str) -> str:
    """Which of the four true sentences a Ctrl-C's last line is (or what else it was)."""
    line = last_line(output)
    for marker, name in (
        (INTERRUPTED_NOTHING, "nothing written"),
        (INTERRUPTED_PUT_BACK, "files put back"),
        (INTERRUPTED_HALF, "half-recorded"),
        (APPLIED, "applied"),
    ):
        if marker in line:
            return name
    return "finished or Python's own"


class CrashFigures(UserWarning):
    """The figures of one batch of trials, for pytest's summary when xdist hides the output."""


# ----- the tally --------------------------------------------------------------------------


@dataclass
class Tally:
    """Counts of the whole module, printed at its end."""

    counts: Counter[str] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, scenario: str, outcome: Outcome) -> None:
        kind = outcome.trial.kind
        if kind in KILLS:
            self.counts["kills"] += outcome.run.killed
            self.counts[f"kills {scenario}"] += outcome.run.killed
            self.counts[f"kills {kind}"] += outcome.run.killed
            self.counts["finished before the timer"] += not outcome.run.killed
            self.counts[f"kill landed: {outcome.landed}"] += 1
            if outcome.trial.whole_group and outcome.run.killed:
                self.counts[f"kills {kind} (process group)"] += 1
        elif kind == RECOVERY:
            self.counts["kills of recover"] += outcome.run.killed
        elif kind in CTRL_C:
            self.counts["ctrl-c"] += 1
            self.counts[f"ctrl-c {kind}"] += 1
            self.counts[f"ctrl-c exit {outcome.run.returncode}"] += 1
            self.counts[f"ctrl-c landed: {outcome.landed}"] += 1
            self.counts[f"ctrl-c said: {said(outcome.run.output)}"] += 1
        self.counts["trials"] += 1
        self.counts["journals left"] += outcome.journal
        self.violations += [f"{scenario} / {outcome.trial.label()}: {p}" for p in outcome.problems]


TALLY = Tally()


@pytest.fixture(scope="module", autouse=True)
def report_tally(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if not TALLY.counts:
        return
    counts = TALLY.counts
    lines = [
        f"crash suite: kills: {counts['kills']} (and {counts['kills of recover']} of recover), "
        f"ctrl-c: {counts['ctrl-c']}, "
        f"trials: {counts['trials']}, violations: {len(TALLY.violations)} "
        f"({TALLY.seconds:.0f} s)",
        *(f"  {key}: {counts[key]}" for key in sorted(counts)),
    ]
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print("\n" + "\n".join(lines))


# Trials run two at a time, each in its own lab (a home is known by its path). Under
# pytest-xdist too: most of a trial is spent waiting on codexsnap and git processes, and the
# worker left with the longest scenario finishes sooner.
SLOTS = 2


@pytest.fixture(scope="module")
def slots(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Template]]:
    """Both templates in each slot's labs, built once for the module, slots in parallel."""
    root = tmp_path_factory.mktemp("crash")

    def build(slot: int) -> dict[str, Template]:
        return {
            "edited": build_edited(Lab(root / f"slot{slot}-edited")),
            "rollback": build_rollback(Lab(root / f"slot{slot}-rollback")),
            "fresh": build_fresh(Lab(root / f"slot{slot}-fresh")),
            "outside": build_outside(Lab(root / f"slot{slot}-outside")),
        }

    with ThreadPoolExecutor(SLOTS) as pool:
        return list(pool.map(build, range(SLOTS)))


_PREPARED: dict[tuple[int, str], Prepared] = {}


def prepared(name: str, slots: list[dict[str, Template]]) -> list[Prepared]:
    """The scenario measured in every slot (in parallel, as the trials will run)."""

    def measure(slot: int) -> Prepared:
        if (slot, name) not in _PREPARED:
            scenario = SCENARIOS[name]
            _PREPARED[slot, name] = prepare(scenario, slots[slot][scenario.template])
        return _PREPARED[slot, name]

    with ThreadPoolExecutor(SLOTS) as pool:
        return list(pool.map(measure, range(SLOTS)))


def time_clean_runs(preps: list[Prepared], runs: int = 2) -> None:
    """Time a few more uninterrupted runs: one run under a passing load misleads the timers."""

    def time_runs(prep: Prepared) -> None:
        for _ in range(runs):
            prep.lab.reset()
            clean = run_armed(prep.lab, [*prep.args, *prep.scenario.yes])
            assert clean.returncode == 0, clean.output
            prep.seconds = min(prep.seconds, clean.seconds)

    with ThreadPoolExecutor(len(preps)) as pool:
        for done in [pool.submit(time_runs, prep) for prep in preps]:
            done.result()


def run_all(preps: list[Prepared], trials: list[Trial]) -> list[Outcome]:
    """Run the trials on every slot at once; each slot takes the next trial left."""
    waiting: queue.SimpleQueue[tuple[int, Trial]] = queue.SimpleQueue()
    for item in enumerate(trials):
        waiting.put(item)
    outcomes: dict[int, list[Outcome]] = {}

    def work(prep: Prepared) -> None:
        while True:
            try:
                number, trial = waiting.get_nowait()
            except queue.Empty:
                return
            outcomes[number] = run_trials(prep, trial, number)

    with ThreadPoolExecutor(len(preps)) as pool:
        for done in [pool.submit(work, prep) for prep in preps]:
            done.result()
    return [outcome for n in sorted(outcomes) for outcome in outcomes[n]]


# Read at import: the isolation fixture drops every CODEX* variable before a test runs.
ALL_TRIALS_REQUESTED = os.environ.get("CODEXSNAP_CRASH_TRIALS", "") == "all"


def full_suite_requested(config: pytest.Config) -> bool:
    if ALL_TRIALS_REQUESTED:
        return True
    expression = str(config.getoption("markexpr") or "")
    return "slow" in expression and "not slow" not in expression


# ----- the tests --------------------------------------------------------------------------

PORTIONS = [
    pytest.param("sample", id="sample"),
    pytest.param("all", id="all", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("portion", PORTIONS)
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_killed_or_interrupted_run_leaves_old_or_new_files_and_the_next_command_recovers(
    name: str,
    portion: str,
    slots: list[dict[str, Template]],
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if portion == "all" and not full_suite_requested(request.config):
        pytest.skip(f"the full crash suite: {FULL_COMMAND}")
    started = time.perf_counter()
    preps = prepared(name, slots)
    if portion == "all":
        time_clean_runs(preps)
    # The timers spread over the quickest clean run: fewer runs finish before theirs rings.
    fastest = min(preps, key=lambda prep: prep.seconds)
    trials = all_trials(fastest) if portion == "all" else sample_trials(fastest)
    local = Tally()
    for outcome in run_all(preps, trials):
        local.add(name, outcome)
        TALLY.add(name, outcome)
    seconds = time.perf_counter() - started
    TALLY.seconds += seconds
    counts = local.counts
    landed = ", ".join(
        f"{key.split(': ', 1)[1]} {counts[key]}"
        for key in sorted(counts)
        if key.startswith("kill landed: ")
    )
    line = (
        f"{name} [{portion}]: kills: {counts['kills']} "
        f"(fault points {counts['kills fault']}, timers {counts['kills timer']} "
        f"({counts['kills timer (process group)']} of the process group), "
        f"aimed between writes {counts['kills aimed']}; "
        f"{counts['finished before the timer']} finished first, retried), "
        f"landed: {landed}; "
        f"recover killed: {counts['kills of recover']}, ctrl-c: {counts['ctrl-c']} "
        f"(to the process group; exits "
        + ", ".join(f"{k.split()[-1]}: {counts[k]}" for k in sorted(counts) if "ctrl-c exit" in k)
        + "), "
        f"violations: {len(local.violations)} ({seconds:.1f} s)"
    )
    with capsys.disabled():
        print(f"\n{line}")
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # An xdist worker's output never reaches the terminal; its warnings do.
        warnings.warn(CrashFigures(line), stacklevel=1)
    assert local.violations == [], "\n".join(local.violations[:40])


def test_the_checks_see_a_torn_file_a_damaged_database_a_lost_snapshot_and_a_broken_store(
    slots: list[dict[str, Template]],
) -> None:
    """The judge is not blind: each kind of damage the suite looks for is reported."""
    prep = prepared("fix", slots)[0]
    lab = prep.lab
    state = lab.home / ".codex-global-state.json"

    lab.reset()
    state.write_bytes(state.read_bytes()[:100])  # a write cut short, not atomic
    torn = lab.states()
    assert not_old_or_new(torn, [prep.old, prep.new]) == [
        f".codex-global-state.json: file 0o644 {state.read_bytes()[:60]!r}... is no allowed version"
    ]
    assert len(parse_problems(torn)) == 1

    lab.reset()
    database = lab.home / "sqlite" / "codex-dev.db"
    data = bytearray(database.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # the schema page overwritten
    database.write_bytes(bytes(data))
    damaged = lab.states()
    assert damaged["sqlite/codex-dev.db"][0] == "sqlite!"
    assert any("damaged database" in p for p in parse_problems(damaged))

    lab.reset()
    assert prep.known <= snapshot_ids(lab.store, lab.home)
    git_in_store(lab.store, "update-ref", "-d", home_ref(lab.home))
    assert prep.known - snapshot_ids(lab.store, lab.home) == prep.known

    lab.reset()
    assert fsck_problems(lab.store) == []
    loose = next(p for p in (lab.store / "repo.git" / "objects").rglob("*") if p.is_file())
    loose.chmod(0o600)
    loose.write_bytes(b"garbage")
    assert fsck_problems(lab.store) != []


def test_a_first_run_killed_as_it_creates_the_store_marker_leaves_a_store_the_next_run_uses(
    tmp_path: Path,
) -> None:
    """A store whose creation was killed is made again, whatever step the kill hit."""
    lab = Lab(tmp_path / "lab")
    build_fresh(lab)
    lab.reset()
    old = lab.states()
    killed = subprocess.run(
        [sys.executable, "-c", KILL_WHEN_CREATED, "fix", "--yes"],
        env={**lab.env(), "CODEXSNAP_CRASH_FILE": "codexsnap-store.json"},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    assert lab.states() == old  # the home is only written once the store is made

    again = codexsnap(lab, "fix", "--yes")
    assert again.returncode == 0, again.stdout + again.stderr
    assert snapshot_ids(lab.store, lab.home)
    assert fsck_problems(lab.store) == []


# ----- a snapshot of many files: blobs streamed into one pack (store/git_pack.py) ---------

BULK_SESSIONS = 400  # over git_blobs.BULK_FILES: this snapshot streams them through fast-import


@pytest.fixture(scope="module")
def bulk_lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    """A home with its sessions in scope, snapshotted once, then 400 new sessions."""
    lab = Lab(tmp_path_factory.mktemp("crash-bulk") / "lab")
    builder = CodexHomeBuilder(lab.home)
    builder.build()
    lab.user_home.mkdir(parents=True, exist_ok=True)
    try:
        assert codexsnap(lab, "snapshot").returncode == 0
        (lab.store / "scope.toml").write_text('include = ["sessions/"]\n')
        folder = lab.home / "sessions" / "2026" / "11" / "21"
        folder.mkdir(parents=True, exist_ok=True)
        for number in range(BULK_SESSIONS):
            line = json.dumps({"type": "response_item", "n": number}) + "\n"
            (folder / f"rollout-2026-11-21T09-00-00-{number:04d}.jsonl").write_text(line * 60)
        lab.save_template()
    finally:
        builder.close()
    return lab


def _pack_leftovers(store: Path) -> list[Path]:
    pack = store / "repo.git" / "objects" / "pack"
    found = [*pack.glob("tmp_*"), *pack.glob("*.keep"), *store.glob("repo.git/fast_import_*")]
    return found + [p for p in pack.glob("*.pack") if not p.with_suffix(".idx").exists()]


def _kill_everything_after(lab: Lab, delay: float, slow: str) -> Run:
    """SIGKILL a snapshot and every process it started (its session) after ``delay``."""
    env = {**lab.env(), "CODEXSNAP_CRASH_SLOW": slow}
    proc = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, "snapshot"],
        env=env,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=delay)
    # Frozen first, all of them, so none sees another die (fast-import would close its
    # pack on the end of its input) before the power goes.
    session = []
    for other in psutil.process_iter():
        with contextlib.suppress(ProcessLookupError, PermissionError, psutil.Error):
            if os.getsid(other.pid) == proc.pid:
                other.suspend()
                session.append(other)
    for other in session:
        with contextlib.suppress(psutil.Error):
            other.kill()
    out, _ = proc.communicate(timeout=120)
    return Run(proc.returncode, out.decode(errors="replace"), delay)


@pytest.mark.parametrize(
    "kill",
    [
        "kill:pack-stream:250",  # codexsnap dies mid-stream: fast-import reads an early EOF
        "kill:pack-written:1",  # the pack in place, no commit yet
        "kill:before-update-ref:1",  # the commit written, the ref not moved
        "group",  # codexsnap and fast-import killed together mid-stream
    ],
)
def test_a_snapshot_killed_while_it_streams_a_pack_leaves_no_ref_to_a_missing_object(
    bulk_lab: Lab, kill: str
) -> None:
    lab = bulk_lab
    lab.reset()
    known = snapshot_ids(lab.store, lab.home)
    if kill == "group":
        # Each file streamed 25 ms later, as from a slow disk: the stream takes 10 s, so a
        # kill of every process of the run (git runs in process groups of its own) lands in
        # it, fast-import's pack half-written.
        for delay in (3.0, 5.0, 7.0):
            lab.reset()
            stopped = _kill_everything_after(lab, delay, "pack-stream:0.025")
            if list((lab.store / "repo.git" / "objects" / "pack").glob("tmp_pack_*")):
                break
        else:
            pytest.fail("no kill landed while fast-import was writing its pack")
    else:
        stopped = run_armed(lab, ["snapshot"], arm=kill)
    assert stopped.killed, stopped.output
    assert fsck_problems(lab.store) == []  # every ref names objects that are all there
    assert known <= snapshot_ids(lab.store, lab.home)

    again = codexsnap(lab, "snapshot", "--json")
    assert again.returncode == 0, again.stdout + again.stderr
    assert json.loads(again.stdout)["created"] is True
    listed = git_in_store(lab.store, "ls-tree", "-r", "--name-only", json.loads(again.stdout)["id"])
    assert sum("T09-00-00-0" in line for line in listed.stdout.split()) == BULK_SESSIONS
    same = codexsnap(lab, "diff", "--stat")
    assert same.returncode == 0, same.stdout + same.stderr
    assert fsck_problems(lab.store) == []
    assert _pack_leftovers(lab.store) == []
