"""Bad input, one case per test: broken or odd state files, a missing or misplaced home or
store, a damaged or tampered store, bad ids, a held lock, a Codex that starts mid-way, busy or
corrupt databases, writes that fail.

A refusal is one ``Error:`` line that names the culprit, a ``Hint:`` line saying what to do, the
exit code docs/reference.md#exit-codes gives, no traceback, and no change in the home or in the
store. Where success is the right outcome the test id says so and the result is checked instead.
Failures that happen once the store is locked (a write into the home, a busy database) leave
the home unchanged and the store only grown: the "before" snapshot stays, nothing is lost.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from codexsnap.cli.app import app
from codexsnap.commands import Confirm, ask
from codexsnap.diff_report import DiffReport
from codexsnap.store import SnapshotResult, SnapshotStore, home_id
from tests.helpers import file_states, git_in_store
from tests.homebuilder import CodexHomeBuilder, global_state, insert_thread, thread_id
from tests.storetools import (
    Manifest,
    Tamper,
    Tree,
    commit_tampered,
    home_ref,
    plumb,
    record,
    tree_line,
)

REPO = Path(__file__).resolve().parents[1]
GLOBAL = ".codex-global-state.json"
BAK = ".codex-global-state.json.bak"
ENROLL = "electron-remote-control-client-enrollments"
STATE_DB = "sqlite/state_5.sqlite"  # the desktop app's live database
HELD = thread_id(4242)  # the thread a concurrent writer adds


States = dict[str, tuple[bytes, int]]
Listing = dict[str, tuple[Any, ...]]


# ----- running codexsnap ---------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """How one codexsnap run ended."""

    code: int
    stdout: str
    stderr: str


def invoke(cli: CliRunner, *args: str) -> Outcome:
    """Run the CLI in-process; an exception escaping it would be a traceback for a user."""
    result = cli.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return Outcome(result.exit_code, result.stdout, result.stderr)


# Fails one write into the home only: the same fault points guard the store's own writes
# (its stat cache, the journal), which come first. A home write is staged (write_temp), then
# renamed once every file is staged (rename_temp): the fault is armed for the Nth of each.
# Counts the rename attempts it saw failing.
_ARMED_CLI = """
import atexit, os, sys
import codexsnap.atomic_io as atomic_io
import codexsnap.transaction.staging as staging
wanted, spec = os.environ.pop("CODEXSNAP_TEST_ARM").split("|")
tries_file = os.environ.pop("CODEXSNAP_TEST_TRIES")
tries = [0]
point = atomic_io.fault_point
def counting_point(name):
    if name == "replace" and os.environ.get("CODEXSNAP_TEST_FAULT"):
        tries[0] += 1
    point(name)
def armed(real):
    seen = [0]
    def call(*args, **kwargs):
        seen[0] += 1
        if seen[0] == int(wanted):
            os.environ["CODEXSNAP_TEST_FAULT"] = spec
        try:
            return real(*args, **kwargs)
        finally:
            os.environ.pop("CODEXSNAP_TEST_FAULT", None)
    return call
atomic_io.fault_point = counting_point
staging.write_temp = armed(staging.write_temp)
staging.rename_temp = armed(staging.rename_temp)
atexit.register(lambda: open(tries_file, "w").write(str(tries[0])))
from codexsnap.cli import main
sys.argv = ["codexsnap", *sys.argv[1:]]
main()
"""


def codexsnap(
    *args: str,
    fault: str | None = None,
    home_write: int | None = None,
    tries_file: Path | None = None,
    timeout: float = 60,
) -> Outcome:
    """Run codexsnap in its own process; ``home_write`` arms ``fault`` for that write only."""
    env = {k: v for k, v in os.environ.items() if k != "CODEXSNAP_TEST_FAULT"}
    command = [sys.executable, "-m", "codexsnap", *args]
    if home_write is not None:
        assert fault is not None and tries_file is not None
        env["CODEXSNAP_TEST_ARM"] = f"{home_write}|{fault}"
        env["CODEXSNAP_TEST_TRIES"] = str(tries_file)
        command = [sys.executable, "-c", _ARMED_CLI, *args]
    elif fault is not None:
        env["CODEXSNAP_TEST_FAULT"] = fault
    done = subprocess.run(
        command, capture_output=True, text=True, env=env, cwd=REPO, timeout=timeout, check=False
    )
    return Outcome(done.returncode, done.stdout, done.stderr)


def assert_refused(outcome: Outcome, code: int, *names: str) -> None:
    """The documented code, one ``Error:`` line naming ``names``, a ``Hint:``, no traceback."""
    assert outcome.code == code, outcome
    assert "Traceback" not in outcome.stdout + outcome.stderr, outcome
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 2, outcome.stderr
    error, hint = lines
    assert error.startswith("Error: ") and "internal error" not in error, error
    for name in names:
        assert name in error, (name, error)
    assert hint.startswith("Hint: ") and len(hint.split()) >= 3, hint


def assert_ok(outcome: Outcome) -> None:
    assert outcome.code == 0, outcome
    assert "Traceback" not in outcome.stdout + outcome.stderr


# ----- what must not change --------------------------------------------------------------


def home_files(home: Path) -> States:
    """Every file and link of the home, in scope or not, but SQLite's shared-memory index
    (any reader of a WAL database updates its read marks; it holds no data)."""
    return {
        relpath: state
        for relpath, state in file_states(home, include_excluded=True).items()
        if not relpath.endswith("-shm")
    }


def store_files(root: Path) -> Listing:
    """Every entry of the store: folders by mode; files by mode, size, content and mtime;
    links by target. The lock file's mtime moves whenever someone tries the lock."""
    if not os.path.lexists(root):
        return {}
    found: Listing = {}
    entries = [root] if not root.is_dir() else [root, *root.rglob("*")]
    for path in entries:
        relpath = path.relative_to(root).as_posix() if path != root else "."
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode):
            found[relpath] = ("link", os.readlink(path))
        elif stat.S_ISDIR(st.st_mode):
            found[relpath] = ("folder", stat.S_IMODE(st.st_mode))
        else:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            mtime = None if path.name == "codexsnap.lock" else st.st_mtime_ns
            found[relpath] = ("file", stat.S_IMODE(st.st_mode), st.st_size, digest, mtime)
    return found


