"""codexsnap watch: the real watcher as a subprocess on a realistic home."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from codexsnap.codex_files import GLOBAL_STATE
from codexsnap.errors import LockHeldError
from codexsnap.file_lock import store_lock
from codexsnap.store import Snapshot, SnapshotStore
from tests.helpers import file_states
from tests.homebuilder import CodexHomeBuilder

FAST = ("--min-interval", "0")
DEADLINE = 60.0  # seconds: only a failure waits this long; a pass takes a second or two


class Watcher:
    """``codexsnap watch`` running as its own process, its output read as it comes."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "codexsnap", "watch", "--debounce", "0.2", *FAST, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def said(self, words: str) -> int:
        return sum(1 for line in self.lines if words in line)

    def wait_for(self, words: str, count: int = 1) -> None:
        until(lambda: self.said(words) >= count, f"{words!r} x{count} in {self.lines}")

    def stop(self, how: signal.Signals = signal.SIGTERM) -> tuple[int, str]:
        self.proc.send_signal(how)
        code = self.proc.wait(timeout=DEADLINE)
        self._reader.join(timeout=DEADLINE)
        assert self.proc.stderr is not None
        return code, self.proc.stderr.read()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def until(condition: Callable[[], bool], what: str) -> None:
    """Poll with a deadline: never a sleep of fixed length standing in for "long enough"."""
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {DEADLINE} s: {what}")
        time.sleep(0.05)


def history(store_root: Path, home: Path) -> list[Snapshot]:
    if not SnapshotStore.exists(store_root):
        return []
    with SnapshotStore.open(store_root, create=False) as store:
        return store.history(home)


def global_state_of(store_root: Path, snapshot: Snapshot) -> bytes:
    with SnapshotStore.open(store_root, create=False) as store:
        return store.read_blob(store.records(snapshot)[GLOBAL_STATE].blob)


def save_like_the_app(home: Path, data: bytes) -> None:
    """The desktop app writes a temporary file and renames it over the global state."""
    temporary = home / "..codex-global-state.json.tmp-9f8e7d"
    temporary.write_bytes(data)
    temporary.replace(home / GLOBAL_STATE)


@pytest.fixture
def watcher(codex_home: Path) -> Iterator[Watcher]:
    started = Watcher()
    yield started
    started.kill()


def test_a_change_of_the_global_state_is_snapshotted_within_seconds_and_sigterm_stops_it(
    watcher: Watcher, codex_home: Path, store_root: Path
) -> None:
    watcher.wait_for("snapshot ")  # the first snapshot, at start
    first = history(store_root, codex_home)
    assert [s.operation for s in first] == ["automatic"]
    assert first[0].summary == "automatic snapshot (watch)"
    emptied = b'{"local-projects":[]}'
    save_like_the_app(codex_home, emptied)
    before = file_states(codex_home, include_excluded=True)
    until(lambda: len(history(store_root, codex_home)) == 2, "a second snapshot")
    # It never writes into the home (SQLite's shared memory moves with any reader).
    after = file_states(codex_home, include_excluded=True)
    assert {k: v for k, v in after.items() if not k.endswith("-shm")} == {
        k: v for k, v in before.items() if not k.endswith("-shm")
    }
    latest = history(store_root, codex_home)[0]
    assert latest.automatic and latest.files_changed == 1
    # An emptied global state is snapshotted too: retention and restore look past it.
    assert global_state_of(store_root, latest) == emptied

    code, stderr = watcher.stop(signal.SIGTERM)
    assert code == 0 and "Traceback" not in stderr and stderr == ""
    assert watcher.lines[-1].endswith(" stopped")
    checked = subprocess.run(
        [sys.executable, "-m", "codexsnap", "check"], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert not list((store_root / "watch").glob("*.json"))  # no watcher left recorded


def test_no_change_no_snapshot_and_sigint_stops_it_cleanly(
    watcher: Watcher, codex_home: Path, store_root: Path
) -> None:
    watcher.wait_for("snapshot ")
    # Out of scope (transcripts), then a rewrite with the same bytes: nothing new to keep.
    (codex_home / "sessions" / "new.jsonl").write_bytes(b'{"type":"event"}\n')
    config = codex_home / "config.toml"
    config.write_bytes(config.read_bytes())
    watcher.wait_for("no change since")
    assert len(history(store_root, codex_home)) == 1
    code, stderr = watcher.stop(signal.SIGINT)
    assert (code, stderr) == (0, "")
    assert watcher.said("no change since") == 1  # the transcript woke nothing


def test_the_watcher_waits_while_another_command_holds_the_store(
    watcher: Watcher, codex_home: Path, store_root: Path
) -> None:
    watcher.wait_for("snapshot ")
    with store_lock(store_root / "codexsnap.lock"):  # as a fix or rollback holds it
        (codex_home / "AGENTS.md").write_bytes(b"# Agent rules\n\nNever push on Fridays.\n")
        watcher.wait_for("the store is busy")
        assert len(history(store_root, codex_home)) == 1
    until(lambda: len(history(store_root, codex_home)) == 2, "the snapshot after the lock")
    assert watcher.said("the store is busy") == 1  # said once, not at every retry


def test_a_command_waits_for_the_watchers_snapshot_instead_of_failing(store_root: Path) -> None:
    """The defect: a fix that met the lock of the watcher's snapshot failed with exit 6."""
    store_root.mkdir()
    lock = store_root / "codexsnap.lock"
    held, release = threading.Event(), threading.Event()

    def hold_as_the_watcher() -> None:
        with store_lock(lock, brief=True):
            held.set()
            release.wait(DEADLINE)

    holder = threading.Thread(target=hold_as_the_watcher)
    holder.start()
    try:
        held.wait(DEADLINE)
        threading.Timer(0.3, release.set).start()
        with store_lock(lock):  # as fix, rollback or undo take it: waits, then holds it
            assert release.is_set()
    finally:
        release.set()
        holder.join()
    assert not list(store_root.glob("codexsnap.lock.brief-*"))
    with store_lock(lock), pytest.raises(LockHeldError), store_lock(lock):
        pass  # any other holder: at once


def test_a_concurrent_fix_is_not_disturbed(
    watcher: Watcher, codex_home: Path, store_root: Path
) -> None:
    watcher.wait_for("snapshot ")
    stop_writing = threading.Event()

    def codex_keeps_writing() -> None:  # the watcher snapshots over and over meanwhile
        count = 0
        while not stop_writing.wait(0.05):
            count += 1
            (codex_home / "rules" / "default.rules").write_text(f"# {count}\n")

    writer = threading.Thread(target=codex_keeps_writing)
    writer.start()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "codexsnap", "fix", "--yes"], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr
    finally:
        stop_writing.set()
        writer.join()

    def automatic_after_the_fix() -> bool:
        operations = [s.operation for s in history(store_root, codex_home)]
        return "automatic" in operations[: operations.index("after-fix")]

    until(automatic_after_the_fix, "the watcher snapshotting again after the fix")
    code, stderr = watcher.stop()
    assert (code, stderr) == (0, "")


