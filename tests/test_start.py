"""The lean start (cli/start.py): `history` and `snapshot` without typer give what the Typer
app gives, and hand everything else to it."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

# typer 0.28 vendors the part of click it runs: the parser these tests hold the lean one to.
from typer._click import core, types
from typer.models import TyperPath

from codexsnap.cli.app import app_for
from codexsnap.cli.console import echo, style
from codexsnap.cli.lean import ARGUMENTS, COMMANDS, parse
from codexsnap.cli.start import INTERRUPTED_AT_START

_ROOT = Path(__file__).resolve().parent.parent


def _click_command(name: str) -> core.Command:
    group = typer.main.get_command(app_for([name]))
    assert isinstance(group, typer.core.TyperGroup)
    command = group.get_command(core.Context(group), name)
    assert command is not None
    return command


def _click_params(name: str, args: list[str]) -> dict[str, Any]:
    """What the Typer app's command is called with for ``args`` (typer makes the paths)."""
    command = _click_command(name)
    params = dict(command.make_context(name, list(args)).params)
    for param in command.params:
        if isinstance(param.type, TyperPath) and params[param.name or ""] is not None:
            params[param.name or ""] = Path(params[param.name or ""])
    return params


# Every plain form the lean parser must take itself, and forms it must leave to click.
_TAKEN = {
    "history": [
        [],
        ["-n", "5"],
        ["-n5"],
        ["--limit", "12"],
        ["--limit=3"],
        ["-n", "5", "-n", "7"],
        ["--all"],
        ["--json", "--all", "-n", "2"],
        ["--codex-home", "/some/home", "--store=/a store/x"],
        ["--codex-sqlite-home", "relative/db", "--json", "--json"],
    ],
    "snapshot": [
        [],
        ["-m", "before the plugin"],
        ["-mquick"],
        ["--message=a=b"],
        ["--message", ""],
        ["--json", "-m", "x", "-m", "y"],
        ["--store", "/s", "--codex-home", "/h", "--codex-sqlite-home", "/q"],
    ],
    "rollback": [
        ["1a2b3c4d", "--yes"],
        ["--dry-run", "1a2b"],
        ["1a2b", "-y", "--path", "sessions/a.jsonl", "--path", "b c/d", "--json"],
        ["1a2b", "--to-dir", "/tmp/x"],
        ["1a2b", "--yes", "--key", "local-projects", "--path", ".codex-global-state.json"],
        ["1a2b", "--yes", "--force", "--show-secrets", "--store=/s", "--codex-home", "/h"],
        ["1a2b", "--yes", "--path=x", "--key=a/b", "--codex-sqlite-home", "/q"],
    ],
}
_LEFT = {
    "history": [
        ["--help"],
        ["-n", "0"],
        ["-n", "-1"],
        ["-n", "+5"],
        ["-n", "5_0"],
        ["-n"],
        ["--limit="],
        ["--json=1"],
        ["--jso"],
        ["--bogus"],
        ["extra"],
        ["--", "-n"],
        ["-n", "x"],
        ["--codex-home", ""],
        ["--codex-home", "-x"],
        ["-an"],
    ],
    "snapshot": [["--help"], ["-m"], ["-m", "-x"], ["--message", "--json"], ["a"], ["-h"]],
    "rollback": [
        ["1a2b"],  # it may ask at a terminal: the prompt is click's
        ["1a2b", "--json"],
        [],
        ["--yes"],
        ["1a2b", "3c4d", "--yes"],
        ["", "--yes"],
        ["1a2b", "--yes", "--path"],
        ["1a2b", "--yes", "--path", "-x"],
        ["1a2b", "--yes", "--", "x"],
        ["1a2b", "-yn"],
        ["1a2b", "--yes", "--help"],
        ["-", "--yes"],
        ["1a2b", "--yes=1"],
    ],
}