@dataclass(frozen=True)
class Frozen:
    """The home and the store as they were before the command under test."""

    home: Path
    store: Path
    home_states: States
    store_listing: Listing
    head: str | None  # the home's latest snapshot

    def assert_home_unchanged(self) -> None:
        assert home_files(self.home) == self.home_states

    def assert_unchanged(self) -> None:
        self.assert_home_unchanged()
        assert store_files(self.store) == self.store_listing

    def assert_store_only_grew(self) -> None:
        """Objects all kept, the home's history extended, no journal left, git fsck clean."""
        now = store_files(self.store)
        for relpath, entry in self.store_listing.items():
            # git refreshes the mtime of an object it is asked to write again: compare content.
            if relpath.startswith("repo.git/objects/"):
                assert now.get(relpath, ())[:4] == entry[:4], relpath
        head = latest(self.store, self.home)
        assert head is not None
        if self.head is not None:
            ancestor = git_in_store(self.store, "merge-base", "--is-ancestor", self.head, head)
            assert ancestor.returncode == 0, (self.head, head)
        assert not any((self.store / "journal").glob("*.json"))
        checked = git_in_store(self.store, "fsck", "--full", "--no-dangling")
        assert checked.returncode == 0, checked.stdout + checked.stderr


def latest(store: Path, home: Path) -> str | None:
    """The id of the home's latest snapshot, None without one."""
    if not (store / "repo.git").is_dir():
        return None
    ref = f"refs/codexsnap/homes/{home_id(home)}"
    found = git_in_store(store, "rev-parse", "--verify", "--quiet", ref)
    return found.stdout.strip() if found.returncode == 0 else None


def freeze(home: Path, store: Path) -> Frozen:
    return Frozen(home, store, home_files(home), store_files(store), latest(store, home))


def snapshot(cli: CliRunner, message: str = "base") -> str:
    """Take a snapshot through the CLI and return its full id."""
    outcome = invoke(cli, "snapshot", "-m", message, "--json")
    assert_ok(outcome)
    snapshot_id: str = json.loads(outcome.stdout)["id"]
    return snapshot_id


def fake_codex(tmp_path: Path) -> Path:
    """An executable the process check takes for the desktop app."""
    exe = tmp_path / "Codex"
    if not exe.exists():
        shutil.copy("/bin/sleep", exe)
    return exe


def assert_fixed(home: Path, primary_before: bytes) -> None:
    """The enrollment is gone, every other member kept in order, and .bak mirrors it."""
    primary = (home / GLOBAL).read_bytes()
    old, new = json.loads(primary_before), json.loads(primary)
    assert ENROLL not in new
    assert list(new.items()) == [(k, v) for k, v in old.items() if k != ENROLL]
    assert (home / BAK).read_bytes() == primary


# ----- 1. state files Codex could not read: exit 4 ---------------------------------------


@pytest.mark.parametrize(
    ("content", "words"),
    [
        pytest.param(b'{"a": 1, "electron-remote', "not valid JSON", id="truncated-json"),
        pytest.param(b"\x00" * 4096, "NUL bytes", id="nul-bytes"),
        pytest.param(b'{"a": 1}' + b"\x00" * 512, "NUL bytes", id="nul-tail-of-a-torn-write"),
        pytest.param(b"", "empty", id="empty-file"),
        pytest.param(b" \n\t\n", "empty", id="whitespace-only"),
        pytest.param(b'\xef\xbb\xbf{"a": 1}', "byte-order mark", id="bom"),
        pytest.param(b"[1, 2]", "not an object", id="top-level-array"),
        pytest.param(b'"state"', "not an object", id="top-level-string"),
        pytest.param(b"null", "not an object", id="top-level-null"),
        pytest.param(b'{"a": "\xff\xfe"}', "not valid UTF-8", id="invalid-utf8"),
        pytest.param(b'{"a": "\xed\xa0\x80"}', "not valid UTF-8", id="utf8-encoded-surrogate"),
        pytest.param(b'{"a": 1} {"b": 2}', "not valid JSON", id="two-documents"),
        pytest.param(b'{"a": 1,}', "not valid JSON", id="trailing-comma"),
        pytest.param(b'{"a": "line\nbreak"}', "not valid JSON", id="raw-newline-in-a-string"),
        pytest.param(b"{'a': 1}", "not valid JSON", id="single-quotes"),
        pytest.param(
            b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            "nested too deeply",
            id="nested-100000-deep",
        ),
        pytest.param(b'{"a": NaN}', "not valid JSON", id="nan-literal", marks=()),
        pytest.param(b'{"a": -Infinity}', "not valid JSON", id="infinity-literal", marks=()),
    ],
)
def test_unreadable_global_state_is_refused_with_exit_4(
    codex_home: Path, store_root: Path, cli: CliRunner, content: bytes, words: str
) -> None:
    (codex_home / GLOBAL).write_bytes(content)
    frozen = freeze(codex_home, store_root)
    outcome = invoke(cli, "fix", "--yes")
    assert_refused(outcome, 4, GLOBAL, words)
    assert "codexsnap rollback" in outcome.stderr  # restore from a snapshot, never from .bak
    frozen.assert_unchanged()
    assert not store_root.exists()