def test_the_home_vanishing_and_coming_back(
    watcher: Watcher, codex_home: Path, store_root: Path, builder: CodexHomeBuilder
) -> None:
    watcher.wait_for("snapshot ")
    builder.close()  # the app quit: nothing holds the database open
    aside = codex_home.with_name("codex-home-aside")
    codex_home.rename(aside)
    watcher.wait_for("is gone")
    aside.rename(codex_home)
    save_like_the_app(codex_home, b'{"local-projects":["/work/back"]}')
    watcher.wait_for("is back")
    until(lambda: len(history(store_root, codex_home)) == 2, "a snapshot of the home back")
    code, stderr = watcher.stop()
    assert (code, stderr) == (0, "")


def test_polling_sees_a_change_of_a_database(
    codex_home: Path, store_root: Path, builder: CodexHomeBuilder
) -> None:
    polled = Watcher("--poll")
    try:
        polled.wait_for("polling")
        polled.wait_for("snapshot ")
        db = builder.open_connections[0]  # the app server writes a row into -wal only
        db.execute("UPDATE threads SET title = 'renamed by the app' WHERE rowid = 1")
        db.commit()
        until(lambda: len(history(store_root, codex_home)) == 2, "a snapshot of the new row")
        assert history(store_root, codex_home)[0].files_changed == 1
        assert polled.stop() == (0, "")
    finally:
        polled.kill()


def test_a_bad_retention_file_stops_watch_at_start(codex_home: Path, store_root: Path) -> None:
    store_root.mkdir()
    (store_root / "retention.toml").write_text('daily = "a month"\n')
    done = subprocess.run(
        [sys.executable, "-m", "codexsnap", "watch"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 11
    assert "daily = 'a month' is not a duration" in done.stderr
    assert "Traceback" not in done.stderr


def test_retention_applied_by_the_watcher_keeps_the_newest_good_state(
    codex_home: Path, store_root: Path
) -> None:
    store_root.mkdir()
    # Nothing is young enough to keep for its age: only the rules keep snapshots.
    (store_root / "retention.toml").write_text('keep_all = "0h"\ndaily = "0d"\nweekly = "0w"\n')
    watcher = Watcher()
    try:
        watcher.wait_for("snapshot ")
        good = history(store_root, codex_home)[0]
        save_like_the_app(codex_home, b'{"local-projects":[]}')
        until(lambda: len(history(store_root, codex_home)) == 2, "the emptied state")
        save_like_the_app(codex_home, b'{"local-projects":[], "x": 1}')
        watcher.wait_for("retention pruned 1")
        from codexsnap.commands.history import history as shown

        left = shown(codex_home, store_root, None)
        assert len(left) == 2 and left[1].id == good.id  # the emptied one in between: pruned
        assert watcher.stop() == (0, "")
    finally:
        watcher.kill()


def test_a_killed_fix_waits_for_recover_and_the_watcher_writes_nothing(
    codex_home: Path, store_root: Path
) -> None:
    killed = subprocess.run(
        [sys.executable, "-m", "codexsnap", "fix", "--yes"],
        env={**os.environ, "CODEXSNAP_TEST_FAULT": "kill:after-journal"},
        capture_output=True,
    )
    assert killed.returncode == -9
    taken = len(history(store_root, codex_home))
    before = file_states(codex_home)
    watcher = Watcher()
    try:
        watcher.wait_for("run 'codexsnap recover'")
        assert len(history(store_root, codex_home)) == taken  # a half-written home: none
        assert file_states(codex_home) == before  # and undoing the run is not its job
        recovered = subprocess.run([sys.executable, "-m", "codexsnap", "recover"])
        assert recovered.returncode == 0
        watcher.wait_for("no change since")  # it looked again: the recovery snapshot holds it
        assert watcher.stop() == (0, "")
    finally:
        watcher.kill()
