"""codexsnap benchmark suite: each scenario against a plain-git or plain-Python baseline.

Builds synthetic Codex homes of three sizes from the facts in shared/codex-home.md (small: a
fresh install; medium: 1.5 MB global state, 50 MB WAL database, 300 files in scope; large:
the medium one with 1 GB of sessions in 10,000 files in scope), runs every codexsnap command
as a user would (a new process each time, HOME, CODEX_HOME and CODEXSNAP_STORE pointed into a
temporary folder) and times, in the same run on the same files, what plain tools take:

    python3 benchmarks/bench.py [--sizes small,medium,large] [--repeat N]
                                [--json benchmarks/results/latest.json] [--quick]

Prints a table of medians and ratios and writes it as JSON for comparison between versions.
``--quick`` builds tiny homes and runs each scenario once: the test suite's smoke run.
``--sizes huge`` (not in the default set) snapshots a home with 100,000 files in scope.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CODE = ROOT  # the checkout whose codexsnap is measured (--code): an older one, for "before"

from codexsnap import __version__  # noqa: E402
from codexsnap.errors import CodexRunningError  # noqa: E402
from codexsnap.scope import SCOPE_FILE_NAME, Scope, load_scope, walk_scope  # noqa: E402
from codexsnap.sqlite_copy import is_sqlite_file  # noqa: E402
from tests.homebuilder import CodexHomeBuilder, global_state  # noqa: E402

GLOBAL = ".codex-global-state.json"
GLOBAL_BAK = ".codex-global-state.json.bak"
MB = 1_000_000

# ----- the homes --------------------------------------------------------------------------


@dataclass(frozen=True)
class HomeSpec:
    """One synthetic home: what it holds and what its scope takes in."""

    name: str
    description: str
    global_state_bytes: int = 0  # 0: the builder's small default state
    wal_bytes: int = 0  # bytes of rows added to state_5.sqlite, kept in its -wal
    files_in_scope: int = 0  # filler files added until the default scope holds this many
    session_files: int = 0
    session_bytes: int = 0
    sessions_in_scope: bool = False  # scope.toml: include = ["sessions/"]
    log_bytes: int = 0  # log/codex-tui.log, out of scope
    # Sessions of given sizes added besides the others (the rollback of one transcript).
    extra_session_bytes: tuple[int, ...] = ()


def home_specs(quick: bool, scale: float = 1.0) -> dict[str, HomeSpec]:
    """The sizes of the issue, or tiny versions of them for the smoke run.

    ``scale`` shrinks the sessions of the large and huge homes: their count and bytes, the
    large home's 20 MB transcript too (the mid home stays at the issue's 3,000 files).
    """
    if quick:
        medium = HomeSpec(
            "medium", "quick: 100 KB state, 1 MB WAL, 40 files", 100_000, MB, 40, 10, MB, False
        )
        return {
            "small": HomeSpec("small", "fresh install"),
            "medium": medium,
            "mid": HomeSpec(
                "mid",
                "quick: medium + 60 session files, 1 MB, in scope",
                medium.global_state_bytes,
                medium.wal_bytes,
                medium.files_in_scope,
                60,
                MB,
                True,
            ),
            "large": HomeSpec(
                "large",
                "quick: medium + 100 session files, 4 MB, in scope",
                medium.global_state_bytes,
                medium.wal_bytes,
                medium.files_in_scope,
                100,
                4 * MB,
                True,
                extra_session_bytes=(MB,),
            ),
            "huge": HomeSpec(
                "huge", "quick: 1,000 session files in scope", 0, 0, 0, 1_000, 2 * MB, True
            ),
        }
    medium = HomeSpec(
        "medium",
        "1.5 MB global state, 50 MB WAL, 300 files in scope; 20 MB of sessions and a 20 MB log"
        " out of scope",
        1_500_000,
        50 * MB,
        300,
        200,
        20 * MB,
        False,
        20 * MB,
    )

    def sessions(count: int, size: int) -> tuple[int, int]:
        return max(10, int(count * scale)), max(MB, int(size * scale))

    return {
        "small": HomeSpec("small", "fresh install: builder defaults, no runtime leftovers"),
        "medium": medium,
        "mid": HomeSpec(
            "mid",
            "medium + sessions in scope: 3,000 files, 90 MB",
            medium.global_state_bytes,
            medium.wal_bytes,
            medium.files_in_scope,
            2_700,
            34 * MB,
            True,
            medium.log_bytes,
        ),
        "large": HomeSpec(
            "large",
            "medium + sessions in scope: 10,500 files, 1.15 GB (largest 55 MB, one of 20 MB;"
            f" scale {scale:g})",
            medium.global_state_bytes,
            medium.wal_bytes,
            medium.files_in_scope,
            *sessions(10_000, 1_100 * MB),
            True,
            medium.log_bytes,
            extra_session_bytes=(max(MB, int(20 * MB * scale)),),
        ),
        "huge": HomeSpec(
            "huge",
            "100,000 session files in scope, 200 MB (largest 10 MB)",
            0,
            0,
            0,
            *sessions(100_000, 200 * MB),
            True,
        ),
    }


def big_state(target_bytes: int) -> dict[str, Any]:
    """A realistic global state grown with composer drafts to about ``target_bytes``."""
    drafts = 10
    while True:
        state = global_state(drafts=drafts)
        size = len(json.dumps(state, separators=(",", ":"), ensure_ascii=False).encode())
        if size >= target_bytes:
            return state
        drafts = int(drafts * target_bytes / size) + 10


class TextPool:
    """Cheap transcript-like text: 64 blocks of JSONL made of random words, built once.

    Files are sequences of these blocks in a per-file order behind a unique first line, so
    no two files are equal, and git's zlib compresses them about as well as real transcripts
    (words from a small vocabulary), not as well as repeated bytes.
    """

    def __init__(self, seed: int = 20261120) -> None:
        rng = random.Random(seed)
        letters = "abcdefghijklmnopqrstuvwxyz"
        words = ["".join(rng.choice(letters) for _ in range(rng.randint(2, 9))) for _ in range(400)]
        self.blocks: list[bytes] = []
        for number in range(64):
            lines = []
            size = 0
            while size < 4096:
                text = " ".join(rng.choice(words) for _ in range(rng.randint(5, 60)))
                line = json.dumps(
                    {
                        "timestamp": f"2026-11-20T10:{number % 60:02d}:{size % 60:02d}.000Z",
                        "type": "response_item",
                        "payload": {"type": "message", "role": "assistant", "content": text},
                    }
                )
                lines.append(line)
                size += len(line) + 1
            self.blocks.append(("\n".join(lines) + "\n").encode())

    def chunks(self, seed: int, size: int) -> Iterator[bytes]:
        """``size`` bytes, 1 MB at a time, of blocks in an order set by ``seed``."""
        step = 2 * seed + 1  # odd, so every block comes back in turn
        written = 0
        number = seed
        while written < size:
            batch = []
            batch_size = 0
            while batch_size < MB and written + batch_size < size:
                block = self.blocks[number % 64]
                batch.append(block)
                batch_size += len(block)
                number += step
            data = b"".join(batch)[: size - written]
            written += len(data)
            yield data


def build_home(spec: HomeSpec, root: Path, pool: TextPool) -> tuple[Path, CodexHomeBuilder]:
    """Write the home; the builder keeps state_5.sqlite open, as a live app server does."""
    builder = CodexHomeBuilder(root / "home", with_runtime=False)
    if spec.global_state_bytes:
        builder.state = big_state(spec.global_state_bytes)
    home = builder.build().resolve()
    if spec.wal_bytes:
        _fill_wal(builder, home, spec.wal_bytes, pool)
    if spec.log_bytes:
        with (home / "log" / "codex-tui.log").open("ab") as log:
            for chunk in pool.chunks(7, spec.log_bytes):
                log.write(chunk)
    if spec.files_in_scope:
        _add_filler(home, spec.files_in_scope)
    if spec.session_files:
        _add_sessions(home, spec, pool)
    # As if written a minute ago: otherwise both codexsnap and git would re-hash every file
    # touched within the last seconds (their "racy" rule) and the first runs would differ.
    backdate(home, time.time() - 60)
    return home, builder


def backdate(home: Path, when: float) -> None:
    for dirpath, _, files in os.walk(home):
        for name in files:
            path = os.path.join(dirpath, name)
            if not name.endswith(("-wal", "-shm")):  # SQLite's own files stay as SQLite left them
                os.utime(path, (when, when), follow_symlinks=False)


def _fill_wal(builder: CodexHomeBuilder, home: Path, wal_bytes: int, pool: TextPool) -> None:
    db = builder.open_connections[0]  # state_5.sqlite, WAL mode, autocheckpoint off
    db.execute(
        "CREATE TABLE thread_items (id INTEGER PRIMARY KEY, thread_id TEXT, ts INTEGER, item TEXT)"
    )
    wal = home / f"{builder.state_db}-wal"
    number = 0
    while not wal.exists() or wal.stat().st_size < wal_bytes:
        rows = []
        for _ in range(2_000):
            block = pool.blocks[number % 64]
            start = (number * 37) % 3000
            rows.append((f"019a-{number % 500}", 1758440000 + number, block[start : start + 1000]))
            number += 1
        db.executemany("INSERT INTO thread_items (thread_id, ts, item) VALUES (?, ?, ?)", rows)
        db.commit()


def _add_filler(home: Path, wanted: int) -> None:
    """User content (memories, skills, prompts, rules) until the default scope holds ``wanted``."""
    have = sum(1 for _ in walk_scope(home, Scope()))
    kinds = [
        ("memories/topic-{n:04d}.md", "# Memory {n}\n\nThe user prefers small commits ({n}).\n"),
        ("skills/skill-{n:04d}/SKILL.md", "---\nname: skill-{n}\n---\nRun the linter first.\n"),
        ("prompts/prompt-{n:04d}.md", "Review this change carefully, part {n}.\n"),
        ("rules/rule-{n:04d}.rules", 'prefix_rule(pattern=["git", "log", "-{n}"])\n'),
    ]
    for number in range(max(0, wanted - have)):
        pattern, text = kinds[number % len(kinds)]
        path = home / pattern.format(n=number)
        path.parent.mkdir(parents=True, exist_ok=True)
        # 1-3 KB each, distinct.
        path.write_text(text.format(n=number) * (20 + number % 40))


def _add_sessions(home: Path, spec: HomeSpec, pool: TextPool) -> None:
    """Rollouts under sessions/YYYY/MM/DD/, one of them 5 % of the total (a long session)."""
    count = spec.session_files
    largest = spec.session_bytes // 20
    rest = (spec.session_bytes - largest) / max(1, count - 1)
    weights = [0.15, 0.45, 0.8, 1.3, 2.3]  # mean 1.0: small sessions are common
    start = datetime(2025, 1, 1)
    per_day = max(1, count // 500)
    for number in range(count):
        day = start + timedelta(days=number // per_day)
        folder = home / "sessions" / f"{day:%Y/%m/%d}"
        if number % per_day == 0:
            folder.mkdir(parents=True, exist_ok=True)
        session_id = f"019a{number:08x}-3d4e-7f60-8a9b-0c1d2e3f4a5b"
        path = folder / f"rollout-{day:%Y-%m-%d}T10-00-00-{session_id}.jsonl"
        size = largest if number == count // 2 else int(rest * weights[number % len(weights)])
        meta = json.dumps(
            {"type": "session_meta", "payload": {"id": session_id, "cwd": "/Users/ana/src/api"}}
        )
        with path.open("wb") as handle:
            handle.write(meta.encode() + b"\n")
            for chunk in pool.chunks(number, size):
                handle.write(chunk)
    folder = home / "sessions" / "2026" / "11" / "20"
    folder.mkdir(parents=True, exist_ok=True)
    for number, size in enumerate(spec.extra_session_bytes):
        path = folder / f"rollout-2026-11-20T09-00-00-long-{number}.jsonl"
        with path.open("wb") as handle:
            for chunk in pool.chunks(1000 + number, size):
                handle.write(chunk)


def home_facts(home: Path, scope: Scope) -> dict[str, Any]:
    """What is in scope: file count, bytes, largest file, SQLite databases with a -wal."""
    count = 0
    total = 0
    largest = 0
    wal_files: list[str] = []
    for entry in walk_scope(home, scope):
        count += 1
        total += entry.size
        largest = max(largest, entry.size)
        wal = entry.path.with_name(entry.path.name + "-wal")
        if not entry.is_symlink and is_sqlite_file(entry.path) and wal.exists():
            wal_files.append(entry.relpath + "-wal")
            total += wal.stat().st_size
    state = home / GLOBAL
    return {
        "files_in_scope": count,
        "bytes_in_scope": total,
        "largest_file_bytes": largest,
        "global_state_bytes": state.stat().st_size if state.exists() else 0,
        "wal_files": wal_files,
        "wal_bytes": sum((home / w).stat().st_size for w in wal_files),
    }


# ----- running and timing -----------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One finished process: wall time, exit code, output and peak memory of its tree."""

    seconds: float
    code: int
    stdout: bytes
    stderr: bytes
    max_rss_kb: int  # the largest process in the tree (Linux keeps the max, not the sum)
    cpu_seconds: float = 0.0  # user + system time of the whole tree: steadier under load


