"""The command line: flags, output, --json shapes, exit codes and secrets, run in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer.core
import typer.main
from typer.testing import CliRunner

from codexsnap import __version__
from codexsnap.cli.app import app
from codexsnap.file_lock import store_lock
from codexsnap.processes import CodexProcess
from codexsnap.recipes import all_recipes
from tests.helpers import (
    ENROLL,
    GLOBAL,
    fails,
    file_states,
    history_json,
    no_secrets,
    ok,
    ok_json,
    run,
)
from tests.homebuilder import (
    MCP_TOKEN,
    CodexHomeBuilder,
    global_state,
)


def _commands() -> dict[str, list[str]]:
    """Every registered command and all its option strings, long and short."""
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup) and group.commands
    return {
        name: [
            opt
            for param in command.params
            if isinstance(param, typer.core.TyperOption)
            for opt in param.opts
        ]
        for name, command in group.commands.items()
    }


def test_version(cli: CliRunner) -> None:
    code, out, err = run(cli, "--version")
    assert (code, out, err) == (0, f"codexsnap {__version__}\n", "")


def test_top_level_help_lists_every_command(cli: CliRunner) -> None:
    out = ok(cli, "--help")
    assert "--version" in out
    for name in _commands():
        assert name in out


@pytest.mark.parametrize("name", sorted(_commands()))
def test_command_help_mentions_every_option(cli: CliRunner, name: str) -> None:
    out = ok(cli, name, "--help")
    assert f"codexsnap {name}" in out
    options = _commands()[name]
    assert options
    for opt in options:
        assert opt in out, f"{opt} missing from 'codexsnap {name} --help'"


def test_unknown_recipe_is_a_usage_error_listing_the_known_ones(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    err = fails(cli, 2, "fix", "no-such-recipe", "--yes")
    assert "no-such-recipe" in err and "Known recipes:" in err
    for name in all_recipes():
        assert name in err
    assert not store_root.exists()


@pytest.mark.parametrize("command", sorted(_commands()))
def test_unknown_option_is_a_usage_error(cli: CliRunner, command: str) -> None:
    err = fails(cli, 2, command, "--no-such-option")
    assert "No such option: --no-such-option" in err


def test_missing_home_from_option(cli: CliRunner, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    err = fails(cli, 3, "fix", "--codex-home", str(missing))
    assert str(missing) in err and "--codex-home" in err


def test_missing_home_from_environment(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "from-env"
    monkeypatch.setenv("CODEX_HOME", str(missing))
    err = fails(cli, 3, "history")
    assert str(missing) in err and "CODEX_HOME" in err


def test_missing_default_home_names_the_path_it_looked_at(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CODEX_HOME")
    err = fails(cli, 3, "snapshot")
    assert str(tmp_path / "user-home" / ".codex") in err


def test_home_that_is_a_file(cli: CliRunner, tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    err = fails(cli, 3, "fix", "--dry-run", "--codex-home", str(not_a_folder))
    assert "not a folder" in err


@pytest.mark.parametrize("flags", [("--yes",), ("--dry-run",), ("--json", "--yes")])
def test_bad_json_state_file(
    cli: CliRunner, codex_home: Path, store_root: Path, flags: tuple[str, ...]
) -> None:
    (codex_home / GLOBAL).write_bytes(b'{"a": 1, "electron-remote')
    original = file_states(codex_home)
    err = fails(cli, 4, "fix", *flags)
    assert GLOBAL in err and "not valid JSON" in err
    assert file_states(codex_home) == original
    assert not store_root.exists()


@pytest.mark.parametrize(
    "args",
    [
        ("show", "deadbeef"),
        ("show", "not-hex"),
        ("show", "12"),
        ("rollback", "deadbeef", "--yes"),
        ("rollback", "deadbeef", "--json", "--yes"),
    ],
)
def test_unknown_snapshot_id(cli: CliRunner, codex_home: Path, args: tuple[str, ...]) -> None:
    ok(cli, "snapshot")
    original = file_states(codex_home)
    err = fails(cli, 7, *args)
    assert args[1] in err and "codexsnap history" in err
    assert file_states(codex_home) == original


@pytest.mark.parametrize("command", ["show", "rollback"])
def test_id_on_an_empty_store(cli: CliRunner, codex_home: Path, command: str) -> None:
    err = fails(cli, 7, command, "deadbeef")
    assert "no snapshots yet" in err


def test_id_of_another_home_is_unknown(cli: CliRunner, codex_home: Path, tmp_path: Path) -> None:
    other = CodexHomeBuilder(tmp_path / "other-home")
    other.with_sqlite = False
    other.build()
    mine = ok_json(cli, "snapshot")["id"]
    fails(cli, 7, "show", mine, "--codex-home", str(tmp_path / "other-home"))


STORE_COMMANDS = [
    ("snapshot",),
    ("fix", "--yes"),
    ("history",),
    ("show", "deadbeef"),
    ("rollback", "deadbeef"),
    ("diff",),
]


@pytest.mark.parametrize("args", STORE_COMMANDS, ids=lambda args: args[0])
def test_store_path_that_is_a_file(
    cli: CliRunner, codex_home: Path, store_root: Path, args: tuple[str, ...]
) -> None:
    store_root.write_text("not a store")
    original = file_states(codex_home)
    err = fails(cli, 8, *args)
    assert str(store_root) in err and "is a file" in err
    assert file_states(codex_home) == original
    assert store_root.read_text() == "not a store"


def test_store_inside_the_home(cli: CliRunner, codex_home: Path) -> None:
    err = fails(cli, 8, "snapshot", "--store", str(codex_home / "snapshots"))
    assert "inside the Codex home" in err
    assert not (codex_home / "snapshots").exists()


@pytest.mark.parametrize("args", STORE_COMMANDS, ids=lambda args: args[0])
def test_folder_that_is_not_a_store(
    cli: CliRunner, codex_home: Path, store_root: Path, args: tuple[str, ...]
) -> None:
    store_root.mkdir()
    (store_root / "precious.txt").write_text("mine")
    err = fails(cli, 8, *args)
    assert "not a codexsnap store" in err
    assert sorted(p.name for p in store_root.iterdir()) == ["precious.txt"]


def test_held_lock_refuses(cli: CliRunner, codex_home: Path, store_root: Path) -> None:
    ok(cli, "snapshot")
    original = file_states(codex_home)
    with store_lock(store_root / "codexsnap.lock"):
        err = fails(cli, 6, "fix", "--yes")
    assert "another codexsnap operation" in err
    assert file_states(codex_home) == original


def test_running_codex_refuses_unless_forced(
    cli: CliRunner, codex_home: Path, store_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    running = [CodexProcess(pid=4242, name="Codex", kind="desktop app")]
    monkeypatch.setattr("codexsnap.transaction.guards.find_codex_processes", lambda: running)
    original = file_states(codex_home)
    err = fails(cli, 5, "fix", "--yes")
    assert "Codex (pid 4242, desktop app)" in err and "--force" in err
    assert file_states(codex_home) == original
    assert not store_root.exists()
    # --force goes ahead, and says on stderr (the JSON stays one document) what it risks.
    code, out, err = run(cli, "fix", "--yes", "--force", "--json")
    assert code == 0 and json.loads(out)["changed"] is True
    assert err.startswith("Warning: Codex is running (Codex (pid 4242))")


def test_internal_error_is_one_line_with_its_own_exit_code(
    cli: CliRunner, codex_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("codexsnap.commands.history.history", broken)
    err = fails(cli, 70, "history")
    assert "internal error: RuntimeError: boom" in err and "CODEXSNAP_DEBUG" in err


def test_interrupt_exits_130(
    cli: CliRunner, codex_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("codexsnap.commands.snapshot.snapshot", interrupted)
    code, out, err = run(cli, "snapshot")
    assert code == 130 and out == ""
    assert "Interrupted" in err and "Traceback" not in err


def test_default_output_never_shows_secrets(cli: CliRunner, codex_home: Path) -> None:
    outputs: list[str] = []

    def capture(*args: str) -> str:
        code, out, err = run(cli, *args)
        assert code == 0, err
        outputs.extend((out, err))
        return out

    capture("fix", "--dry-run")
    capture("fix", "--dry-run", "--json")
    result = json.loads(capture("fix", "--yes", "--json"))
    before, after = result["snapshot_before"], result["snapshot_after"]
    # A changed token in config.toml: the rollback report shows it on both sides.
    config = codex_home / "config.toml"
    config.write_text(config.read_text().replace(MCP_TOKEN, "ghp_" + "N" * 36))
    capture("rollback", before, "--dry-run")
    capture("rollback", before, "--dry-run", "--json")
    capture("rollback", before, "--yes")
    capture("show", before)
    capture("show", before, "--json")
    capture("show", after)
    capture("show", after, "--json")
    capture("history")
    capture("history", "--json")
    for args in [(before,), (before, "--json"), (before, after), (before, after, "--json")]:
        code, out, err = run(cli, "diff", *args)
        assert code in (0, 1), err  # 1: they differ
        outputs.extend((out, err))
    joined = "\n".join(outputs)
    assert "GITHUB_PERSONAL_ACCESS_TOKEN" in joined  # the token's row was reported...
    no_secrets(joined)  # ...masked


def test_codex_home_option_beats_the_environment(
    cli: CliRunner, codex_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = global_state()
    del state[ENROLL]
    other = CodexHomeBuilder(tmp_path / "env-home", state=state)
    other.with_sqlite = False
    other_home = other.build().resolve()
    monkeypatch.setenv("CODEX_HOME", str(other_home))

    from_env = ok_json(cli, "fix", "--dry-run")
    assert from_env["home"] == str(other_home) and from_env["changes"] == []
    from_option = ok_json(cli, "fix", "--dry-run", "--codex-home", str(codex_home))
    assert from_option["home"] == str(codex_home) and from_option["changes"]

    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "missing"))
    assert ok_json(cli, "fix", "--dry-run", "--codex-home", str(codex_home))["changes"]


def test_store_option_beats_the_environment(
    cli: CliRunner, codex_home: Path, store_root: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "other-store"
    ok(cli, "snapshot", "--store", str(elsewhere))
    assert (elsewhere / "repo.git").is_dir() and not store_root.exists()
    assert history_json(cli) == []
    assert len(history_json(cli, "--store", str(elsewhere))) == 1
    ok(cli, "snapshot", "-m", "env")
    assert store_root.is_dir()
    assert len(history_json(cli)) == 1
