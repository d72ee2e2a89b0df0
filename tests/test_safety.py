"""Safety properties, one test each: crashes, failed writes, locks, a running Codex, links,
a tampered store, bad ids, stale git locks, secrets and Ctrl-C.

Everything is real: files under tmp_path, git, processes. Crashes and failed writes come from
codexsnap's own fault points (CODEXSNAP_TEST_FAULT) in a ``python -m codexsnap`` subprocess.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest
from typer.testing import CliRunner

from codexsnap.processes import classify_process, find_codex_processes
from tests.helpers import file_states, git_in_store, run
from tests.homebuilder import ACCESS_TOKEN, MCP_TOKEN, PUBLIC_KEY, REVOKED_CLIENT_ID
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
REFRESH_TOKEN = "rt_SECRET_refresh_0123456789"  # auth.json, written by CodexHomeBuilder
ACCOUNT_USER_ID = "user_AbC1dEf2GhI3jKl4"
SECRETS = (ACCESS_TOKEN, REFRESH_TOKEN, MCP_TOKEN, REVOKED_CLIENT_ID, ACCOUNT_USER_ID, PUBLIC_KEY)

States = dict[str, tuple[bytes, int]]

# The fault points guard the store's own atomic writes too (its stat cache comes first), so
# to fail a write *into the home* this runs the CLI with the fault armed only for the Nth home
# write, or only once the home writes are done. A home write is staged first (its temporary
# file, write_temp) and renamed once every file is staged (rename_temp): the fault is armed
# for the Nth of each. The fault itself stays codexsnap's own; "sigint" sends a real Ctrl-C
# to the process as the Nth file is staged instead.
_ARMED_CLI = """
import os, signal, sys
import codexsnap.transaction.staging as staging
import codexsnap.transaction.operation as operation
when, spec = os.environ.pop("CODEXSNAP_SAFETY_ARM").split("|")
if when.startswith("home-write:"):
    wanted = int(when.split(":")[1])
    def armed(real, interrupts):
        seen = [0]
        def call(*args, **kwargs):
            seen[0] += 1
            if seen[0] == wanted and spec == "sigint":
                if interrupts:
                    os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, delivered right here
            elif seen[0] == wanted:
                os.environ["CODEXSNAP_TEST_FAULT"] = spec
            try:
                return real(*args, **kwargs)
            finally:
                os.environ.pop("CODEXSNAP_TEST_FAULT", None)
        return call
    staging.write_temp = armed(staging.write_temp, True)
    staging.rename_temp = armed(staging.rename_temp, False)
elif when == "after-home-writes":
    apply = operation.apply_writes
    def armed_apply(*args, **kwargs):
        apply(*args, **kwargs)
        os.environ["CODEXSNAP_TEST_FAULT"] = spec
    operation.apply_writes = armed_apply
else:
    raise SystemExit(f"unknown arming {when!r}")
from codexsnap.cli import main
sys.argv = ["codexsnap", *sys.argv[1:]]
main()
"""

_HOLD_LOCK = """
import sys, time, filelock
lock = filelock.FileLock(sys.argv[1])
lock.acquire()
print("locked", flush=True)
time.sleep(60)
"""


# ----- helpers -------------------------------------------------------------------------


def cli_env(fault: str | None = None) -> dict[str, str]:
    """The test's isolated environment, with a fault point set or none."""
    env = {k: v for k, v in os.environ.items() if k != "CODEXSNAP_TEST_FAULT"}
    if fault is not None:
        env["CODEXSNAP_TEST_FAULT"] = fault
    return env