# Runs codexsnap exactly as its console script does, then notes the peak memory of the Python
# process and of its git children apart.
_WRAPPER = """\
import resource, sys
out = sys.argv[1]
sys.argv = ["codexsnap", *sys.argv[2:]]
from codexsnap.cli import main
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(out, "w") as handle:
    handle.write(f"{me} {kids}")
sys.exit(code)
"""


class Bench:
    """The working folder, the environments and the process runner of one benchmark run."""

    def __init__(self, work: Path, verbose: bool = True) -> None:
        self.work = work
        self.verbose = verbose
        self.user_home = work / "user-home"
        self.user_home.mkdir(parents=True, exist_ok=True)
        self.hooks = work / "no-hooks"
        self.hooks.mkdir(exist_ok=True)
        self.template = work / "empty-template"
        self.template.mkdir(exist_ok=True)
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GIT_", "CODEX", "XDG_", "PYTHON"))
        }
        base.update(
            HOME=str(self.user_home),
            USERPROFILE=str(self.user_home),
            XDG_DATA_HOME=str(self.user_home / ".local" / "share"),
            XDG_CONFIG_HOME=str(self.user_home / ".config"),
            PYTHONPATH=str(CODE),  # measure this checkout (or --code's), whatever is installed
            LC_ALL="C",
        )
        self.base_env = base
        script = Path(sys.executable).parent / "codexsnap"
        self.console_script = (
            [str(script)] if script.is_file() else [sys.executable, "-m", "codexsnap"]
        )
        self.last_rss: tuple[int, int] = (0, 0)
        self.refused_runs = 0  # runs refused because some process named Codex was running

    def log(self, message: str) -> None:
        if self.verbose:
            print(message, file=sys.stderr, flush=True)

    def codexsnap_env(self, home: Path, store: Path) -> dict[str, str]:
        return {**self.base_env, "CODEX_HOME": str(home), "CODEXSNAP_STORE": str(store)}

    def git_env(self, git_dir: Path, work_tree: Path | None = None) -> dict[str, str]:
        env = {
            **self.base_env,
            "GIT_DIR": str(git_dir),
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_AUTHOR_NAME": "bench",
            "GIT_AUTHOR_EMAIL": "bench@localhost",
            "GIT_COMMITTER_NAME": "bench",
            "GIT_COMMITTER_EMAIL": "bench@localhost",
        }
        if work_tree is not None:
            env["GIT_WORK_TREE"] = str(work_tree)
        return env

    def run(
        self, cmd: list[str], env: dict[str, str], check: bool = True, stdin: bytes = b""
    ) -> Run:
        """Run ``cmd``, timing it and reading the peak RSS of its process tree (wait4)."""
        with (
            tempfile.TemporaryFile() as given,
            tempfile.TemporaryFile() as out,
            tempfile.TemporaryFile() as err,
        ):
            given.write(stdin)
            given.seek(0)
            start = time.perf_counter()
            proc = subprocess.Popen(
                cmd, env=env, cwd=self.work, stdin=given, stdout=out, stderr=err
            )
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            done = Run(
                seconds,
                proc.returncode,
                out.read(),
                err.read(),
                usage.ru_maxrss,
                usage.ru_utime + usage.ru_stime,
            )
        if check and done.code != 0:
            raise RuntimeError(
                f"{' '.join(cmd[:6])} exited {done.code}: "
                f"{done.stderr.decode(errors='replace').strip()[-2000:]}"
            )
        return done

    def codexsnap(
        self, home: Path, store: Path, *args: str, check: bool = True, expect: int = 0
    ) -> Run:
        """``codexsnap ARGS`` in a new interpreter; ``last_rss`` gets (python, git) peaks."""
        rss = self.work / "rss.txt"
        for _ in range(30):
            done = self.run(
                [sys.executable, "-c", _WRAPPER, str(rss), *args],
                self.codexsnap_env(home, store),
                check=False,
            )
            if done.code != CodexRunningError.exit_code:
                break
            # Another program's test started a process named Codex: fix and rollback rightly
            # refuse. Wait for it to end rather than skip the check with --force.
            self.refused_runs += 1
            time.sleep(1.0)
        if check and done.code != expect:
            raise RuntimeError(
                f"codexsnap {' '.join(args)} exited {done.code}: "
                f"{done.stderr.decode(errors='replace').strip()[-2000:]}"
            )
        me, kids = rss.read_text().split()
        self.last_rss = (int(me), int(kids))
        return done

    def git(self, git_dir: Path, *args: str, work_tree: Path | None = None) -> Run:
        return self.run(["git", *args], self.git_env(git_dir, work_tree))

    def sh(self, git_dir: Path, script: str, work_tree: Path | None = None) -> Run:
        return self.run(["sh", "-c", script], self.git_env(git_dir, work_tree))