@pytest.mark.parametrize(
    ("name", "args"), [(n, a) for n, forms in _TAKEN.items() for a in forms], ids=str
)
def test_the_lean_parser_reads_plain_forms_as_click_does(name: str, args: list[str]) -> None:
    parsed = parse([name, *args])
    assert parsed is not None, "a plain form went to typer: the lean start lost its point"
    assert parsed == (name, _click_params(name, args))


@pytest.mark.parametrize(
    ("name", "args"), [(n, a) for n, forms in _LEFT.items() for a in forms], ids=str
)
def test_anything_else_goes_to_the_typer_app(name: str, args: list[str]) -> None:
    assert parse([name, *args]) is None


@pytest.mark.parametrize("args", [[], ["--version"], ["fix", "--dry-run"], ["histroy"]])
def test_other_commands_go_to_the_typer_app(args: list[str]) -> None:
    assert parse(args) is None


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_lean_options_are_the_typer_options(name: str) -> None:
    """A flag added to the Typer adapter and not to start.COMMANDS would send every run that
    uses it to typer, silently slower; a default that differs would change what it does."""
    options, defaults = COMMANDS[name]
    lean = {o.dest: (set(o.names), o.kind) for o in options}
    declared = {}
    arguments = []
    for param in _click_command(name).params:
        if isinstance(param, typer.core.TyperArgument):
            arguments.append(param.name)
            assert param.required and not param.multiple and param.type is types.STRING
            continue
        assert isinstance(param, typer.core.TyperOption), param
        if param.multiple:
            assert param.type is types.STRING and param.default is None
            assert param.name is not None
            declared[param.name] = ({*param.opts, *param.secondary_opts}, "many")
            assert defaults.get(param.name) == ()  # click gives () for none given
            continue
        if param.is_flag:
            kind = "flag"
        elif isinstance(param.type, types.IntRange):
            assert (param.type.min, param.type.max) == (1, None)
            kind = "count"
        elif isinstance(param.type, TyperPath):
            kind = "path"
        else:
            assert param.type is types.STRING
            kind = "text"
        assert param.name is not None
        declared[param.name] = ({*param.opts, *param.secondary_opts}, kind)
        assert param.default == defaults.get(param.name), param.name
    assert lean == declared
    assert arguments == ([ARGUMENTS[name]] if name in ARGUMENTS else [])


def _python(*argv: str) -> subprocess.CompletedProcess[str]:
    """``python argv`` in a new process, this checkout first on its path."""
    return subprocess.run(
        [sys.executable, *argv],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(_ROOT)},
        timeout=120,
        check=False,
    )


def _run(args: list[str], *, lean: bool) -> tuple[int, str, str]:
    entry = (
        "from codexsnap.cli import main" if lean else "from codexsnap.cli.app import app as main"
    )
    done = _python("-c", f"import sys; sys.argv[0] = 'codexsnap'; {entry}; main()", *args)
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["history"],
        ["history", "-n", "1", "--json"],
        ["history", "--all"],
        ["snapshot"],  # the second run of the pair: no change either way
        ["snapshot", "--json"],
        ["history", "--codex-home", "/nonexistent/codex"],
        ["snapshot", "--store", "/dev/null/store"],
    ],
    ids=" ".join,
)
def test_both_starts_print_the_same_and_exit_the_same(codex_home: Path, args: list[str]) -> None:
    assert _run(["snapshot"], lean=True)[0] == 0
    lean, whole = _run(args, lean=True), _run(args, lean=False)
    if args[0] == "snapshot" and "--json" in args:
        # Each run reports the time it looked; the rest is the same.
        lean = (lean[0], lean[1].split('"checked_at"')[0], lean[2])
        whole = (whole[0], whole[1].split('"checked_at"')[0], whole[2])
    assert lean == whole
    assert lean[0] == (
        0 if "/nonexistent/codex" not in args and "/dev/null/store" not in args else lean[0]
    )