# ----- 2. odd but readable state files: success ------------------------------------------


def test_duplicate_keys_success_every_copy_of_the_enrollment_goes(
    codex_home: Path, store_root: Path, cli: CliRunner
) -> None:
    # JSON.parse keeps the last of duplicate keys: both enrollments would count, both go.
    content = (
        b'{"a":1,"electron-remote-control-client-enrollments":{"k":{"clientId":"cli_1"}},'
        b'"a":2,"z":[1],"electron-remote-control-client-enrollments":{"k":{"clientId":"cli_2"}}}'
    )
    for name in (GLOBAL, BAK):
        (codex_home / name).write_bytes(content)
    assert_ok(invoke(cli, "fix", "--yes"))
    assert (codex_home / GLOBAL).read_bytes() == b'{"a":1,"a":2,"z":[1]}'
    assert (codex_home / BAK).read_bytes() == b'{"a":1,"a":2,"z":[1]}'


@pytest.mark.parametrize(
    "depth",
    [
        pytest.param(200, id="nested-200-deep-success"),
        pytest.param(
            600,
            id="nested-600-deep-success",
        ),
    ],
)
def test_deeply_nested_member_is_kept(
    codex_home: Path, store_root: Path, cli: CliRunner, depth: int
) -> None:
    # Python's json reads ~1000 levels and JSON.parse more: what parses must not crash.
    deep = b'{"x":' * depth + b"1" + b"}" * depth
    content = b'{"deep":' + deep + b',"' + ENROLL.encode() + b'":{"k":{"clientId":"cli_1"}}}'
    for name in (GLOBAL, BAK):  # both alike: a .bak still listing projects is refused
        (codex_home / name).write_bytes(content)
    assert_ok(invoke(cli, "fix", "--yes"))
    assert (codex_home / GLOBAL).read_bytes() == b'{"deep":' + deep + b"}"
    assert (codex_home / BAK).read_bytes() == (codex_home / GLOBAL).read_bytes()


def test_escapes_and_lone_surrogates_success_kept_byte_for_byte(
    codex_home: Path, store_root: Path, cli: CliRunner
) -> None:
    # JSON.parse takes "\ud800" (a lone surrogate escape) and the app writes it back.
    kept = b'{"s":"\\ud800 \\u00e9 \\"q\\" \\\\","n":-0.0e+00,"big":123456789012345678901234567890'
    for name in (GLOBAL, BAK):
        (codex_home / name).write_bytes(kept + b',"' + ENROLL.encode() + b'":{}}')
    assert_ok(invoke(cli, "fix", "--yes"))
    assert (codex_home / GLOBAL).read_bytes() == kept + b"}"
    assert (codex_home / BAK).read_bytes() == kept + b"}"


def test_lone_surrogate_in_the_removed_enrollment_success_and_reported(
    codex_home: Path, store_root: Path, cli: CliRunner
) -> None:
    enrollment = b'{"k":{"clientId":"cli_1","algorithm":"\\udc00"}}'
    for name in (GLOBAL, BAK):
        (codex_home / name).write_bytes(b'{"a":1,"' + ENROLL.encode() + b'":' + enrollment + b"}")
    outcome = invoke(cli, "fix", "--yes")
    assert (codex_home / GLOBAL).read_bytes() == b'{"a":1}'  # the change itself was made
    assert_ok(outcome)
    assert "algorithm" in outcome.stdout


def test_bak_missing_success(codex_home: Path, store_root: Path, cli: CliRunner) -> None:
    before = (codex_home / GLOBAL).read_bytes()
    (codex_home / BAK).unlink()
    assert_ok(invoke(cli, "fix", "--yes"))
    assert not (codex_home / BAK).exists()  # not invented: the app writes it on its next save
    primary = json.loads((codex_home / GLOBAL).read_bytes())
    assert list(primary) == [k for k in json.loads(before) if k != ENROLL]


@pytest.mark.parametrize(
    "bak",
    [
        pytest.param(b'{"older":true}', id="bak-different-success"),
        pytest.param(b"\x00" * 64, id="bak-corrupt-success"),
        pytest.param(b"", id="bak-empty-success"),
    ],
)
def test_bak_unlike_the_primary_ends_up_equal_to_the_new_primary(
    codex_home: Path, store_root: Path, cli: CliRunner, bak: bytes
) -> None:
    before = (codex_home / GLOBAL).read_bytes()
    (codex_home / BAK).write_bytes(bak)
    assert_ok(invoke(cli, "fix", "--yes"))
    assert_fixed(codex_home, before)