# ----- scenarios --------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A goal from the issue: a ratio to the baseline, or an absolute time."""

    text: str
    max_ratio: float | None = None
    max_seconds: float | None = None

    def met(self, codexsnap_s: float, ratio: float) -> bool:
        if self.max_ratio is not None:
            return ratio <= self.max_ratio
        assert self.max_seconds is not None
        return codexsnap_s <= self.max_seconds


@dataclass
class Scenario:
    """One row of the table: codexsnap's runs against the baseline's, in the same run."""

    name: str
    size: str
    command: str
    baseline: str
    target: Target | None = None
    codexsnap_s: list[float] = field(default_factory=list)
    baseline_s: list[float] = field(default_factory=list)
    baseline_offset_s: float = 0.0  # added to the baseline median (history: interpreter start)
    notes: dict[str, Any] = field(default_factory=dict)
    codexsnap_cpu_s: list[float] = field(default_factory=list)
    baseline_cpu_s: list[float] = field(default_factory=list)
    baseline_offset_cpu_s: float = 0.0

    def mine(self, run: Run) -> None:
        self.codexsnap_s.append(run.seconds)
        self.codexsnap_cpu_s.append(run.cpu_seconds)

    def theirs(self, run: Run) -> None:
        self.baseline_s.append(run.seconds)
        self.baseline_cpu_s.append(run.cpu_seconds)

    @property
    def label(self) -> str:
        return f"{self.name} [{self.size}]" if self.size else self.name

    def medians(self) -> tuple[float, float]:
        return (
            statistics.median(self.codexsnap_s),
            statistics.median(self.baseline_s) + self.baseline_offset_s,
        )

    def to_json(self) -> dict[str, Any]:
        mine, theirs = self.medians()
        ratio = mine / theirs if theirs > 0 else float("inf")
        return {
            "scenario": self.name,
            "size": self.size,
            "command": self.command,
            "baseline": self.baseline,
            "codexsnap_median_s": round(mine, 4),
            "baseline_median_s": round(theirs, 4),
            "ratio": round(ratio, 2),
            "target": self.target.text if self.target else None,
            "met": self.target.met(mine, ratio) if self.target else None,
            "codexsnap_runs_s": [round(s, 4) for s in self.codexsnap_s],
            "baseline_runs_s": [round(s, 4) for s in self.baseline_s],
            "baseline_offset_s": round(self.baseline_offset_s, 4),
            "codexsnap_cpu_median_s": round(statistics.median(self.codexsnap_cpu_s), 4),
            "baseline_cpu_median_s": round(
                statistics.median(self.baseline_cpu_s) + self.baseline_offset_cpu_s, 4
            ),
            **({"notes": self.notes} if self.notes else {}),
        }