def codexsnap(
    *args: str, fault: str | None = None, at: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run codexsnap in its own process; ``at`` arms ``fault`` for one moment only."""
    if at is None:
        env, command = cli_env(fault), [sys.executable, "-m", "codexsnap", *args]
    else:
        assert fault is not None
        env = cli_env()
        env["CODEXSNAP_SAFETY_ARM"] = f"{at}|{fault}"
        command = [sys.executable, "-c", _ARMED_CLI, *args]
    return subprocess.run(
        command, capture_output=True, text=True, env=env, cwd=REPO, timeout=60, check=False
    )


def whole_home(home: Path) -> States:
    """Every file and link of the home, in scope or not, but SQLite's shared-memory index.

    Any reader of a WAL database, codexsnap's read-only backup included, updates the read
    marks in ``-shm``; it holds no data and SQLite rebuilds it.
    """
    return {
        relpath: state
        for relpath, state in file_states(home, include_excluded=True).items()
        if not relpath.endswith("-shm")
    }


def snapshot_ids(store: Path, home: Path) -> set[str]:
    """Every snapshot id reachable from this home's ref."""
    listed = git_in_store(store, "rev-list", home_ref(home))
    assert listed.returncode == 0, listed.stderr
    return set(listed.stdout.split())


def assert_store_sound(store: Path) -> None:
    """git fsck finds nothing wrong (objects left dangling by a killed run are harmless)."""
    checked = git_in_store(store, "fsck", "--full")
    problems = [
        line
        for line in (checked.stdout + checked.stderr).splitlines()
        if not line.startswith(("dangling ", "notice: "))
    ]
    assert checked.returncode == 0 and not problems, problems


def assert_one_line_error(stderr: str) -> None:
    """One ``Error:`` line, at most a ``Hint:`` line, and never a traceback."""
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert lines and lines[0].startswith("Error: "), stderr
    assert len(lines) <= 2 and all(line.startswith("Hint: ") for line in lines[1:]), stderr


def take_snapshot(cli: CliRunner, message: str = "base") -> None:
    code, out, err = run(cli, "snapshot", "-m", message)
    assert code == 0, out + err


def fix_ok(cli: CliRunner, *flags: str) -> str:
    code, out, err = run(cli, "fix", "--yes", *flags)
    assert code == 0, out + err
    return out


def assert_fixed(home: Path) -> None:
    primary = (home / GLOBAL).read_bytes()
    assert ENROLL not in json.loads(primary)
    assert (home / BAK).read_bytes() == primary


@contextmanager
def running(argv: list[str]) -> Iterator[subprocess.Popen[bytes]]:
    """A process (and its children) that is killed and reaped however the test ends."""
    proc = subprocess.Popen(argv, start_new_session=True)
    # Popen returns once exec has begun, which is before the kernel has the new command
    # line in place: a process list read in that window sees the name without its
    # arguments (an app server would look like a plain CLI). Wait until it is complete.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(psutil.Error):
            if psutil.Process(proc.pid).cmdline() == argv:
                break
        time.sleep(0.01)
    try:
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


# ----- 1. a killed fix -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "at", "new_files"),
    [
        pytest.param("kill:atomic-write", None, 0, id="atomic-write"),
        pytest.param("kill:before-rename", None, 0, id="before-rename"),
        pytest.param("kill:between-writes", None, 1, id="between-writes"),
        pytest.param("kill:before-update-ref", None, 0, id="before-update-ref"),
        pytest.param("kill:atomic-write", "home-write:1", 0, id="atomic-write-of-the-state"),
        pytest.param("kill:before-rename", "home-write:2", 1, id="before-rename-of-the-bak"),
        pytest.param(
            "kill:before-update-ref", "after-home-writes", 2, id="before-update-ref-of-after"
        ),
    ],
)
def test_killed_fix_leaves_each_file_old_or_new_and_the_next_run_recovers(
    codex_home: Path, store_root: Path, cli: CliRunner, fault: str, at: str | None, new_files: int
) -> None:
    take_snapshot(cli)
    # Edited by hand since: the fix first records that drift, so a kill can follow a commit.
    (codex_home / "AGENTS.md").write_bytes(b"# Agent rules\n\nEdited by hand.\n")
    old = file_states(codex_home)
    known = snapshot_ids(store_root, codex_home)

    killed = codexsnap("fix", "--yes", fault=fault, at=at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    interrupted = file_states(codex_home)
    for name in (GLOBAL, BAK):
        json.loads(interrupted[name][0])
    code, _, err = run(cli, "history")
    assert code == 0, err

    fix_ok(cli)
    assert_fixed(codex_home)
    new = file_states(codex_home)
    assert interrupted.keys() == old.keys()
    for relpath, state in interrupted.items():
        assert state in (old[relpath], new[relpath]), relpath
    assert sum(interrupted[name] != old[name] for name in (GLOBAL, BAK)) == new_files
    assert_store_sound(store_root)
    assert known <= snapshot_ids(store_root, codex_home)


# ----- 2. a write that fails -------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "at", "exit_code"),
    [
        pytest.param("enospc:atomic-write", None, None, id="disk-full"),
        pytest.param("eacces:replace", None, None, id="rename-denied"),
        # The second home write: the first one (the state file) must be put back.
        pytest.param("enospc:atomic-write", "home-write:2", 10, id="disk-full-writing-the-bak"),
        pytest.param("eacces:replace", "home-write:2", 10, id="rename-of-the-bak-denied"),
    ],
)
def test_failed_write_leaves_the_home_byte_identical_with_a_one_line_error(
    codex_home: Path, fault: str, at: str | None, exit_code: int | None
) -> None:
    before = whole_home(codex_home)
    failed = codexsnap("fix", "--yes", fault=fault, at=at)
    assert failed.returncode != 0
    assert_one_line_error(failed.stderr)
    assert whole_home(codex_home) == before
    if exit_code is not None:  # the store's own failed writes: see the test below
        assert failed.returncode == exit_code, failed.stderr
        assert "put back" in failed.stderr