_RSS_WRAPPER = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"{done.returncode} {peak}")
sys.stderr.write(done.stderr)
"""


@pytest.mark.slow  # about 17 s on 2 cores: building 50 MB of JSON, then the fix itself
def test_50_mb_global_state_success_with_bounded_memory(
    builder: CodexHomeBuilder, store_root: Path
) -> None:
    home = builder.build().resolve()
    state = global_state(drafts=450_000)  # composer drafts are what grows in real homes
    big = json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode()
    del state[ENROLL]
    expected = json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode()
    del state
    assert len(big) >= 50_000_000
    for name in (GLOBAL, BAK):
        (home / name).write_bytes(big)
    del big

    # A fresh parent, so the peak is this run's (codexsnap or one of its git processes).
    command = [sys.executable, "-c", _RSS_WRAPPER, sys.executable, "-m", "codexsnap"]
    done = subprocess.run(
        [*command, "fix", "--yes"], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    code, peak_kib = (int(word) for word in done.stdout.split())
    assert code == 0, done.stderr
    assert peak_kib * 1024 < 1.5 * 2**30, f"peak RSS {peak_kib // 1024} MiB"
    assert (home / GLOBAL).read_bytes() == expected
    assert (home / BAK).read_bytes() == expected


# ----- 3. odd files, a missing home, a misplaced or newer store ----------------------------


def test_state_file_that_is_a_folder_exits_4(
    codex_home: Path, store_root: Path, cli: CliRunner
) -> None:
    snapshot(cli)
    (codex_home / GLOBAL).unlink()
    (codex_home / GLOBAL).mkdir()
    (codex_home / GLOBAL / "inside").write_bytes(b"{}")
    frozen = freeze(codex_home, store_root)
    assert_refused(invoke(cli, "fix", "--yes"), 4, GLOBAL, "folder")
    frozen.assert_unchanged()


def test_state_file_linked_outside_the_home_exits_4(
    codex_home: Path, store_root: Path, cli: CliRunner, tmp_path: Path
) -> None:
    snapshot(cli)
    outside = tmp_path / "outside.json"
    outside.write_bytes((codex_home / GLOBAL).read_bytes())
    (codex_home / GLOBAL).unlink()
    (codex_home / GLOBAL).symlink_to(outside)
    frozen, outside_before = freeze(codex_home, store_root), outside.read_bytes()
    assert_refused(invoke(cli, "fix", "--yes"), 4, GLOBAL, "outside the Codex home")
    frozen.assert_unchanged()
    assert outside.read_bytes() == outside_before


def test_state_file_linked_to_a_missing_file_exits_4(
    codex_home: Path, store_root: Path, cli: CliRunner
) -> None:
    snapshot(cli)
    (codex_home / GLOBAL).unlink()
    (codex_home / GLOBAL).symlink_to(codex_home / "gone.json")
    frozen = freeze(codex_home, store_root)
    assert_refused(invoke(cli, "fix", "--yes"), 4, GLOBAL, "missing file")
    frozen.assert_unchanged()


def test_installation_id_linked_inside_the_home_success_the_link_is_moved_not_its_target(
    codex_home: Path, store_root: Path, cli: CliRunner
) -> None:
    identity = (codex_home / "installation_id").read_bytes()
    (codex_home / "ids").mkdir()
    (codex_home / "ids" / "machine").write_bytes(identity)
    (codex_home / "installation_id").unlink()
    (codex_home / "installation_id").symlink_to("ids/machine")
    assert_ok(invoke(cli, "fix", "new-installation-id", "--yes"))
    assert (codex_home / "installation_id.codexsnap-old").read_bytes() == identity
    assert (codex_home / "ids" / "machine").read_bytes() == identity  # not someone else's file
    assert not os.path.lexists(codex_home / "installation_id")  # Codex makes a new one


@pytest.mark.parametrize("command", ["fix", "doctor"])
def test_state_file_that_is_a_link_loop_exits_4(
    codex_home: Path, store_root: Path, cli: CliRunner, command: str
) -> None:
    (codex_home / GLOBAL).unlink()
    (codex_home / GLOBAL).symlink_to("loop")
    (codex_home / "loop").symlink_to(GLOBAL)
    frozen = freeze(codex_home, store_root)
    outcome = invoke(cli, *(["fix", "--yes"] if command == "fix" else ["doctor"]))
    if command == "doctor":  # a check that finds a problem, not a refusal
        assert outcome.code == 1 and GLOBAL in outcome.stdout and "loop" in outcome.stdout
    else:
        assert_refused(outcome, 4, GLOBAL, "loop")
    frozen.assert_unchanged()


def test_state_file_that_is_a_fifo_exits_4_without_blocking(
    codex_home: Path, store_root: Path
) -> None:
    (codex_home / GLOBAL).unlink()
    os.mkfifo(codex_home / GLOBAL)
    frozen = freeze(codex_home, store_root)
    # In a process of its own: reading a FIFO nobody writes to would block forever.
    assert_refused(codexsnap("fix", "--yes", timeout=30), 4, GLOBAL)
    frozen.assert_unchanged()


def test_doctor_on_a_fifo_state_file_reports_it_without_blocking(
    codex_home: Path, store_root: Path
) -> None:
    (codex_home / GLOBAL).unlink()
    os.mkfifo(codex_home / GLOBAL)
    outcome = codexsnap("doctor", timeout=5)  # it takes about 0.5 s when it does not block
    assert outcome.code == 1, outcome
    assert GLOBAL in outcome.stdout and "Traceback" not in outcome.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_state_file_without_read_permission_exits_4(
    codex_home: Path, store_root: Path, cli: CliRunner
) -> None:
    frozen = freeze(codex_home, store_root)
    (codex_home / GLOBAL).chmod(0)
    try:
        outcome = invoke(cli, "fix", "--yes")
    finally:
        (codex_home / GLOBAL).chmod(0o644)
    assert_refused(outcome, 4, GLOBAL, "permission denied")
    frozen.assert_unchanged()


def test_state_file_without_read_permission_simulated_exits_4(
    codex_home: Path, store_root: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The variant that runs as root too: the read itself fails with EACCES.
    frozen = freeze(codex_home, store_root)
    read_bytes = Path.read_bytes

    def denied(path: Path) -> bytes:
        if path.name == GLOBAL:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return read_bytes(path)

    with monkeypatch.context() as patch:
        patch.setattr(Path, "read_bytes", denied)
        outcome = invoke(cli, "fix", "--yes")
    assert_refused(outcome, 4, GLOBAL, "permission denied")
    frozen.assert_unchanged()


def test_codex_home_that_is_a_file_exits_3(
    store_root: Path, cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_a_folder = tmp_path / "codex-home-file"
    not_a_folder.write_bytes(b"{}")
    monkeypatch.setenv("CODEX_HOME", str(not_a_folder))
    assert_refused(invoke(cli, "fix", "--yes"), 3, str(not_a_folder), "not a folder")
    assert not_a_folder.read_bytes() == b"{}"
    assert not store_root.exists()


def test_codex_home_missing_exits_3(
    store_root: Path, cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "nowhere"))
    assert_refused(invoke(cli, "fix", "--yes"), 3, str(tmp_path / "nowhere"), "does not exist")
    assert not (tmp_path / "nowhere").exists() and not store_root.exists()


def test_store_path_that_is_a_file_exits_8(
    codex_home: Path, store_root: Path, cli: CliRunner
) -> None:
    store_root.write_bytes(b"not a store")
    frozen = freeze(codex_home, store_root)
    assert_refused(invoke(cli, "fix", "--yes"), 8, str(store_root), "is a file")
    frozen.assert_unchanged()


@pytest.mark.parametrize("command", ["snapshot", "fix", "history"])
def test_store_path_under_a_file_exits_8(
    codex_home: Path, tmp_path: Path, cli: CliRunner, command: str
) -> None:
    """`--store /dev/null/x` was 'internal error: NotADirectoryError' and exit 70."""
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"not a folder")
    frozen = freeze(codex_home, blocker)
    args = {"snapshot": ["snapshot"], "fix": ["fix", "--yes"], "history": ["history"]}[command]
    outcome = invoke(cli, *args, "--store", str(blocker / "store"))
    assert_refused(outcome, 8, str(blocker / "store"), "under a file")
    frozen.assert_unchanged()


@pytest.mark.parametrize("command", ["fix", "history", "rollback"])
def test_store_of_a_newer_codexsnap_exits_8(
    codex_home: Path, store_root: Path, cli: CliRunner, command: str
) -> None:
    base = snapshot(cli)
    marker = store_root / "codexsnap-store.json"
    marker.write_text(json.dumps({**json.loads(marker.read_text()), "format": 99}) + "\n")
    frozen = freeze(codex_home, store_root)
    args = {
        "fix": ["fix", "--yes"],
        "history": ["history"],
        "rollback": ["rollback", base, "--yes"],
    }[command]
    outcome = invoke(cli, *args)
    assert_refused(outcome, 8, str(store_root), "newer codexsnap")
    assert "upgrade" in outcome.stderr.lower()
    frozen.assert_unchanged()


def test_unreadable_journal_of_an_interrupted_run_exits_8(
    codex_home: Path, store_root: Path, cli: CliRunner
) -> None:
    snapshot(cli)
    journal = store_root / "journal" / f"{home_id(codex_home)}.json"
    journal.parent.mkdir(mode=0o700, exist_ok=True)
    journal.write_bytes(b'{"format": 1, "operation": ')
    frozen = freeze(codex_home, store_root)
    assert_refused(invoke(cli, "fix", "--yes"), 8, str(journal), "unreadable")
    frozen.assert_unchanged()


# ----- 4. writes into the home that fail: exit 10, files put back -----------------------


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any folder; see the fault variant")
def test_home_folder_without_write_permission_exits_10(
    codex_home: Path, store_root: Path, cli: CliRunner
) -> None:
    snapshot(cli)
    frozen = freeze(codex_home, store_root)
    codex_home.chmod(0o555)
    try:
        outcome = invoke(cli, "fix", "--yes")
    finally:
        codex_home.chmod(0o755)
    assert_refused(outcome, 10, GLOBAL, "put back")
    frozen.assert_home_unchanged()
    frozen.assert_store_only_grew()


@pytest.mark.parametrize(
    ("fault", "home_write", "words"),
    [
        pytest.param("eacces:atomic-write", 1, "Permission denied", id="folder-not-writable"),
        pytest.param("enospc:atomic-write", 1, "No space left", id="disk-full-on-the-state"),
        pytest.param("enospc:atomic-write", 2, "No space left", id="disk-full-on-the-bak"),
        pytest.param("eacces:replace", 1, "Permission denied", id="rename-denied"),
    ],
)
def test_failed_write_into_the_home_exits_10_and_puts_the_files_back(
    codex_home: Path,
    store_root: Path,
    cli: CliRunner,
    tmp_path: Path,
    fault: str,
    home_write: int,
    words: str,
) -> None:
    snapshot(cli)
    frozen = freeze(codex_home, store_root)
    tries = tmp_path / "tries"
    outcome = codexsnap("fix", "--yes", fault=fault, home_write=home_write, tries_file=tries)
    assert_refused(outcome, 10, GLOBAL, words, "put back")
    frozen.assert_home_unchanged()
    frozen.assert_store_only_grew()
    if fault == "eacces:replace":  # an antivirus holding the file: retried, then given up
        assert int(tries.read_text()) == 5
    # Nothing half-done is left for the next run to recover: it just works.
    assert_ok(invoke(cli, "fix", "--yes"))
    assert_fixed(codex_home, frozen.home_states[GLOBAL][0])


def test_disk_full_in_the_store_exits_8_before_touching_the_home(
    codex_home: Path, store_root: Path, cli: CliRunner
) -> None:
    snapshot(cli)
    frozen = freeze(codex_home, store_root)
    # The stat cache tolerates a failed write; the journal, written before the home, cannot.
    outcome = codexsnap("fix", "--yes", fault="enospc:atomic-write")
    assert_refused(outcome, 8, "cannot write to the store", "nothing in the home was changed")
    frozen.assert_home_unchanged()
    frozen.assert_store_only_grew()


@pytest.mark.parametrize(
    ("command", "words"),
    [
        pytest.param(["snapshot"], "no snapshot was taken", id="snapshot"),
        pytest.param(["fix", "--yes"], "the fix wrote nothing into the home", id="fix"),
    ],
)
def test_disk_full_while_the_store_writes_an_object_exits_8_and_says_what_is_left(
    codex_home: Path, store_root: Path, cli: CliRunner, command: list[str], words: str
) -> None:
    """A full store disk as a snapshot writes a file's object: "internal error", exit 70."""
    snapshot(cli)
    (codex_home / "AGENTS.md").write_text("changed since the last snapshot\n")
    frozen = freeze(codex_home, store_root)
    outcome = codexsnap(*command, fault="enospc:loose-object")
    assert_refused(outcome, 8, "cannot write to the store", "No space left", words)
    frozen.assert_home_unchanged()
    assert latest(store_root, codex_home) == frozen.head  # no snapshot recorded
    assert not list((store_root / "repo.git" / "objects").rglob("tmp_obj_*"))
    assert git_in_store(store_root, "fsck", "--full").returncode == 0
    assert_ok(codexsnap(*command))  # room again: the same command works