def median_of(values: list[float]) -> float:
    return statistics.median(values)


def bench_help(bench: Bench, repeat: int) -> Scenario:
    """Cold start of ``codexsnap --help`` against ``python -c "import typer"``."""
    scenario = Scenario(
        "cold-start --help",
        "",
        "codexsnap --help",
        'python -c "import typer"',
        Target("≤ 2× import typer", max_ratio=2.0),
    )
    env = bench.base_env
    mine = [*bench.console_script, "--help"]
    theirs = [sys.executable, "-c", "import typer"]
    bench.run(mine, env)  # warm the page cache and the .pyc files
    bench.run(theirs, env)
    for _ in range(max(2, repeat * 2)):
        scenario.mine(bench.run(mine, env))
        scenario.theirs(bench.run(theirs, env))
    probe = (
        "import sys, codexsnap.cli; "
        "print(','.join(m for m in ('git', 'deepdiff', 'psutil', 'pydantic', 'rich') "
        "if m in sys.modules))"
    )
    loaded = bench.run([sys.executable, "-c", probe], env).stdout.decode().strip()
    scenario.notes["heavy_modules_loaded_by_cli"] = loaded.split(",") if loaded else []
    return scenario


def exclude_file(scope: Scope, wal_files: list[str]) -> str:
    """The scope as gitignore patterns, so ``git add -A`` takes the same files."""
    lines = []
    for rule in scope.rules:
        pattern = rule.pattern
        # codexsnap's folder and path patterns are anchored at the home; name patterns are not.
        lines.append("/" + pattern if "/" in pattern else pattern)
    # The plain repository takes a database's -wal as it is: the same rows as codexsnap's
    # consistent copy, without the consistency.
    lines += [f"!/{wal}" for wal in wal_files]
    return "\n".join(lines) + "\n"


def init_plain_repo(bench: Bench, git_dir: Path, home: Path, excludes: str) -> None:
    shutil.rmtree(git_dir, ignore_errors=True)
    bench.git(git_dir, "init", "-q", f"--template={bench.template}", work_tree=home)
    for key, value in {
        "core.hooksPath": str(bench.hooks),
        "core.autocrlf": "false",
        "core.fsmonitor": "false",
        "commit.gpgSign": "false",
        "gc.auto": "0",
    }.items():
        bench.git(git_dir, "config", key, value)
    (git_dir / "info").mkdir(exist_ok=True)
    (git_dir / "info" / "exclude").write_text(excludes)


def create_store(store: Path, scope_toml: str | None) -> None:
    """An empty store (the first snapshot is then timed like a first commit into ``git init``).

    scope.toml can only be written once the store exists: a folder holding only scope.toml is
    refused (tests/test_store.py, xfail).
    """
    from codexsnap.store import SnapshotStore

    shutil.rmtree(store, ignore_errors=True)
    SnapshotStore.open(store, create=True).close()
    if scope_toml:
        (store / SCOPE_FILE_NAME).write_text(scope_toml)


def wait_out_racy_window(since: float, seconds: float = 2.1) -> None:
    """codexsnap re-hashes files modified in the last 2 s; git has a similar rule."""
    left = since + seconds - time.time()
    if left > 0:
        time.sleep(left)


@dataclass
class SizeRun:
    """A built home with its store and plain repository."""

    spec: HomeSpec
    home: Path
    store: Path
    plain: Path
    builder: CodexHomeBuilder
    facts: dict[str, Any]
    scope_toml: str | None
    excludes: str


def prepare_size(bench: Bench, spec: HomeSpec, pool: TextPool) -> tuple[SizeRun, float]:
    root = bench.work / spec.name
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    start = time.perf_counter()
    home, builder = build_home(spec, root, pool)
    build_s = time.perf_counter() - start
    scope_toml = 'include = ["sessions/"]\n' if spec.sessions_in_scope else None
    store = root / "store"
    create_store(store, scope_toml)
    scope = load_scope(store)
    facts = home_facts(home, scope)
    facts["build_s"] = round(build_s, 2)
    facts["description"] = spec.description
    run = SizeRun(
        spec,
        home,
        store,
        root / "plain.git",
        builder,
        facts,
        scope_toml,
        exclude_file(scope, facts["wal_files"]),
    )
    return run, build_s


