"""The one error choke point (codexsnap/cli/errors.py): every command, every kind of failure."""

from __future__ import annotations

import functools
import subprocess
import sys
from collections.abc import Callable

import pytest
import typer.main
from typer.models import CommandInfo
from typer.testing import CliRunner

from codexsnap.cli.app import HandledGroup, app
from codexsnap.errors import (
    EXIT_BROKEN_PIPE,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    SnapshotNotFoundError,
)

# The least each command needs to get past parsing.
ARGUMENTS = {"rollback": ["abcd"], "show": ["abcd"], "pin": ["abcd"], "unpin": ["abcd"]}
ARGUMENTS["note"] = ["abcd", "text"]
ARGUMENTS["adopt"] = ["old-home"]


def _info(name: str) -> CommandInfo:
    for info in app.registered_commands:
        assert info.callback is not None
        if (info.name or info.callback.__name__) == name:
            return info
    raise AssertionError(f"no command {name}")


def _names() -> list[str]:
    return sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def _raising(error: BaseException) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A command with the same options as the real one, that fails at once."""

    def wrap(command: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(command)  # typer reads the options from the wrapped signature
        def fail(*_: object, **__: object) -> None:
            raise error

        return fail

    return wrap


def _run_failing(
    monkeypatch: pytest.MonkeyPatch, name: str, error: BaseException
) -> tuple[int, str, str]:
    info = _info(name)
    assert info.callback is not None
    monkeypatch.setattr(info, "callback", _raising(error)(info.callback))
    result = CliRunner().invoke(app, [name, *ARGUMENTS.get(name, [])])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result.exit_code, result.stdout, result.stderr


def test_the_app_dispatches_through_the_choke_point() -> None:
    assert isinstance(typer.main.get_command(app), HandledGroup)


@pytest.mark.parametrize("name", _names())
def test_a_codexsnap_error_is_its_message_hint_and_exit_code(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    error = SnapshotNotFoundError("no snapshot abcd", hint="Run 'codexsnap history'.")
    code, out, err = _run_failing(monkeypatch, name, error)
    assert (code, out) == (7, "")
    assert err == "Error: no snapshot abcd\nHint: Run 'codexsnap history'.\n"


@pytest.mark.parametrize("name", _names())
def test_a_bug_is_one_line_and_its_own_exit_code(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    code, _, err = _run_failing(monkeypatch, name, RuntimeError("boom"))
    assert code == EXIT_INTERNAL
    assert err.splitlines() == [
        "Error: internal error: RuntimeError: boom",
        "Hint: set CODEXSNAP_DEBUG=1 for details and report it.",
    ]


@pytest.mark.parametrize("name", _names())
def test_ctrl_c_is_exit_130_with_no_traceback(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    code, _, err = _run_failing(monkeypatch, name, KeyboardInterrupt())
    assert code == EXIT_INTERRUPTED
    assert (
        "Interrupted: nothing written; the Codex home is as it was." in err
        and "Traceback" not in err
    )


def test_usage_errors_keep_the_frameworks_message_and_exit_code() -> None:
    result = CliRunner().invoke(app, ["history", "--limit", "0"])
    assert result.exit_code == 2 and "internal error" not in result.stderr


def test_a_reader_that_goes_away_is_a_quiet_exit() -> None:
    """`codexsnap recipes | head -0`: the broken pipe is the reader's doing, not a bug."""
    child = subprocess.Popen(
        [sys.executable, "-m", "codexsnap", "recipes"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # before the child's interpreter is even up
    err = child.stderr.read().decode()
    assert child.wait(timeout=60) == EXIT_BROKEN_PIPE, err
    assert err == ""