# ----- 5. a damaged or tampered store ----------------------------------------------------


def loose_object(store: Path, oid: str) -> Path:
    path = store / "repo.git" / "objects" / oid[:2] / oid[2:]
    assert path.is_file(), oid
    return path


@pytest.mark.parametrize(
    ("damaged", "command"),
    [
        # history and a rollback to an intact older snapshot work past a damaged commit
        # (issue 13): tests/test_store_damage.py.
        pytest.param("commit", "show", id="commit-show"),
        pytest.param("tree", "show", id="tree-show", marks=()),
        pytest.param("tree", "rollback", id="tree-rollback", marks=()),
        # A damaged blob sets aside that file only: show marks it (test_store_damage.py).
        pytest.param("blob", "rollback", id="blob-rollback"),
    ],
)
def test_corrupt_git_object_exits_8(
    codex_home: Path, store_root: Path, cli: CliRunner, damaged: str, command: str
) -> None:
    first = snapshot(cli, "first")
    (codex_home / "AGENTS.md").write_bytes(b"# Agent rules\n\nEdited by hand.\n")
    second = snapshot(cli, "second")
    oid = {
        "commit": second,
        "tree": git_in_store(store_root, "rev-parse", f"{first}^{{tree}}").stdout.strip(),
        "blob": git_in_store(store_root, "rev-parse", f"{first}:files/AGENTS.md").stdout.strip(),
    }[damaged]
    loose = loose_object(store_root, oid)
    loose.chmod(0o600)
    loose.write_bytes(b"garbage, not a zlib stream\x00\xff")
    frozen = freeze(codex_home, store_root)
    args = {
        "history": ["history"],
        "show": ["show", second[:10]],
        "rollback": ["rollback", first[:10], "--yes"],
    }[command]
    assert_refused(invoke(cli, *args), 8, str(store_root))
    frozen.assert_unchanged()