def bench_snapshots(
    bench: Bench, size: SizeRun, repeat: int, first_repeat: int, memory: dict[str, Any]
) -> list[Scenario]:
    """First, no-change and one-file-changed snapshots against git add -A && git commit."""
    commit = "git add -A && git commit -q -m snapshot"
    name = size.spec.name
    first = Scenario("snapshot first", name, "codexsnap snapshot", commit + "  (after git init)")
    rss_python: list[int] = []
    rss_tree: list[int] = []
    rss_plain: list[int] = []
    for number in range(first_repeat):
        create_store(size.store, size.scope_toml)
        init_plain_repo(bench, size.plain, size.home, size.excludes)
        done = bench.codexsnap(size.home, size.store, "snapshot")
        first.mine(done)
        rss_python.append(bench.last_rss[0])
        rss_tree.append(done.max_rss_kb)
        plain = bench.sh(size.plain, commit, size.home)
        first.theirs(plain)
        rss_plain.append(plain.max_rss_kb)
        bench.log(
            f"  [{name}] first snapshot {number + 1}/{first_repeat}: "
            f"codexsnap {done.seconds:.2f} s, git {plain.seconds:.2f} s"
        )
    tracked = bench.git(size.plain, "ls-files", work_tree=size.home).stdout.decode().split("\n")
    size.facts["baseline_files"] = len([t for t in tracked if t])
    size.facts["store_bytes"] = folder_bytes(size.store / "repo.git")
    size.facts["plain_repo_bytes"] = folder_bytes(size.plain)
    memory[name] = {
        "codexsnap_python_peak_rss_mb": round(max(rss_python) / 1024, 1),
        "codexsnap_tree_peak_rss_mb": round(max(rss_tree) / 1024, 1),
        "plain_git_peak_rss_mb": round(max(rss_plain) / 1024, 1),
        "largest_file_mb": round(size.facts["largest_file_bytes"] / MB, 1),
        "bytes_in_scope_mb": round(size.facts["bytes_in_scope"] / MB, 1),
    }

    wait_out_racy_window(newest_mtime(size.home))
    unchanged = Scenario(
        "snapshot no-change",
        name,
        "codexsnap snapshot",
        "git add -A  (warm index) + python -c pass",
        Target("≤ 2× (git add -A + interpreter start)", max_ratio=2.0)
        if name in ("mid", "large", "huge")
        else None,
    )
    starts: list[Run] = []
    for _ in range(repeat):
        done = bench.codexsnap(size.home, size.store, "snapshot")
        assert b"Nothing changed" in done.stdout, done.stdout
        unchanged.mine(done)
        unchanged.theirs(bench.git(size.plain, "add", "-A", work_tree=size.home))
        starts.append(bench.run([sys.executable, "-c", "pass"], bench.base_env))
    add_interpreter_start(unchanged, starts)
    unchanged.notes["python_peak_rss_mb"] = round(bench.last_rss[0] / 1024, 1)
    bench.log(f"  [{name}] no-change: {median_of(unchanged.codexsnap_s):.3f} s")
    floor = python_floor(bench, size, unchanged, repeat)

    changed = Scenario("snapshot one-change", name, "codexsnap snapshot", commit)
    target = size.home / "AGENTS.md"
    for number in range(repeat):
        target.write_text(f"# Agent rules\n\nAlways run the tests ({number}).\n")
        done = bench.codexsnap(size.home, size.store, "snapshot")
        assert b"1 file changed" in done.stdout, done.stdout
        changed.mine(done)
        changed.theirs(bench.sh(size.plain, commit, size.home))
    bench.log(f"  [{name}] one-change: {median_of(changed.codexsnap_s):.3f} s")
    return [first, unchanged, *([floor] if floor else []), changed]


# What any Python tool pays for a no-change snapshot, whatever it does better: the
# interpreter, one lstat per entry of the home, and reading a stat cache of that many
# entries (codexsnap's own, as it is). No CLI framework: `snapshot` starts without typer.
_FLOOR = """\
import json, os, stat, sys
stack = [sys.argv[1]]
while stack:
    for entry in os.scandir(stack.pop()):
        if stat.S_ISDIR(entry.stat(follow_symlinks=False).st_mode):
            stack.append(entry.path)
for cache in sys.argv[2:]:
    with open(cache, "rb") as handle:
        json.load(handle)
"""


def python_floor(bench: Bench, size: SizeRun, unchanged: Scenario, repeat: int) -> Scenario | None:
    """The no-change snapshot against the floor of a Python walk (_FLOOR), same runs."""
    if size.spec.name not in ("mid", "large", "huge"):
        return None
    caches = [str(p) for p in sorted((size.store / "cache").glob("*.json"))]
    floor = Scenario(
        "snapshot no-change vs Python floor",
        size.spec.name,
        "codexsnap snapshot (the runs above)",
        "python: os.scandir + lstat of the home, json.load of the stat cache",
    )
    floor.codexsnap_s = list(unchanged.codexsnap_s)
    floor.codexsnap_cpu_s = list(unchanged.codexsnap_cpu_s)
    for _ in range(repeat):
        floor.theirs(
            bench.run([sys.executable, "-c", _FLOOR, str(size.home), *caches], bench.base_env)
        )
    return floor


_EDIT = """\
import json, sys
for name in (".codex-global-state.json", ".codex-global-state.json.bak"):
    with open(name, encoding="utf-8") as handle:
        state = json.load(handle)
    state["electron-remote-control-client-enrollments"] = {}
    with open(name, "w", encoding="utf-8") as handle:
        json.dump(state, handle, ensure_ascii=False, separators=(",", ":"))
"""


def add_interpreter_start(scenario: Scenario, starts: list[Run]) -> None:
    """The baseline gains ``python -c pass``: a Python tool cannot start faster."""
    scenario.baseline_offset_s = median_of([r.seconds for r in starts])
    scenario.baseline_offset_cpu_s = median_of([r.cpu_seconds for r in starts])
    scenario.notes["interpreter_start_median_s"] = round(scenario.baseline_offset_s, 4)


def bench_repairs(bench: Bench, size: SizeRun, repeat: int) -> list[Scenario]:
    """fix, show and rollback on the medium home, each against plain git (and a Python edit)."""
    name = size.spec.name
    fix = Scenario(
        "fix (remote-control)",
        name,
        "codexsnap fix --yes --json",
        "git commit; python edit of both state files; git add -A && git commit",
        Target("≤ 3× (plain git + python edit)", max_ratio=3.0),
    )
    show = Scenario("show (global state)", name, "codexsnap show ID", "git show HEAD")
    rollback = Scenario(
        "rollback",
        name,
        "codexsnap rollback ID --yes --json",
        "git checkout HEAD~1 -- . && git commit",
    )
    original = (size.home / GLOBAL).read_bytes()
    plain_fix = (
        "git add -A && git commit -q --allow-empty -m before && "
        f"(cd \"$GIT_WORK_TREE\" && {sys.executable} -c '{_EDIT}') && "
        "git add -A && git commit -q -m after"
    )
    for _ in range(repeat):
        done = bench.codexsnap(size.home, size.store, "fix", "--yes", "--json")
        fix.mine(done)
        result = json.loads(done.stdout)
        assert result["changed"], result
        before, after = result["snapshot_before"], result["snapshot_after"]
        show.mine(bench.codexsnap(size.home, size.store, "show", after))
        done = bench.codexsnap(size.home, size.store, "rollback", before, "--yes", "--json")
        rollback.mine(done)
        assert (size.home / GLOBAL).read_bytes() == original

        fix.theirs(bench.sh(size.plain, plain_fix, size.home))
        show.theirs(bench.git(size.plain, "show", "HEAD", work_tree=size.home))
        rollback.theirs(
            bench.sh(
                size.plain, "git checkout -q HEAD~1 -- . && git commit -q -m rollback", size.home
            )
        )
        assert (size.home / GLOBAL).read_bytes() == original
    bench.log(
        f"  [{name}] fix {median_of(fix.codexsnap_s):.3f} s, show "
        f"{median_of(show.codexsnap_s):.3f} s, rollback {median_of(rollback.codexsnap_s):.3f} s"
    )
    if name != "medium":
        return [fix]
    return [bench_first_fix(bench, size, repeat, plain_fix), fix, show, rollback]


