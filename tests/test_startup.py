"""Start-up: the everyday commands load only what they use (no timing asserted here: the
speed goals live in benchmarks/, see docs/performance.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

# Runs the CLI's own entry point in a fresh interpreter, then writes the modules it loaded
# beyond those the interpreter had loaded before it: a site-packages .pth file may import
# modules at every start (CI's interpreter has one that imports certifi, and with it
# tempfile and shutil), and codexsnap neither chose nor pays for those.
_WRAPPER = """\
import sys
before = set(sys.modules)
out = sys.argv[1]
sys.argv = ["codexsnap", *sys.argv[2:]]
from codexsnap.cli import main
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else 0
loaded = sorted(set(sys.modules) - before)
import json
with open(out, "w") as handle:
    json.dump(loaded, handle)
sys.exit(code)
"""

# Heavy libraries and codexsnap's own heavy parts that history and snapshot must not load:
# pydantic (typer 0.29 imports it for every command with a parameter, deepdiff too), deepdiff
# (only a diff needs it), GitPython (never used), psutil (only where Codex processes are
# looked for), filelock (POSIX locks with flock), the reports and the write path.
_NOT_LOADED = (
    "pydantic",
    "pydantic_core",
    "deepdiff",
    "git",
    "psutil",
    "rich",
    "filelock",  # 30 ms and more of imports (logging, decimal, asyncio): flock(2) instead
    "codexsnap.report",
    "codexsnap.sqlite_diff",
    "codexsnap.transaction.plan",
    "codexsnap.transaction.operation",
    "codexsnap.recipes",
    "codexsnap.store.git_pack",  # only a snapshot of 100 new files or more writes a pack
)


def _loaded(tmp_path: Path, *args: str) -> list[str]:
    out = tmp_path / f"modules-{args[0]}.json"
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-c", _WRAPPER, str(out), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    modules: list[str] = json.loads(out.read_text())
    return modules


def _heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == n or m.startswith(n + ".") for n in _NOT_LOADED)]


def _typer_version() -> tuple[int, ...]:
    return tuple(int(part) for part in typer.__version__.split(".")[:2] if part.isdigit())


@pytest.mark.parametrize("command", [["snapshot"], ["history", "-n", "5"]])
def test_history_and_snapshot_load_no_heavy_module(
    codex_home: Path, tmp_path: Path, command: list[str]
) -> None:
    assert _loaded(tmp_path, "snapshot") is not None  # a store with one snapshot
    heavy = _heavy(_loaded(tmp_path, *command))
    if _typer_version() >= (0, 29):
        # pyproject pins typer < 0.29; an environment made before the pin still has it.
        heavy = [m for m in heavy if not m.startswith(("pydantic", "annotated_types"))]
        assert not heavy, heavy
        pytest.skip(
            f"typer {typer.__version__} imports pydantic for every command: pyproject pins "
            "typer<0.29, reinstall with pip install -e '.[test]'"
        )
    assert not heavy, f"'codexsnap {' '.join(command)}' loaded {heavy}"


# history only reads: the store's write half (scan, commit, SQLite copies) is not loaded.
_WRITE_HALF = (
    "sqlite3",
    "codexsnap.store.repository",
    "codexsnap.store.snapshotting",
    "codexsnap.store.commit",
    "codexsnap.store.scan",
    "codexsnap.sqlite_copy",
)


def test_a_diff_still_loads_what_it_needs(codex_home: Path, tmp_path: Path) -> None:
    """The lazy imports are lazy, not missing: a fix loads its report and the write path."""
    _loaded(tmp_path, "snapshot")
    modules = _loaded(tmp_path, "fix", "--dry-run")
    assert "codexsnap.report" in modules
    assert "codexsnap.transaction.plan" in modules


def test_a_run_builds_only_the_command_it_names() -> None:
    """Typer turns every registered command into a click command at start: a run that names
    its command builds that one alone; anything else gets the whole app."""
    from codexsnap.cli.app import app, app_for

    built = app_for(["history", "-n", "5"]).registered_commands
    assert [getattr(c.callback, "__name__", None) for c in built] == ["history"]
    for args in ([], ["--version"], ["histroy"], ["--help"]):
        assert app_for(args) is app, args


@pytest.mark.parametrize(
    "args",
    [["--help"], ["--bogus"], ["-n", "zero"], ["-n", "0"], ["x1", "x2", "x3"]],
    ids=["help", "unknown-option", "not-a-number", "below-minimum", "extra-arguments"],
)
@pytest.mark.parametrize("command", ["history", "snapshot", "rollback", "fix", "watch"])
def test_the_one_command_app_answers_as_the_whole_app(command: str, args: list[str]) -> None:
    """Help, usage errors and exit codes of a command are the same whichever app runs it."""
    from typer.testing import CliRunner

    from codexsnap.cli.app import app, app_for

    runner = CliRunner()
    whole = runner.invoke(app, [command, *args], prog_name="codexsnap")
    alone = runner.invoke(app_for([command]), [command, *args], prog_name="codexsnap")
    assert (alone.exit_code, alone.output) == (whole.exit_code, whole.output)
    if args != ["--help"]:
        assert whole.exit_code == 2  # a usage error, before any command code ran


def test_shell_completion_lists_every_command(monkeypatch: pytest.MonkeyPatch) -> None:
    from codexsnap.cli.app import app, app_for

    monkeypatch.setenv("_CODEXSNAP_COMPLETE", "complete_bash")
    assert app_for(["his"]) is app


# What else history used to load without using it (issue 15, fourth round): dataclasses
# (and through it inspect, ast, dis, tokenize: 15-30 ms, and about 1 ms per frozen class
# made), the journal and the rest of the write path, the scope's TOML reader, tempfile,
# shutil with its archive modules, secrets (random, hmac), traceback, the tree writer.
_NOT_ON_THE_READ_PATH = (
    "dataclasses",
    "inspect",
    "tomllib",
    "tempfile",
    "shutil",
    "secrets",
    "traceback",
    "textwrap",
    "codexsnap.scope",
    "codexsnap.transaction.journal",
    "codexsnap.transaction.operation",
    "codexsnap.transaction.plan",
    "codexsnap.transaction.recovery",
    "codexsnap.store.trees",
)


def test_history_loads_only_its_read_path(codex_home: Path, tmp_path: Path) -> None:
    _loaded(tmp_path, "snapshot")
    modules = _loaded(tmp_path, "history", "-n", "5")
    unwanted = (*_WRITE_HALF, *_NOT_ON_THE_READ_PATH)
    found = [m for m in modules if any(m == n or m.startswith(n + ".") for n in unwanted)]
    assert not found, f"'codexsnap history' loaded {found}"


def test_the_ctrl_c_handler_of_history_has_nothing_left_to_import(
    codex_home: Path, tmp_path: Path
) -> None:
    # A second Ctrl-C while the handler imported what it needs ended in a traceback: the
    # outcome's sentences are loaded with the handler, before the command runs.
    _loaded(tmp_path, "snapshot")
    assert "codexsnap.transaction.outcome" in _loaded(tmp_path, "history", "-n", "5")
