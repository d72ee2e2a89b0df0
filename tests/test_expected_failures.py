"""Inputs a user can hand us get their documented exit code and one line, never exit 70."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from codexsnap.errors import EXIT_INTERNAL, EXIT_USAGE
from tests.conftest import run

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