def bench_first_fix(bench: Bench, size: SizeRun, repeat: int, plain_fix: str) -> Scenario:
    """The first use: a fix into an empty store (its "before" snapshot reads every file),
    against a first commit into a new repository, the edit and a second commit."""
    first = Scenario(
        "fix first use",
        size.spec.name,
        "codexsnap fix --yes --json  (empty store)",
        "git init; same as fix, the first commit of every file included",
        Target("≤ 3× (plain git + python edit)", max_ratio=3.0),
    )
    original = (size.home / GLOBAL).read_bytes()
    store = size.store.parent / "store-first"
    plain = size.plain.parent / "plain-first.git"
    for _ in range(max(1, min(repeat, 3))):
        create_store(store, size.scope_toml)
        init_plain_repo(bench, plain, size.home, size.excludes)
        done = bench.codexsnap(size.home, store, "fix", "--yes", "--json")
        first.mine(done)
        before = json.loads(done.stdout)["snapshot_before"]
        bench.codexsnap(size.home, store, "rollback", before, "--yes", "--json")
        first.theirs(bench.sh(plain, plain_fix, size.home))
        bench.sh(plain, "git checkout -q HEAD~1 -- .", size.home)
        assert (size.home / GLOBAL).read_bytes() == original
    shutil.rmtree(store, ignore_errors=True)
    shutil.rmtree(plain, ignore_errors=True)
    return first


def bench_fix_scale(medium: Scenario | None, large: Scenario) -> Scenario | None:
    """The fix on the large home against the fix on the medium one: the cost should follow
    the change (two files), not the thousands of files beside it."""
    if medium is None:
        return None
    scenario = Scenario(
        "fix, sessions in scope",
        large.size,
        "codexsnap fix --yes --json  (large home)",
        "codexsnap fix --yes --json  (medium home)",
        Target("≤ 1.5× the medium home's fix", max_ratio=1.5),
    )
    scenario.codexsnap_s, scenario.codexsnap_cpu_s = large.codexsnap_s, large.codexsnap_cpu_s
    scenario.baseline_s, scenario.baseline_cpu_s = medium.codexsnap_s, medium.codexsnap_cpu_s
    return scenario


def bench_session_rollbacks(bench: Bench, size: SizeRun, repeat: int) -> list[Scenario]:
    """Rollback of one transcript (the 20 MB one, the largest) and of every session, each
    against ``git checkout`` of the same files, with the peak memory of codexsnap's process."""
    snapshot = json.loads(bench.codexsnap(size.home, size.store, "snapshot", "--json").stdout)
    target = snapshot["id"]
    sessions = sorted(
        (p for p in (size.home / "sessions").rglob("*.jsonl")), key=lambda p: p.stat().st_size
    )
    long_ones = sorted((size.home / "sessions" / "2026").rglob("*long-*.jsonl"))
    picks = [("rollback one long session", [p]) for p in long_ones[:1]]
    picks.append(("rollback the largest session", [sessions[-1]]))
    picks.append(("rollback all sessions", sessions))
    scenarios = []
    for label, paths in picks:
        largest = max(p.stat().st_size for p in paths)
        total = sum(p.stat().st_size for p in paths)
        limit_mb = 2 * largest / MB + 120
        scenario = Scenario(
            label,
            size.spec.name,
            "codexsnap rollback ID --path ... --yes --json",
            "git checkout HEAD -- PATHS + python -c pass",
            Target("≤ 5× (git checkout + interpreter start)", max_ratio=5.0),
        )
        relpaths = [p.relative_to(size.home).as_posix() for p in paths]
        given = ["sessions"] if len(paths) > 1 else relpaths
        peaks: list[int] = []
        starts: list[Run] = []
        for _ in range(1 if len(paths) > 1 else repeat):
            _append_to(paths)
            done = bench.codexsnap(
                size.home,
                size.store,
                "rollback",
                target,
                *[arg for path in given for arg in ("--path", path)],
                "--yes",
                "--json",
            )
            scenario.mine(done)
            peaks.append(bench.last_rss[0])
            scenario.notes["json_output_bytes"] = len(done.stdout)
            _append_to(paths)
            checkout = f"git checkout -q HEAD -- {' '.join(given)}"
            scenario.theirs(bench.sh(size.plain, checkout, size.home))
            starts.append(bench.run([sys.executable, "-c", "pass"], bench.base_env))
        add_interpreter_start(scenario, starts)
        peak_mb = max(peaks) / 1024
        scenario.notes.update(
            files=len(paths),
            bytes_mb=round(total / MB, 1),
            largest_file_mb=round(largest / MB, 1),
            python_peak_rss_mb=round(peak_mb, 1),
            peak_limit_mb=round(limit_mb, 1),
            peak_met=peak_mb <= limit_mb,
        )
        bench.log(
            f"  [{size.spec.name}] {label}: {median_of(scenario.codexsnap_s):.2f} s, "
            f"peak {peak_mb:.0f} MB (limit {limit_mb:.0f} MB)"
        )
        scenarios.append(scenario)
    return scenarios


def _append_to(paths: list[Path]) -> None:
    """As Codex appends to a live transcript: a new last line in each file."""
    for path in paths:
        with path.open("ab") as handle:
            handle.write(b'{"type":"event_msg","payload":{"type":"token_count"}}\n')