def test_a_lean_run_loads_no_typer(codex_home: Path, tmp_path: Path) -> None:
    from tests.test_startup import _loaded

    _loaded(tmp_path, "snapshot")
    target = json.loads(_run(["history", "--json"], lean=True)[1])[0]["id"]
    (codex_home / "AGENTS.md").write_text("changed\n")
    for args in (
        ["snapshot"],
        ["history", "-n", "5"],
        ["rollback", target, "--dry-run"],
        ["rollback", target, "--yes", "--path", "AGENTS.md"],
    ):
        modules = _loaded(tmp_path, *args)
        assert not [m for m in modules if m.split(".")[0] in ("typer", "click")], args
    assert "typer" in _loaded(tmp_path, "history", "--help")


def _same_but_ids(output: str, target: str) -> str:
    return re.sub(r"\b[0-9a-f]{7,40}\b", "<id>", output.replace(target, "<target>"))


@pytest.mark.parametrize(
    "args",
    [
        ["--dry-run"],
        ["--dry-run", "--json"],
        ["--yes"],
        ["--yes", "--json", "--path", "AGENTS.md"],
        ["--to-dir", "{tmp}/exported", "--path", "AGENTS.md"],  # refused: exit 2
        ["--to-dir", "{tmp}/exported"],
    ],
    ids=" ".join,
)
def test_both_starts_roll_back_alike(codex_home: Path, tmp_path: Path, args: list[str]) -> None:
    """Run by the lean start and by the Typer app from the same home and store: the same
    lines (but the new snapshots' ids), the same exit code, the same files."""
    assert _run(["snapshot"], lean=True)[0] == 0
    target = json.loads(_run(["history", "--json"], lean=True)[1])[0]["id"]
    before = (
        (codex_home / "AGENTS.md").read_bytes() if (codex_home / "AGENTS.md").exists() else None
    )
    runs = []
    for lean, where in ((True, "lean"), (False, "typer")):
        (codex_home / "AGENTS.md").write_text("changed since\n")
        given = [a.replace("{tmp}", str(tmp_path / where)) for a in args]
        code, out, err = _run(["rollback", target, *given], lean=lean)
        after = (codex_home / "AGENTS.md").read_bytes()
        runs.append((code, _same_but_ids(out.replace(where, "<where>"), target), err, after))
    assert runs[0] == runs[1]
    code, _, _, after = runs[0]
    if "--yes" in args:
        assert code == 0 and after == before
    if "--to-dir" in args:
        assert code == (2 if "--path" in args else 0)


@pytest.mark.parametrize("fg", [None, "red", "green", "yellow", "blue"])
@pytest.mark.parametrize("bold", [None, True, False])
def test_style_writes_what_typer_style_writes(fg: str | None, bold: bool | None) -> None:
    assert style("a line", fg=fg, bold=bold) == typer.style("a line", fg=fg, bold=bold)


def test_echo_strips_colour_off_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    echo(style("red", fg="red"))
    echo(style("warn", bold=True), err=True)
    echo("no newline", nl=False)
    out, err = capsys.readouterr()
    assert (out, err) == ("red\nno newline", "warn\n")


# Ctrl-C while the command's modules load: a finder that raises it at the first of them,
# plainly or inside a descriptor's __set_name__ (as when it lands while a class is made),
# which Python wraps in a RuntimeError.
_CTRL_C_WHILE_LOADING = """
import sys
class Descriptor:
    def __set_name__(self, owner, name):
        raise KeyboardInterrupt
class Interrupting:
    def find_spec(self, name, path=None, target=None):
        if name in ("codexsnap.cli.lean", "codexsnap.cli.app"):
            if sys.argv[1] == "wrapped":
                type("Made", (), {"field": Descriptor()})
            raise KeyboardInterrupt
        return None
sys.meta_path.insert(0, Interrupting())
from codexsnap.cli import main
sys.argv = ["codexsnap", *sys.argv[2:]]
main()
"""