def _dotdot_path(store: Path, outside: Path, manifest: Manifest, files: Tree) -> None:
    manifest["../outside/escape.txt"] = record(store, b"escaped\n")


def _nested_dotdot_path(store: Path, outside: Path, manifest: Manifest, files: Tree) -> None:
    manifest["rules/../../outside/escape.txt"] = record(store, b"escaped\n")


def _absolute_path(store: Path, outside: Path, manifest: Manifest, files: Tree) -> None:
    manifest[str(outside / "escape.txt")] = record(store, b"escaped\n")


def _linked_parent(store: Path, outside: Path, manifest: Manifest, files: Tree) -> None:
    # "evil" is a link out of the home and also the folder of "evil/x": git trees can hold
    # both (mktree does not refuse), so the tree matches the manifest.
    manifest["evil"] = record(store, os.fsencode(outside), kind="symlink", mode="0777")
    manifest["evil/x"] = record(store, b"escaped\n")
    inner = plumb(
        store, "mktree", stdin=f"{tree_line('100644', manifest['evil/x']['blob'], 'x')}\n".encode()
    )
    files["evil"] = tree_line("120000", manifest["evil"]["blob"], "evil")
    files["evil/"] = tree_line("040000", inner, "evil")


def _leaf_link_outside(store: Path, outside: Path, manifest: Manifest, files: Tree) -> None:
    manifest["AGENTS.md"] = record(
        store, os.fsencode(outside / "target.md"), kind="symlink", mode="0777"
    )
    files["AGENTS.md"] = tree_line("120000", manifest["AGENTS.md"]["blob"], "AGENTS.md")


@pytest.mark.parametrize(
    ("tamper", "culprit"),
    [
        pytest.param(_dotdot_path, "'../outside/escape.txt'", id="dotdot-path"),
        pytest.param(
            _nested_dotdot_path, "'rules/../../outside/escape.txt'", id="nested-dotdot-path"
        ),
        pytest.param(_absolute_path, "outside/escape.txt'", id="absolute-path"),
        pytest.param(_linked_parent, "'evil'", id="parent-folder-linked-outside"),
    ],
)
def test_tampered_snapshot_exits_8_and_nothing_is_written_outside_the_home(
    codex_home: Path,
    store_root: Path,
    cli: CliRunner,
    tmp_path: Path,
    tamper: Tamper,
    culprit: str,
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    snapshot(cli)
    commit = commit_tampered(store_root, codex_home, tamper, outside)
    frozen, beside_home = freeze(codex_home, store_root), sorted(tmp_path.iterdir())
    assert_refused(invoke(cli, "rollback", commit, "--yes"), 8, culprit)
    assert list(outside.iterdir()) == []
    assert sorted(tmp_path.iterdir()) == beside_home
    frozen.assert_unchanged()


def test_snapshot_holding_a_link_to_outside_success_restored_as_a_link_never_followed(
    codex_home: Path, store_root: Path, cli: CliRunner, tmp_path: Path
) -> None:
    # A link out of the home is ordinary (config kept in a dotfiles repository): it comes
    # back as the link it was, and nothing is written where it points.
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "target.md").write_bytes(b"the user's own file\n")
    snapshot(cli)
    before = home_files(codex_home)
    commit = commit_tampered(store_root, codex_home, _leaf_link_outside, outside)
    outcome = invoke(cli, "rollback", commit, "--yes", "--json")
    assert_ok(outcome)
    assert os.readlink(codex_home / "AGENTS.md") == str(outside / "target.md")
    assert [p.name for p in outside.iterdir()] == ["target.md"]
    assert (outside / "target.md").read_bytes() == b"the user's own file\n"
    after = home_files(codex_home)
    assert {k: v for k, v in after.items() if k != "AGENTS.md"} == {
        k: v for k, v in before.items() if k != "AGENTS.md"
    }
    assert_ok(invoke(cli, "rollback", json.loads(outcome.stdout)["snapshot_before"], "--yes"))
    assert home_files(codex_home) == before