def build_history(
    bench: Bench, home: Path, store: Path, count: int, budget_s: float
) -> dict[str, Any]:
    """``count`` snapshots of ``home``: real ones while the budget lasts, then clones of them.

    Real snapshots are taken in-process (store.take_snapshot under store.locked()), one small
    change each. The rest are commits written with the same trees and messages as the last
    two real ones, alternately, so every snapshot is valid and changes one file.
    """
    from codexsnap.store import SnapshotStore

    scope = load_scope(store)
    note = home / "memories" / "bench-counter.md"
    note.parent.mkdir(exist_ok=True)
    real: list[str] = []
    start = time.perf_counter()
    with SnapshotStore.open(store, create=True) as opened, opened.locked():
        while len(real) < count and (len(real) < 2 or time.perf_counter() - start < budget_s):
            note.write_text(f"counter {len(real)}\n")
            done = opened.take_snapshot(home, scope, "snapshot", {"Operation": "snapshot"})
            real.append(done.snapshot.id)
    real_s = time.perf_counter() - start
    git_dir = store / "repo.git"
    ref = bench.git(
        git_dir, "for-each-ref", "--format=%(refname)", f"--points-at={real[-1]}"
    ).stdout.decode()
    ref = ref.split()[0]
    missing = count - len(real)
    if missing > 0:
        templates = []
        for commit in real[-2:]:
            raw = bench.git(git_dir, "cat-file", "commit", commit).stdout
            header, message = raw.split(b"\n\n", 1)
            tree = header.split(b"\n")[0].split()[1].decode()
            templates.append((tree, message))
        parent = real[-1]
        stamp = int(time.time()) - missing
        objects = bench.work / "commit-objects"
        shutil.rmtree(objects, ignore_errors=True)
        objects.mkdir()
        paths = []
        expected = []

        for number in range(missing):
            tree, message = templates[number % 2]
            who = f"codexsnap <codexsnap@localhost> {stamp + number} +0000"
            body = (
                f"tree {tree}\nparent {parent}\nauthor {who}\ncommitter {who}\n\n".encode()
                + message
            )
            parent = hashlib.sha1(
                b"commit %d\0" % len(body) + body, usedforsecurity=False
            ).hexdigest()
            path = objects / f"{number:06d}"
            path.write_bytes(body)
            paths.append(str(path))
            expected.append(parent)
        out = bench.run(
            ["git", "hash-object", "-t", "commit", "-w", "--stdin-paths"],
            bench.git_env(git_dir),
            stdin=("\n".join(paths) + "\n").encode(),
        )
        assert out.stdout.decode().split() == expected, "commit ids differ from the computed ones"
        bench.git(git_dir, "update-ref", ref, expected[-1], real[-1])
        shutil.rmtree(objects)
    return {"snapshots": count, "real_snapshots": len(real), "real_snapshots_s": round(real_s, 2)}


def bench_history(bench: Bench, repeat: int, count: int, budget_s: float) -> list[Scenario]:
    root = bench.work / "history"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir()
    builder = CodexHomeBuilder(root / "home", with_runtime=False, with_sqlite=False)
    home = builder.build().resolve()
    store = root / "store"
    create_store(store, None)
    facts = build_history(bench, home, store, count, budget_s)
    git_dir = store / "repo.git"
    ref = bench.git(git_dir, "for-each-ref", "--format=%(refname)", "refs/codexsnap/homes/")
    ref_name = ref.stdout.decode().split()[0]
    listed = bench.codexsnap(home, store, "history", "-n", str(count), "--json")
    facts["listed"] = len(json.loads(listed.stdout))
    assert facts["listed"] == count, facts
    scenario = Scenario(
        f"history ({count} snapshots)",
        "",
        f"codexsnap history -n {count}",
        f"git log --oneline -n {count} + python -c pass",
        Target("≤ 3× (git log + interpreter start)", max_ratio=3.0),
        notes=facts,
    )
    interpreter: list[Run] = []
    for _ in range(repeat):
        scenario.mine(bench.codexsnap(home, store, "history", "-n", str(count)))
        scenario.theirs(bench.git(git_dir, "log", "--oneline", "-n", str(count), ref_name))
        interpreter.append(bench.run([sys.executable, "-c", "pass"], bench.base_env))
    scenario.baseline_offset_s = median_of([r.seconds for r in interpreter])
    scenario.baseline_offset_cpu_s = median_of([r.cpu_seconds for r in interpreter])
    scenario.notes["git_log_median_s"] = round(median_of(scenario.baseline_s), 4)
    scenario.notes["interpreter_start_median_s"] = round(scenario.baseline_offset_s, 4)
    bench.log(f"  history: {median_of(scenario.codexsnap_s):.3f} s")
    # The same runs against a Python program that does nothing but run the very `git log`
    # codexsnap runs (its format, bodies and all) and read its output: the floor of a
    # Python history; what is above it is codexsnap's own imports and work.
    floor = Scenario(
        f"history vs Python + its git log ({count})",
        "",
        scenario.command,
        "python -c: subprocess.run of git log --format=%H%x00%P%x00%cI%x00%B -n N",
    )
    floor.codexsnap_s = list(scenario.codexsnap_s)
    floor.codexsnap_cpu_s = list(scenario.codexsnap_cpu_s)
    program = (
        "import subprocess, sys; subprocess.run(['git', '--git-dir', sys.argv[1], 'log', "
        "'--format=%H%x00%P%x00%cI%x00%B%x1e', '-n' + sys.argv[2], sys.argv[3], '--'], "
        "capture_output=True, check=True)"
    )
    for _ in range(repeat):
        floor.theirs(
            bench.run(
                [sys.executable, "-c", program, str(git_dir), str(count), ref_name],
                bench.base_env,
            )
        )
    return [scenario, floor]


