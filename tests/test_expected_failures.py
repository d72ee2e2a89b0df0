"""Inputs a user can hand us get their documented exit code and one line, never exit 70."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codexsnap.errors import EXIT_INTERNAL, EXIT_USAGE
from tests.helpers import run

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