def test_unknown_snapshot_id_exits_7(codex_home: Path, store_root: Path, cli: CliRunner) -> None:
    known = snapshot(cli)
    unknown = next(c for c in (f"{n:08x}" for n in range(100)) if not known.startswith(c))
    frozen = freeze(codex_home, store_root)
    assert_refused(invoke(cli, "rollback", unknown, "--yes"), 7, unknown)
    frozen.assert_unchanged()


def colliding_prefix(store: Path, home: Path) -> str:
    """Add two snapshots so that two ids of this home share their first 4 hex characters."""
    head = plumb(store, "rev-parse", home_ref(home))
    tree = plumb(store, "rev-parse", f"{head}^{{tree}}")
    who = b"codexsnap <codexsnap@localhost> 1795737011 +0000"

    def commit(parent: str, n: int) -> tuple[str, bytes]:
        body = b"tree %s\nparent %s\nauthor %s\ncommitter %s\n\nsnapshot: try %d\n" % (
            tree.encode(),
            parent.encode(),
            who,
            who,
            n,
        )
        oid = hashlib.sha1(b"commit %d\0" % len(body) + body, usedforsecurity=False)
        return oid.hexdigest(), body

    first_id, first = commit(head, 0)
    taken = {head[:4], first_id[:4]}
    for n in range(1, 2_000_000):  # about 32,000 tries on average
        second_id, second = commit(first_id, n)
        if second_id[:4] in taken:
            break
    else:
        pytest.fail("no colliding id found")
    for oid, body in ((first_id, first), (second_id, second)):
        assert plumb(store, "hash-object", "-t", "commit", "-w", "--stdin", stdin=body) == oid
    plumb(store, "update-ref", home_ref(home), second_id, head)
    return second_id[:4]


def test_ambiguous_id_prefix_exits_7(codex_home: Path, store_root: Path, cli: CliRunner) -> None:
    snapshot(cli)
    prefix = colliding_prefix(store_root, codex_home)
    frozen = freeze(codex_home, store_root)
    outcome = invoke(cli, "rollback", prefix, "--yes")
    assert_refused(outcome, 7, prefix, "matches 2 snapshots")
    assert "more characters" in outcome.stderr
    frozen.assert_unchanged()


# ----- 6. someone else at work: the lock, Codex, a database writer -----------------------

_HOLD_LOCK = """
import sys, time, filelock
lock = filelock.FileLock(sys.argv[1])
lock.acquire()
print("locked", flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("command", ["fix", "rollback"])
def test_lock_held_by_a_live_process_exits_6(
    codex_home: Path, store_root: Path, cli: CliRunner, command: str
) -> None:
    base = snapshot(cli)
    (codex_home / "AGENTS.md").write_bytes(b"# Agent rules\n\nEdited by hand.\n")
    frozen = freeze(codex_home, store_root)
    lock = store_root / "codexsnap.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(lock)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        args = ["fix", "--yes"] if command == "fix" else ["rollback", base, "--yes"]
        outcome = invoke(cli, *args)
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    assert_refused(outcome, 6, "another codexsnap operation", str(lock))
    frozen.assert_unchanged()


def test_codex_starting_while_the_fix_is_confirmed_exits_5(
    codex_home: Path,
    store_root: Path,
    cli: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    snapshot(cli)
    frozen = freeze(codex_home, store_root)
    exe = fake_codex(tmp_path)
    started: list[subprocess.Popen[bytes]] = []

    def launch_then_ask(confirm: Confirm, report: DiffReport) -> None:
        # The user launches Codex while the confirmation is asked, then answers yes.
        started.append(subprocess.Popen([str(exe), "30"], start_new_session=True))
        ask(confirm, report)

    monkeypatch.setattr("codexsnap.transaction.operation.ask", launch_then_ask)
    try:
        outcome = invoke(cli, "fix", "--yes")
    finally:
        for proc in started:
            proc.kill()
            proc.wait()
    assert len(started) == 1
    assert_refused(outcome, 5, "Codex is running", f"pid {started[0].pid}")
    assert "Quit the Codex app" in outcome.stderr
    frozen.assert_unchanged()


def test_codex_starting_during_the_before_snapshot_exits_5(
    codex_home: Path,
    store_root: Path,
    cli: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    snapshot(cli)
    frozen = freeze(codex_home, store_root)
    exe = fake_codex(tmp_path)
    started: list[subprocess.Popen[bytes]] = []
    take = SnapshotStore.take_snapshot

    def take_then_start(
        store: SnapshotStore, home: Path, scope: Any, summary: str, *args: Any, **kwargs: Any
    ) -> SnapshotResult:
        taken = take(store, home, scope, summary, *args, **kwargs)
        if summary.startswith("before ") and not started:
            started.append(subprocess.Popen([str(exe), "30"], start_new_session=True))
        return taken

    monkeypatch.setattr(SnapshotStore, "take_snapshot", take_then_start)
    try:
        outcome = invoke(cli, "fix", "--yes")
    finally:
        for proc in started:
            proc.kill()
            proc.wait()
    assert len(started) == 1
    assert_refused(outcome, 5, "Codex is running", f"pid {started[0].pid}")
    frozen.assert_home_unchanged()
    frozen.assert_store_only_grew()  # the "before" snapshot stays; it is the home as it was


_HOLD_WRITE = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
db.execute(
    "INSERT INTO threads (id, rollout_path, created_at, updated_at, source, model_provider,"
    " cwd, title, sandbox_policy, approval_mode) VALUES (?, '/r', 1, 1, 'cli', 'openai', '/x',"
    " 'held', 'read-only', 'never')",
    (sys.argv[2],),
)
print("holding", flush=True)
sys.stdin.readline()
db.execute("COMMIT")
print(db.execute("PRAGMA integrity_check").fetchone()[0], flush=True)
"""