@pytest.mark.parametrize("how", ["plain", "wrapped"])
@pytest.mark.parametrize("args", [["history"], ["doctor"]], ids=" ".join)
def test_ctrl_c_while_the_modules_load_is_one_true_line_and_130(
    codex_home: Path, args: list[str], how: str
) -> None:
    """It was a traceback through the import machinery, and exit 1 or -2."""
    done = _python("-c", _CTRL_C_WHILE_LOADING, how, *args)
    assert done.stderr.strip() == INTERRUPTED_AT_START, done.stderr
    assert done.returncode == 130


def test_the_line_said_before_any_import_is_the_transaction_s_own() -> None:
    from codexsnap.transaction.outcome import NOTHING_WRITTEN, Outcome

    assert Outcome(NOTHING_WRITTEN).sentence() == INTERRUPTED_AT_START


# Ctrl-C where the Typer app runs outside the error choke point: while it builds the
# command, while click parses its arguments, and right after the command returned.
_CTRL_C_AROUND_TYPER = """
import os, signal, sys
where = sys.argv[1]
import typer.main
from typer._click import core
import codexsnap.cli.app as app
def pressing(real):
    def pressed(*args, **kwargs):
        if where == "after":
            done = real(*args, **kwargs)
            os.kill(os.getpid(), signal.SIGINT)
            return done
        os.kill(os.getpid(), signal.SIGINT)
        return real(*args, **kwargs)
    return pressed
if where == "building":
    typer.main.get_command = pressing(typer.main.get_command)
elif where == "parsing":
    core.Command.make_context = pressing(core.Command.make_context)
else:
    app.HandledGroup.invoke = pressing(app.HandledGroup.invoke)
from codexsnap.cli import main
sys.argv = ["codexsnap", *sys.argv[2:]]
main()
"""


def _around_typer(where: str, *args: str) -> subprocess.CompletedProcess[str]:
    return _python("-c", _CTRL_C_AROUND_TYPER, where, *args)


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="POSIX signal masks")
@pytest.mark.parametrize("where", ["building", "parsing"])
def test_ctrl_c_before_a_typer_command_runs_is_one_true_line_and_130(
    codex_home: Path, where: str
) -> None:
    """Building: a traceback through typer and exit -2; parsing: typer's exit 130 with
    nothing said at all."""
    done = _around_typer(where, "doctor")
    assert done.stderr.strip().splitlines()[-1:] == [INTERRUPTED_AT_START], done.stderr
    assert "Traceback" not in done.stderr
    assert done.returncode == 130


def test_ctrl_c_right_after_a_typer_command_keeps_its_exit_code(codex_home: Path) -> None:
    """It was 130 (typer's answer to a late KeyboardInterrupt) after a finished run."""
    assert _run(["snapshot"], lean=True)[0] == 0
    plain = _run(["diff", "--stat"], lean=True)
    done = _around_typer("after", "diff", "--stat")
    assert (done.returncode, done.stdout) == (plain[0], plain[1]), done.stderr
    assert "KeyboardInterrupt" not in done.stderr


def test_json_stays_json_on_an_ascii_stdout(codex_home: Path) -> None:
    """The lean start wrote `"caf\\xe9"` there (click's echo had written UTF-8)."""
    assert _run(["snapshot", "-m", "café"], lean=True)[0] == 0
    done = subprocess.run(
        [sys.executable, "-m", "codexsnap", "history", "--json"],
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(_ROOT), "PYTHONIOENCODING": "ascii"},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.decode("utf-8"))[0]["message"] == "café"


@pytest.mark.parametrize("closed", [">&-", "2>&-"])
def test_a_closed_output_stream_is_not_an_internal_error(codex_home: Path, closed: str) -> None:
    """`codexsnap history >&-` was 'internal error: AttributeError' and exit 70."""
    assert _run(["snapshot"], lean=True)[0] == 0
    for command in ("history", "snapshot", "doctor"):
        done = subprocess.run(
            f"{shlex.quote(sys.executable)} -m codexsnap {command} {closed}",
            shell=True,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(_ROOT)},
            timeout=120,
            check=False,
        )
        assert done.returncode in (0, 1), (command, done.returncode, done.stdout, done.stderr)
