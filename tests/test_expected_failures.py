"""Inputs a user can hand us get their documented exit code and one line, never exit 70."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from codexsnap.errors import EXIT_INTERNAL, EXIT_USAGE
from tests.helpers import file_states, run

GLOBAL = ".codex-global-state.json"
BAK = ".codex-global-state.json.bak"


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b'{"a": NaN}', id="nan"),
        pytest.param(b'{"a": Infinity}', id="infinity"),
        pytest.param(b'{"a": 1' + b"0" * 5000 + b"}", id="5000-digit-integer"),
    ],
)
@pytest.mark.parametrize(
    "command",
    [
        pytest.param(("doctor",), id="doctor"),
        pytest.param(("fix", "restore-global-state", "--dry-run"), id="restore-global-state"),
        pytest.param(("fix", "--dry-run"), id="fix"),
    ],
)
def test_unreadable_numbers_in_the_global_state_are_not_internal_errors(
    codex_home: Path, cli: CliRunner, content: bytes, command: tuple[str, ...]
) -> None:
    for name in (GLOBAL, BAK):
        (codex_home / name).write_bytes(content)
    code, _, err = run(cli, *command)
    assert code != EXIT_INTERNAL and "internal error" not in err, err
    if command[0] == "doctor":
        assert code == 1 and "not valid JSON" in run(cli, "doctor")[1]
    elif command[1:2] != ("restore-global-state",):
        assert code == 4 and "not valid JSON" in err


@pytest.mark.parametrize("duration", ["99999999999999w", "999999w"])
def test_a_keep_within_longer_than_the_calendar_is_a_usage_error(
    codex_home: Path, cli: CliRunner, duration: str
) -> None:
    assert run(cli, "snapshot")[0] == 0
    code, _, err = run(cli, "prune", "--keep-within", duration, "--dry-run")
    assert code == EXIT_USAGE, err
    assert err.startswith("Error: --keep-within") and "internal error" not in err


def test_a_global_state_with_a_sqlite_header_is_a_damaged_json_file(
    codex_home: Path, cli: CliRunner
) -> None:
    (codex_home / GLOBAL).write_bytes(b"SQLite format 3\x00" + b"\x07" * 200)
    code, _, err = run(cli, "fix", "--dry-run")
    assert code == 4 and "internal error" not in err, err
    assert GLOBAL in err


def test_a_fifo_in_place_of_the_global_state_is_named_as_such(
    codex_home: Path, cli: CliRunner
) -> None:
    (codex_home / GLOBAL).unlink()
    os.mkfifo(codex_home / GLOBAL)
    code, _, err = run(cli, "fix", "--dry-run")
    assert code == 4, err
    assert "named pipe" in err and "empty" not in err


def test_a_truncated_state_database_stops_pairing_reset_with_exit_4(
    codex_home: Path, cli: CliRunner
) -> None:
    for database in [codex_home / "state_5.sqlite", codex_home / "sqlite" / "state_5.sqlite"]:
        for sidecar in (Path(f"{database}-wal"), Path(f"{database}-shm")):
            sidecar.unlink(missing_ok=True)
        database.parent.mkdir(exist_ok=True)
        database.write_bytes(b"SQLite format 3\x00" + b"\x10\x00" + b"\x00" * 80)
    code, _, err = run(cli, "fix", "pairing-reset", "--with-db", "--dry-run")
    assert code == 4 and "internal error" not in err, err
    assert "damaged SQLite database" in err


# ----- a store codexsnap may not write or read ------------------------------------------


def _subprocess(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codexsnap", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )


@contextmanager
def read_only(*folders: Path) -> Iterator[None]:
    """Folders nobody may create a file in: immutable for root (who ignores modes), else 0555."""
    if os.geteuid() == 0:
        if shutil.which("chattr") is None:
            pytest.skip("root ignores modes and there is no chattr")
        done = subprocess.run(["chattr", "+i", *map(str, folders)], capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"chattr +i is not supported here: {done.stderr!r}")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", *map(str, folders)], check=True)
    else:
        for folder in folders:
            folder.chmod(0o555)
        try:
            yield
        finally:
            for folder in folders:
                folder.chmod(0o700)


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(("snapshot",), id="snapshot"),
        pytest.param(("fix", "--yes", "--force"), id="fix"),
        pytest.param(("rollback", "FIRST", "--yes", "--force"), id="rollback"),
        pytest.param(("pin", "FIRST"), id="pin"),
        pytest.param(("note", "FIRST", "kept"), id="note"),
        pytest.param(("prune", "--keep-last", "1"), id="prune"),
    ],
)
def test_a_read_only_store_is_refused_with_exit_8_before_anything_changes(
    codex_home: Path, store_root: Path, cli: CliRunner, command: tuple[str, ...]
) -> None:
    first = _first_snapshot(cli)
    (codex_home / "AGENTS.md").write_text("changed since the snapshot\n")
    before = file_states(codex_home, include_excluded=True)
    args = [first if arg == "FIRST" else arg for arg in command]
    with read_only(store_root, store_root / "repo.git", store_root / "repo.git" / "objects"):
        code, _, err = run(cli, *args)
    assert code == 8, err
    lines = err.strip().splitlines()
    assert len(lines) == 2 and "internal error" not in err, err
    assert lines[0].startswith(f"Error: the store {store_root} is read-only ("), lines[0]
    assert lines[0].endswith("nothing was changed"), lines[0]
    assert lines[1].startswith("Hint: ")
    assert file_states(codex_home, include_excluded=True) == before
    assert run(cli, "snapshot")[0] == 0  # writable again: it works


def _first_snapshot(cli: CliRunner) -> str:
    assert run(cli, "snapshot")[0] == 0
    return str(json.loads(run(cli, "history", "--json")[1])[0]["id"])


@pytest.mark.parametrize("command", [("history",), ("snapshot",), ("diff", "--stat")])
def test_an_unreadable_store_is_refused_with_exit_8(
    codex_home: Path, store_root: Path, cli: CliRunner, command: tuple[str, ...]
) -> None:
    assert run(cli, "snapshot")[0] == 0
    if os.geteuid() != 0:  # the real thing: a store of mode 000
        store_root.chmod(0)
        try:
            code, _, err = run(cli, *command)
        finally:
            store_root.chmod(0o700)
    else:  # root reads whatever the mode: the stat of the store's marker fails instead
        real_stat = os.stat

        def denied(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
            if str(path).startswith(str(store_root / "codexsnap-store.json")):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
            return real_stat(path, *args, **kwargs)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(os, "stat", denied)
            code, _, err = run(cli, *command)
    assert code == 8, err
    assert err.startswith(f"Error: the store {store_root} cannot be read (Permission denied)")
    assert "internal error" not in err


# ----- files that change kind while the home is scanned ---------------------------------


@pytest.mark.parametrize(
    ("race", "gone", "command"),
    [
        pytest.param("flip:AGENTS.md", "AGENTS.md", ("snapshot",), id="file-to-folder-snapshot"),
        pytest.param("flip:AGENTS.md", "AGENTS.md", ("diff", "FIRST"), id="file-to-folder-diff"),
        pytest.param(
            "flip:AGENTS.md",
            "AGENTS.md",
            ("rollback", "FIRST", "--dry-run"),
            id="file-to-folder-rollback-dry-run",
        ),
        pytest.param("flip:rules", "rules/default.rules", ("snapshot",), id="folder-to-file"),
    ],
)
def test_a_file_that_changes_kind_during_the_scan_is_no_internal_error(
    codex_home: Path, cli: CliRunner, race: str, gone: str, command: tuple[str, ...]
) -> None:
    assert (codex_home / gone).is_file(), gone  # the fixture holds what the race changes
    first = _first_snapshot(cli)
    (codex_home / "AGENTS.md").write_text("changed: the scan must read it again\n")
    args = [first if arg == "FIRST" else arg for arg in command]
    # In a process of its own: the race is armed when codexsnap.faults is imported.
    done = _subprocess(*args, CODEXSNAP_TEST_RACE=race)
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert done.returncode in (0, 1), done  # 1: diff found a difference
    assert run(cli, "snapshot")[0] == 0  # the next snapshot holds what took its place