@contextmanager
def database_writer(path: Path) -> Iterator[Callable[[], str]]:
    """Another process in the middle of a write transaction; call the result to commit it."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD_WRITE, str(path), HELD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    stdin, stdout = proc.stdin, proc.stdout

    def commit() -> str:
        stdin.write("\n")
        stdin.flush()
        return stdout.readline().strip()

    try:
        assert stdout.readline().strip() == "holding"
        yield commit
    finally:
        proc.kill()
        proc.wait()
        stdin.close()
        stdout.close()


def busy_case(cli: CliRunner, builder: CodexHomeBuilder, command: str) -> list[str]:
    """A base snapshot; for rollback, a database that differs from it since."""
    base = snapshot(cli)
    if command == "rollback":
        db = builder.open_connections[0]
        insert_thread(db, thread_id(1001), "Thread 1", "/y")
        db.commit()
        return ["rollback", base, "--yes"]
    return ["fix", "pairing-reset", "--with-db", "--yes"]


def held_threads(home: Path) -> list[str]:
    db = sqlite3.connect(f"{(home / STATE_DB).as_uri()}?mode=ro", uri=True)
    try:
        return [row[0] for row in db.execute("SELECT id FROM threads ORDER BY id")]
    finally:
        db.close()


@pytest.mark.parametrize("command", ["fix", "rollback"])
def test_database_with_an_open_writer_exits_10_without_waiting_or_corrupting(
    codex_home: Path, store_root: Path, builder: CodexHomeBuilder, cli: CliRunner, command: str
) -> None:
    args = busy_case(cli, builder, command)
    threads = held_threads(codex_home)
    with database_writer(codex_home / STATE_DB) as commit:
        frozen = freeze(codex_home, store_root)
        started = time.monotonic()
        outcome = codexsnap(*args, timeout=60)
        assert time.monotonic() - started < 30
        assert_refused(outcome, 10, STATE_DB, "in use")
        frozen.assert_home_unchanged()
        assert commit() == "ok"  # the writer's transaction still goes through, intact
    assert held_threads(codex_home) == sorted([*threads, HELD])
    frozen.assert_store_only_grew()


def test_database_with_an_open_writer_leaves_the_store_unchanged(
    codex_home: Path, store_root: Path, builder: CodexHomeBuilder, cli: CliRunner
) -> None:
    args = busy_case(cli, builder, "rollback")
    with database_writer(codex_home / STATE_DB):
        frozen = freeze(codex_home, store_root)
        assert_refused(codexsnap(*args), 10, STATE_DB)
        frozen.assert_unchanged()


def corrupt_database(builder: CodexHomeBuilder, home: Path) -> bytes:
    """Keep SQLite's 100-byte header, fill the rest with garbage; no -wal, no -shm."""
    builder.close()
    path = home / STATE_DB
    size = path.stat().st_size
    for sidecar in (home / f"{STATE_DB}-wal", home / f"{STATE_DB}-shm"):
        sidecar.unlink(missing_ok=True)
    garbage = path.read_bytes()[:100] + hashlib.sha256(b"x").digest() * ((size - 100) // 32 + 1)
    path.write_bytes(garbage[:size])
    return garbage[:size]


def test_corrupt_database_is_refused_by_pairing_reset_with_exit_4(
    codex_home: Path, store_root: Path, builder: CodexHomeBuilder, cli: CliRunner
) -> None:
    snapshot(cli)
    corrupt_database(builder, codex_home)
    frozen = freeze(codex_home, store_root)
    outcome = invoke(cli, "fix", "pairing-reset", "--with-db", "--yes")
    assert_refused(outcome, 4, STATE_DB)
    frozen.assert_unchanged()


def test_corrupt_database_success_snapshot_keeps_it_and_rollback_restores_the_good_one(
    codex_home: Path, store_root: Path, builder: CodexHomeBuilder, cli: CliRunner
) -> None:
    base = snapshot(cli)
    good = home_files(codex_home)
    garbage = corrupt_database(builder, codex_home)
    damaged = snapshot(cli, "damaged")  # the bytes as they are: evidence, not a refusal
    assert git_in_store(store_root, "cat-file", "-e", f"{damaged}:files/{STATE_DB}").returncode == 0
    assert_ok(invoke(cli, "fix", "--yes"))  # the global state is fixed; the database untouched
    assert (codex_home / STATE_DB).read_bytes() == garbage
    assert_ok(invoke(cli, "rollback", base, "--yes"))
    db = sqlite3.connect(f"{(codex_home / STATE_DB).as_uri()}?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT count(*) FROM remote_control_enrollments").fetchone()[0] == 1
    finally:
        db.close()
    restored = home_files(codex_home)
    assert {k: v for k, v in restored.items() if not k.startswith(STATE_DB)} == {
        k: v for k, v in good.items() if not k.startswith(STATE_DB)
    }
