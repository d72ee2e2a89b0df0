"""Helpers shared by the test files; conftest.py holds only fixtures."""

from __future__ import annotations

import json
import os
import re
import shlex
import stat
import subprocess
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from codexsnap.cli.app import app
from codexsnap.commands.fix import FixResult
from tests.homebuilder import (
    ACCESS_TOKEN,
    MCP_TOKEN,
    PUBLIC_KEY,
    REVOKED_CLIENT_ID,
)


def run(cli: CliRunner, *args: str, input: str | None = None) -> tuple[int, str, str]:
    """Run the CLI in-process and return exit code, stdout and stderr."""
    result = cli.invoke(app, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


def file_states(home: Path, include_excluded: bool = False) -> dict[str, tuple[bytes, int]]:
    """Every regular file and link of the home: bytes (link target for links) and mode."""
    from codexsnap.scope import Scope

    scope = Scope()
    states: dict[str, tuple[bytes, int]] = {}
    for path in sorted(home.rglob("*")):
        relpath = path.relative_to(home).as_posix()
        st = path.lstat()
        if not include_excluded and not scope.includes(relpath):
            continue
        if (
            any(
                not scope.includes(p.relative_to(home).as_posix())
                for p in path.parents
                if p != home and home in p.parents
            )
            and not include_excluded
        ):
            continue
        if stat.S_ISLNK(st.st_mode):
            states[relpath] = (os.fsencode(os.readlink(path)), stat.S_IMODE(st.st_mode))
        elif stat.S_ISREG(st.st_mode):
            states[relpath] = (path.read_bytes(), stat.S_IMODE(st.st_mode))
    return states


def git_in_store(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run git on the store as a test would inspect it, isolated from any user config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_DIR=str(store / "repo.git"), GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1"
    )
    return subprocess.run(["git", *args], capture_output=True, text=True, env=env, check=False)


GLOBAL = ".codex-global-state.json"


BAK = ".codex-global-state.json.bak"


ENROLL = "electron-remote-control-client-enrollments"


HEX40 = re.compile(r"^[0-9a-f]{40}$")


SNAPSHOT_KEYS = {
    "id",
    "short_id",
    "created_at",
    "operation",
    "summary",
    "message",
    "files_changed",
    "sqlite_home",
    "sqlite_files_changed",
    "recipe",
    "options",
    "origin",
    "description",
    "target",
    "undoes",
    "paths",
    "key",
    "before",
    "parent",
    "pinned",
    "pin_reason",
    "note",
    "pruned",
    "damaged",
    "quarantined",
    "damaged_files",
}


FILE_KEYS = {"path", "status", "format", "changes", "notes"}


REPORT_KEYS = {"changes", "outside", "auth"}


# Whole values and their distinctive middles: a mask keeps only a 4-character prefix.
SECRETS = (
    REVOKED_CLIENT_ID,
    REVOKED_CLIENT_ID[4:],
    ACCESS_TOKEN,
    "ACCESS-TOKEN-SECRET",
    MCP_TOKEN,
    "SECRETgithubTOKEN",
    PUBLIC_KEY,
    PUBLIC_KEY[4:],
    "user_AbC1dEf2GhI3jKl4",
    "dEf2GhI3jKl4",
)


def corrupt_packed_blob(store_root: Path, blob: str) -> None:
    """Damage ``blob`` inside the store's only pack: bytes of its deflated entry overwritten."""
    (pack,) = (store_root / "repo.git" / "objects" / "pack").glob("*.pack")
    index = git_in_store(store_root, "verify-pack", "-v", str(pack.with_suffix(".idx"))).stdout
    offset = next(int(line.split()[4]) for line in index.splitlines() if line.startswith(blob))
    data = bytearray(pack.read_bytes())
    data[offset + 4 : offset + 8] = b"\xff\xff\xff\xff"  # into the entry's deflated bytes
    pack.chmod(0o600)
    pack.write_bytes(bytes(data))


def ok(cli: CliRunner, *args: str, input: str | None = None) -> str:
    """Run a command that must succeed and return its stdout."""
    code, out, err = run(cli, *args, input=input)
    assert code == 0, f"exit {code}\nstdout:\n{out}\nstderr:\n{err}"
    return out


def ok_json(cli: CliRunner, *args: str) -> Any:
    """Run a command with --json: stdout must be JSON and nothing else, stderr empty."""
    code, out, err = run(cli, *args, "--json")
    assert code == 0, f"exit {code}\nstdout:\n{out}\nstderr:\n{err}"
    assert err == ""
    assert out.endswith("\n")
    return json.loads(out)


def fails(cli: CliRunner, exit_code: int, *args: str) -> str:
    """Run a command that must fail cleanly: its code, one "Error:" line, no traceback."""
    result = cli.invoke(app, list(args))
    out, err = result.stdout, result.stderr
    assert result.exit_code == exit_code, f"exit {result.exit_code}\n{out}\n{err}"
    # Anything but SystemExit here is an exception that escaped the CLI's one handler.
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in out + err
    assert out == ""
    error_lines = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1, err
    return err


def undo_args(output: str, label: str) -> list[str]:
    """The arguments of the printed undo command (after ``label``), without "codexsnap"."""
    lines = [line for line in output.splitlines() if line.startswith(label)]
    assert len(lines) == 1, output
    words = shlex.split(lines[0].removeprefix(label))
    assert words[:2] == ["codexsnap", "rollback"], lines[0]
    return words[1:]


def history_json(cli: CliRunner, *args: str) -> list[dict[str, Any]]:
    """``history --json`` as a list of snapshot objects."""
    snapshots = ok_json(cli, "history", *args)
    assert isinstance(snapshots, list)
    return snapshots


def fixed(cli: CliRunner, *extra: str) -> dict[str, Any]:
    """Run ``fix --yes --json`` (and ``extra`` flags) and return its output."""
    result = ok_json(cli, "fix", "--yes", *extra)
    assert isinstance(result, dict) and result["changed"] is True
    return result


def no_secrets(text: str) -> None:
    """Fail when any of homebuilder's secrets appears in ``text``."""
    leaked = [secret for secret in SECRETS if secret in text]
    assert not leaked, f"leaked {leaked}"


def apply_recipe(home: Path, store: Path, recipe: str, **options: Any) -> FixResult:
    """Run ``fix RECIPE`` on a home through the command function, agreeing to its prompt."""
    from codexsnap.commands.fix import fix
    from codexsnap.recipes import RecipeOptions

    return fix(
        home,
        store,
        recipe,
        RecipeOptions(**options),
        dry_run=False,
        force=False,
        show_secrets=False,
        confirm=lambda _: True,
    )