def folder_bytes(folder: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
            except FileNotFoundError:
                continue
    return total


def newest_mtime(home: Path) -> float:
    newest = 0.0
    for dirpath, _, files in os.walk(home):
        for name in files:
            if name.endswith("-shm"):  # readers touch it; no snapshot depends on it
                continue
            try:
                newest = max(newest, os.lstat(os.path.join(dirpath, name)).st_mtime)
            except FileNotFoundError:
                continue
    return newest


# ----- the machine and the report ---------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        if found:
            cpu = found[1].strip()
    except OSError:
        pass
    git_version = subprocess.run(
        ["git", "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    sqlite_version = sqlite3.sqlite_version
    return {
        "system": f"{platform.system()} {platform.release()} {platform.machine()}",
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": _memory_gb(),
        "python": platform.python_version(),
        "git": git_version,
        "sqlite": sqlite_version,
    }


def _memory_gb() -> float | None:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return None
    found = re.search(r"MemTotal:\s+(\d+) kB", text)
    return round(int(found[1]) / 1024 / 1024, 1) if found else None


def _load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def checkout_revision() -> str | None:
    """The commit measured, with "+changes" when codexsnap/ has uncommitted edits."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    done = subprocess.run(
        ["git", "-C", str(CODE), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    dirty = subprocess.run(
        ["git", "-C", str(CODE), "status", "--porcelain", "--", "codexsnap"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    revision = done.stdout.strip()
    return (revision + ("+changes" if dirty.stdout.strip() else "")) or None


def seconds_text(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def table(rows: list[dict[str, Any]]) -> str:
    """Medians of wall time; the CPU ratio (user + system, process trees) is steadier under load."""
    header = ["scenario", "codexsnap", "baseline", "ratio", "cpu ratio", "target", "met?"]
    lines = [header]
    for row in rows:
        label = f"{row['scenario']} [{row['size']}]" if row["size"] else row["scenario"]
        met = {True: "yes", False: "NO", None: "-"}[row["met"]]
        cpu = row["codexsnap_cpu_median_s"] / max(row["baseline_cpu_median_s"], 1e-6)
        lines.append(
            [
                label,
                seconds_text(row["codexsnap_median_s"]),
                seconds_text(row["baseline_median_s"]),
                f"{row['ratio']:.2f}×",
                f"{cpu:.2f}×",
                row["target"] or "-",
                met,
            ]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for number, line in enumerate(lines):
        cells = [cell.ljust(width) for cell, width in zip(line, widths, strict=True)]
        out.append("| " + " | ".join(cells) + " |")
        if number == 0:
            out.append("|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(out)


def memory_table(memory: dict[str, Any]) -> str:
    lines = [
        "| home | in scope | largest file | codexsnap python process | codexsnap with its git"
        " processes | plain git |",
        "|---|---|---|---|---|---|",
    ]
    for name, facts in memory.items():
        lines.append(
            f"| {name} | {facts['bytes_in_scope_mb']} MB | {facts['largest_file_mb']} MB | "
            f"{facts['codexsnap_python_peak_rss_mb']} MB | "
            f"{facts['codexsnap_tree_peak_rss_mb']} MB | "
            f"{facts['plain_git_peak_rss_mb']} MB |"
        )
    return "\n".join(lines)


def comparison(rows: list[dict[str, Any]], previous: dict[str, Any]) -> str:
    """codexsnap's medians against an earlier results file (another version, same machine)."""
    before = {(r["scenario"], r["size"]): r for r in previous.get("scenarios", [])}
    lines = [
        f"| scenario | before ({previous.get('codexsnap', '?')}, {previous.get('revision', '?')})"
        " | now | change |",
        "|---|---|---|---|",
    ]
    for row in rows:
        old = before.get((row["scenario"], row["size"]))
        if old is None:
            continue
        label = f"{row['scenario']} [{row['size']}]" if row["size"] else row["scenario"]
        change = row["codexsnap_median_s"] / old["codexsnap_median_s"] - 1
        lines.append(
            f"| {label} | {seconds_text(old['codexsnap_median_s'])} | "
            f"{seconds_text(row['codexsnap_median_s'])} | {change:+.0%} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--sizes",
        default="small,medium,mid,large",
        help="comma-separated: small,medium,mid,large,huge",
    )
    parser.add_argument("--repeat", type=int, default=None, help="runs per scenario (default 5)")
    parser.add_argument(
        "--json",
        type=Path,
        default=ROOT / "benchmarks" / "results" / "latest.json",
        help="write the results here",
    )
    parser.add_argument("--quick", action="store_true", help="tiny homes, one run: smoke test")
    parser.add_argument("--history", type=int, default=None, help="snapshots for history")
    parser.add_argument("--work", type=Path, help="working folder (default: a temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the working folder")
    parser.add_argument(
        "--compare", type=Path, help="an earlier results file: print the change per scenario"
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="shrink the sessions of the large and huge homes by this factor",
    )
    parser.add_argument(
        "--code", type=Path, help="measure the codexsnap of this checkout (an older one)"
    )
    args = parser.parse_args(argv)
    global CODE
    if args.code:
        CODE = args.code.resolve()

    repeat = args.repeat or (1 if args.quick else 5)
    history_count = args.history or (20 if args.quick else 1000)
    specs = home_specs(args.quick, args.scale)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in specs]
    if unknown:
        parser.error(f"unknown sizes: {', '.join(unknown)}")

    work = args.work or Path(tempfile.mkdtemp(prefix="codexsnap-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    work = work.resolve()
    bench = Bench(work)
    started = time.perf_counter()
    load_start = _load_average()
    revision = checkout_revision()
    scenarios: list[Scenario] = []
    homes: dict[str, Any] = {}
    memory: dict[str, Any] = {}
    pool = TextPool()
    builders: list[CodexHomeBuilder] = []
    fixes: dict[str, Scenario] = {}
    try:
        bench.log(f"working in {work}")
        scenarios.append(bench_help(bench, repeat))
        for name in sizes:
            bench.log(f"building the {name} home")
            size, build_s = prepare_size(bench, specs[name], pool)
            builders.append(size.builder)
            homes[name] = size.facts
            bench.log(
                f"  {size.facts['files_in_scope']} files, "
                f"{size.facts['bytes_in_scope'] / MB:.1f} MB in scope, built in {build_s:.1f} s"
            )
            # The first snapshot of a 1 GB home is the slowest scenario: fewer runs.
            first_repeat = repeat if name in ("small", "medium") else max(1, min(repeat, 2))
            scenarios += bench_snapshots(bench, size, repeat, first_repeat, memory)
            if name in ("medium", "large"):
                done = bench_repairs(bench, size, repeat)
                scenarios += done
                fixes[name] = next(s for s in done if s.name == "fix (remote-control)")
            if name == "large":
                scaled = bench_fix_scale(fixes.get("medium"), fixes["large"])
                scenarios += [scaled] if scaled else []
                scenarios += bench_session_rollbacks(bench, size, repeat)
            if name in ("large", "huge") and not args.keep:
                size.builder.close()
                shutil.rmtree(size.home.parent, ignore_errors=True)
        scenarios += bench_history(bench, repeat, history_count, 1.0 if args.quick else 10.0)
    finally:
        for builder in builders:
            builder.close()
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)

    rows = [s.to_json() for s in scenarios]
    results = {
        "codexsnap": __version__,
        "revision": revision,
        "revision_at_end": checkout_revision(),
        "date": datetime.now().isoformat(timespec="seconds"),
        "quick": args.quick,
        "scale": args.scale,
        "code": str(CODE),
        "repeat": repeat,
        "machine": machine(),
        "homes": homes,
        "memory": memory,
        "scenarios": rows,
        "total_s": round(time.perf_counter() - started, 1),
        "load_average_start_end": [load_start, _load_average()],
        "runs_refused_while_a_codex_process_ran": bench.refused_runs,
    }
    print(table(rows))
    print()
    print(memory_table(memory))
    print(f"\ntotal {results['total_s']} s on {results['machine']['cpu']}")
    if args.compare:
        print()
        print(comparison(rows, json.loads(args.compare.read_text())))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