@pytest.mark.parametrize("fault", ["enospc:atomic-write", "eacces:replace"])
def test_failed_store_write_is_an_expected_error(
    codex_home: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    monkeypatch.setenv("CODEXSNAP_TEST_FAULT", fault)
    code, _, err = run(cli, "fix", "--yes")
    assert "internal error" not in err
    assert code in (8, 10), err  # StoreError or HomeWriteError, both documented


# ----- 3. a killed rollback --------------------------------------------------------------


def test_killed_rollback_leaves_each_file_old_or_new_and_a_rerun_completes_it(
    codex_home: Path, store_root: Path, cli: CliRunner
) -> None:
    original = file_states(codex_home)
    before_id = json.loads(fix_ok(cli, "--json"))["snapshot_before"]
    fixed = file_states(codex_home)

    killed = codexsnap("rollback", before_id, "--yes", fault="kill:between-writes")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    interrupted = file_states(codex_home)
    assert interrupted != fixed  # it died after its first write
    for relpath, state in interrupted.items():
        assert state in (original[relpath], fixed[relpath]), relpath
    for name in (GLOBAL, BAK):
        json.loads(interrupted[name][0])

    code, out, err = run(cli, "rollback", before_id, "--yes")
    assert code == 0, out + err
    assert file_states(codex_home) == original
    assert_store_sound(store_root)


# ----- 4. the store lock -----------------------------------------------------------------


def test_store_locked_by_a_live_process_refuses_with_exit_6_and_changes_nothing(
    codex_home: Path, store_root: Path, cli: CliRunner
) -> None:
    take_snapshot(cli)
    base = next(iter(snapshot_ids(store_root, codex_home)))
    (codex_home / "AGENTS.md").write_bytes(b"# Agent rules\n\nEdited by hand.\n")
    home_before = whole_home(codex_home)
    refs_before = git_in_store(store_root, "for-each-ref").stdout
    lock_path = store_root / "codexsnap.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(lock_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        for args in (["fix", "--yes"], ["snapshot", "-m", "x"], ["rollback", base, "--yes"]):
            code, out, err = run(cli, *args)
            assert code == 6, (args, out + err)
            assert "another codexsnap operation" in err
        assert whole_home(codex_home) == home_before
        assert git_in_store(store_root, "for-each-ref").stdout == refs_before
    finally:
        holder.kill()
        holder.wait()
    # The kernel dropped the dead holder's lock: its file stays, the store is free again.
    assert lock_path.exists()
    fix_ok(cli)
    assert_fixed(codex_home)


# ----- 5. a running Codex ----------------------------------------------------------------


def test_classify_process_knows_the_app_and_the_app_server() -> None:
    app, server = "desktop app", "app server"
    mac_app = "/Applications/Codex.app/Contents/MacOS/Codex"
    assert classify_process("Codex", mac_app, [mac_app]) == app
    assert classify_process("Codex Helper (Renderer)", "", ["Codex Helper (Renderer)"]) == app
    assert classify_process("Codex.exe", "C:\\Codex\\Codex.exe", []) == app
    assert classify_process("codex", "/usr/bin/codex", ["codex", "app-server"]) == server
    assert classify_process("codex.exe", "", ["C:\\bin\\codex.exe", "app-server"]) == server
    # The CLI doing anything else holds no desktop state, and "app-server" as $0 is no CLI.
    assert classify_process("codex", "/usr/bin/codex", ["codex", "exec", "app-server?"]) == "CLI"
    assert classify_process("sleep", "/bin/sleep", ["app-server", "codex"]) is None


@pytest.mark.parametrize("kind", ["desktop app", "app server"])
def test_running_codex_refuses_with_exit_5_unless_forced(
    codex_home: Path, store_root: Path, cli: CliRunner, tmp_path: Path, kind: str
) -> None:
    if kind == "desktop app":
        exe = tmp_path / "Codex"
        shutil.copy("/bin/sleep", exe)
        argv = [str(exe), "30"]
    else:
        exe = tmp_path / "codex"
        shutil.copy("/bin/sh", exe)
        argv = [str(exe), "-c", "sleep 30; exit 0", "app-server"]
    before = whole_home(codex_home)
    with running(argv) as proc:
        found = {p.pid: p.kind for p in find_codex_processes()}
        assert found.get(proc.pid) == kind
        code, out, err = run(cli, "fix", "--yes")
        assert code == 5, out + err
        assert f"pid {proc.pid}" in err
        assert whole_home(codex_home) == before
        assert not store_root.exists()

        fix_ok(cli, "--force")
        assert_fixed(codex_home)


# ----- 6. linked state files -------------------------------------------------------------


def test_state_file_linked_inside_the_home_is_edited_through_the_link(
    codex_home: Path, cli: CliRunner
) -> None:
    real = codex_home / "state" / "global-state.json"
    real.parent.mkdir()
    (codex_home / GLOBAL).rename(real)
    (codex_home / GLOBAL).symlink_to(Path("state") / "global-state.json")
    original = file_states(codex_home)

    before_id = json.loads(fix_ok(cli, "--json"))["snapshot_before"]
    assert os.readlink(codex_home / GLOBAL) == os.path.join("state", "global-state.json")
    assert ENROLL not in json.loads(real.read_bytes())
    assert (codex_home / BAK).read_bytes() == real.read_bytes()

    code, out, err = run(cli, "rollback", before_id, "--yes")
    assert code == 0, out + err
    assert (codex_home / GLOBAL).is_symlink()
    assert file_states(codex_home) == original


@pytest.mark.parametrize("name", [GLOBAL, BAK])
def test_state_file_linked_outside_the_home_is_refused_with_exit_4(
    codex_home: Path, store_root: Path, cli: CliRunner, tmp_path: Path, name: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "state.json"
    target.write_bytes((codex_home / name).read_bytes())
    (codex_home / name).unlink()
    (codex_home / name).symlink_to(target)
    home_before, target_before = whole_home(codex_home), target.read_bytes()

    code, out, err = run(cli, "fix", "--yes")
    assert code == 4, out + err
    assert "outside the Codex home" in err
    assert whole_home(codex_home) == home_before
    assert target.read_bytes() == target_before and list(outside.iterdir()) == [target]
    assert not store_root.exists()


# ----- 7. a tampered store ---------------------------------------------------------------


def _dotdot_path(store: Path, outside: Path, manifest: Manifest, files: Tree) -> None:
    manifest["../outside/escape.txt"] = record(store, b"escaped\n")


def _absolute_path(store: Path, outside: Path, manifest: Manifest, files: Tree) -> None:
    manifest[str(outside / "x")] = record(store, b"escaped\n")


def _tree_differs(store: Path, outside: Path, manifest: Manifest, files: Tree) -> None:
    # The manifest still vouches for the old AGENTS.md; the tree holds other bytes.
    files["AGENTS.md"] = tree_line("100644", record(store, b"evil\n")["blob"], "AGENTS.md")


def _file_missing_from_manifest(
    store: Path, outside: Path, manifest: Manifest, files: Tree
) -> None:
    files["planted.sh"] = tree_line("100755", record(store, b"rm -rf ~\n")["blob"], "planted.sh")


def _linked_parent(store: Path, outside: Path, manifest: Manifest, files: Tree) -> None:
    # "evil" is a link out of the home and also the folder of "evil/x": git trees can hold
    # both (mktree does not refuse), so the tree matches the manifest.
    manifest["AGENTS.md"] = record(store, b"evil\n")
    files["AGENTS.md"] = tree_line("100644", manifest["AGENTS.md"]["blob"], "AGENTS.md")
    manifest["evil"] = record(store, os.fsencode(outside), kind="symlink", mode="0777")
    manifest["evil/x"] = record(store, b"escaped\n")
    inner = plumb(
        store, "mktree", stdin=f"{tree_line('100644', manifest['evil/x']['blob'], 'x')}\n".encode()
    )
    files["evil"] = tree_line("120000", manifest["evil"]["blob"], "evil")
    files["evil/"] = tree_line("040000", inner, "evil")


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(_dotdot_path, id="dotdot-path"),
        pytest.param(_absolute_path, id="absolute-path"),
        pytest.param(_tree_differs, id="tree-differs-from-manifest"),
        pytest.param(_file_missing_from_manifest, id="file-missing-from-manifest"),
        pytest.param(_linked_parent, id="parent-folder-is-a-link-outside"),
    ],
)
def test_rollback_to_a_tampered_snapshot_refuses_with_exit_8_and_writes_nothing(
    codex_home: Path, store_root: Path, cli: CliRunner, tmp_path: Path, tamper: Tamper
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    take_snapshot(cli)
    commit = commit_tampered(store_root, codex_home, tamper, outside)
    before = whole_home(codex_home)
    beside_home = sorted(tmp_path.iterdir())

    code, out, err = run(cli, "rollback", commit, "--yes")
    assert code == 8, out + err
    assert list(outside.iterdir()) == []
    assert sorted(tmp_path.iterdir()) == beside_home
    assert whole_home(codex_home) == before


@pytest.mark.parametrize(
    ("tamper", "path"),
    [
        pytest.param(_tree_differs, "AGENTS.md", id="tree-differs-from-manifest"),
        pytest.param(_file_missing_from_manifest, "planted.sh", id="file-missing-from-manifest"),
    ],
)
def test_rollback_of_one_tampered_path_refuses_too(
    codex_home: Path, store_root: Path, cli: CliRunner, tmp_path: Path, tamper: Tamper, path: str
) -> None:
    """Only the trees on the way to the path are read (issue 15): they are still checked."""
    take_snapshot(cli)
    commit = commit_tampered(store_root, codex_home, tamper, tmp_path)
    before = whole_home(codex_home)
    code, out, err = run(cli, "rollback", commit, "--path", path, "--yes")
    assert code == 8 and "do not match its manifest" in err, out + err
    assert whole_home(codex_home) == before


def test_rollback_never_writes_through_a_folder_replaced_by_a_link_outside(
    codex_home: Path, store_root: Path, cli: CliRunner, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    take_snapshot(cli)
    original = file_states(codex_home)
    base = next(iter(snapshot_ids(store_root, codex_home)))
    shutil.rmtree(codex_home / "rules")
    (codex_home / "rules").symlink_to(outside, target_is_directory=True)

    # The link is in scope, so the "before" snapshot keeps it: replacing it is undoable.
    code, out, err = run(cli, "rollback", base, "--yes")
    assert code == 0, out + err
    assert list(outside.iterdir()) == []
    assert not (codex_home / "rules").is_symlink()
    assert file_states(codex_home) == original


def test_rollback_turns_a_folder_back_into_the_link_it_was(
    codex_home: Path, store_root: Path, cli: CliRunner, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.rmtree(codex_home / "rules")
    (codex_home / "rules").symlink_to(outside, target_is_directory=True)
    take_snapshot(cli)
    linked = file_states(codex_home)
    base = next(iter(snapshot_ids(store_root, codex_home)))
    (codex_home / "rules").unlink()
    (codex_home / "rules").mkdir()
    (codex_home / "rules" / "default.rules").write_bytes(b"prefix_rule(pattern=[])\n")

    # What 'To undo this rollback' prints after the rollback of the test above.
    code, out, err = run(cli, "rollback", base, "--yes")
    assert code == 0, out + err
    assert file_states(codex_home) == linked
    assert list(outside.iterdir()) == []


# ----- 8. bad snapshot ids ---------------------------------------------------------------


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
    taken = {i[:4] for i in snapshot_ids(store, home)} | {first_id[:4]}
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


def test_unknown_ambiguous_or_malformed_ids_exit_7_without_traceback(
    codex_home: Path, store_root: Path, cli: CliRunner
) -> None:
    take_snapshot(cli)
    prefix = colliding_prefix(store_root, codex_home)
    ids = snapshot_ids(store_root, codex_home)
    unknown = next(
        c for c in (f"{n:08x}" for n in range(1000)) if not any(i.startswith(c) for i in ids)
    )

    done = codexsnap("rollback", prefix, "--yes")
    assert done.returncode == 7, done.stderr
    assert "matches 2 snapshots" in done.stderr
    assert_one_line_error(done.stderr)
    done = codexsnap("show", "zzzz")
    assert done.returncode == 7, done.stderr
    assert_one_line_error(done.stderr)
    cases = [
        ("show", prefix),
        ("show", unknown),
        ("rollback", unknown, "--yes"),
        ("show", "abc"),  # too short
        ("show", "HEAD~1"),
        ("rollback", "../../etc", "--yes"),
        ("show", "g" * 40),
        ("show", "a" * 41),
    ]
    for args in cases:
        code, out, err = run(cli, *args)
        assert code == 7, (args, out + err)
        assert "Traceback" not in out + err


# ----- 9. stale git locks ----------------------------------------------------------------


def test_stale_git_locks_do_not_block_the_next_fix_or_snapshot(
    codex_home: Path, store_root: Path, cli: CliRunner
) -> None:
    take_snapshot(cli)
    git_dir = store_root / "repo.git"
    head = plumb(store_root, "rev-parse", home_ref(codex_home))

    def leave_locks() -> list[Path]:
        # What a git killed in the middle of update-ref or update-index leaves behind.
        locks = [
            git_dir / f"{home_ref(codex_home)}.lock",
            git_dir / "index.lock",
            git_dir / "packed-refs.lock",
        ]
        for lock in locks:
            lock.write_text(f"{head}\n")
        return locks

    locks = leave_locks()
    assert git_in_store(store_root, "update-ref", home_ref(codex_home), head).returncode != 0
    fix_ok(cli)
    assert_fixed(codex_home)
    assert not any(lock.exists() for lock in locks)

    locks = leave_locks()
    (codex_home / "AGENTS.md").write_bytes(b"# Agent rules\n\nEdited by hand.\n")
    code, out, err = run(cli, "snapshot", "-m", "after a crash")
    assert code == 0 and out.startswith("Snapshot "), out + err
    assert not any(lock.exists() for lock in locks)
    assert len(snapshot_ids(store_root, codex_home)) == 4  # base, before, after, this one
    assert_store_sound(store_root)


# ----- 10. secrets and permissions -------------------------------------------------------


def test_secrets_never_appear_in_output_or_in_the_store(
    codex_home: Path, store_root: Path, cli: CliRunner
) -> None:
    outputs: list[str] = []

    def call(*args: str) -> str:
        code, out, err = run(cli, *args)
        assert code == 0, (args, out + err)
        outputs.append(out + err)
        return out

    call("fix", "--dry-run")
    call("fix", "--yes")
    history = json.loads(call("history", "--json"))
    after, before = history[0]["id"], history[1]["id"]
    for snapshot_id in (before, after):
        call("show", snapshot_id)
        call("show", snapshot_id, "--json")
    call("rollback", before, "--yes")
    call("fix", "--yes", "--json")
    call("rollback", before, "--yes", "--json")
    call("history")
    call("history", "--json")
    for secret in SECRETS:
        for output in outputs:
            assert secret not in output

    assert REVOKED_CLIENT_ID in call("show", after, "--show-secrets")

    everything = subprocess.run(
        ["git", "cat-file", "--batch-all-objects", "--batch"],
        capture_output=True,
        env={**cli_env(), "GIT_DIR": str(store_root / "repo.git")},
        check=True,
    ).stdout
    assert b"electron-remote-control" in everything  # the scan does see file contents
    for path in store_root.rglob("*"):
        if path.is_file():
            assert ACCESS_TOKEN.encode() not in path.read_bytes()
    for secret in (ACCESS_TOKEN, REFRESH_TOKEN):
        assert secret.encode() not in everything

    assert stat.S_IMODE(store_root.stat().st_mode) == 0o700
    private = [
        store_root / "codexsnap-store.json",
        *(store_root / "repo.git" / "objects").rglob("*"),
    ]
    private += [*(store_root / "cache").rglob("*"), *(store_root / "repo.git" / "refs").rglob("*")]
    for path in private:
        assert stat.S_IMODE(path.lstat().st_mode) & 0o077 == 0, path


def test_every_file_in_the_store_is_owner_only(
    codex_home: Path, cli: CliRunner, store_root: Path
) -> None:
    take_snapshot(cli)
    shared = [
        str(path.relative_to(store_root))
        for path in [store_root, *store_root.rglob("*")]
        if stat.S_IMODE(path.lstat().st_mode) & 0o077
    ]
    assert shared == []


# ----- 11. Ctrl-C ------------------------------------------------------------------------


def test_ctrl_c_during_the_writes_puts_the_files_back_and_exits_130(codex_home: Path) -> None:
    before = whole_home(codex_home)
    interrupted = codexsnap("fix", "--yes", fault="sigint", at="home-write:2")
    assert interrupted.returncode == 130, interrupted.stderr
    assert "Traceback" not in interrupted.stderr and "Interrupted" in interrupted.stderr
    assert whole_home(codex_home) == before


def test_ctrl_c_at_random_moments_leaves_each_file_old_or_new_and_the_next_command_works(
    codex_home: Path, store_root: Path, cli: CliRunner
) -> None:
    old = file_states(codex_home)
    rng = random.Random(20261126)
    for trial in range(4):
        for name in (GLOBAL, BAK):
            (codex_home / name).write_bytes(old[name][0])
        proc = subprocess.Popen(
            [sys.executable, "-m", "codexsnap", "fix", "--yes"],
            env=cli_env(),
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # Spread over a run of about 0.8 s: imports, snapshots, the writes, the last snapshot.
        time.sleep(0.2 + 0.15 * trial + rng.uniform(0, 0.15))
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        # 130: codexsnap or typer caught it; -SIGINT: Python was starting or shutting down.
        assert proc.returncode in (0, 130, -signal.SIGINT), err
        if proc.returncode == 130:
            assert "Traceback" not in err
        interrupted = file_states(codex_home)
        for name in (GLOBAL, BAK):
            json.loads(interrupted[name][0])

        fix_ok(cli)
        assert_fixed(codex_home)
        fixed = file_states(codex_home)
        for relpath, state in interrupted.items():
            assert state in (old[relpath], fixed[relpath]), (trial, relpath)
        assert_store_sound(store_root)
