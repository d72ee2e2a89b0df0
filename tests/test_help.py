"""--help and shell completion (issue 16): plain names, the terminal's width, whole words,
recipe names listed, recipes and snapshot ids completed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from codexsnap.cli.app import app
from codexsnap.cli.text import fit
from codexsnap.recipes import all_recipes
from codexsnap.wording import plural
from tests.helpers import fixed, ok, ok_json, run

COMMANDS = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def _help(*args: str, columns: int = 80) -> str:
    env = {**os.environ, "COLUMNS": str(columns)}
    done = subprocess.run(
        [sys.executable, "-m", "codexsnap", *args, "--help"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return done.stdout


def test_summaries_use_the_whole_width() -> None:
    shown = _help(columns=200)
    line = next(line for line in shown.splitlines() if line.strip().startswith("fix "))
    assert "(default: remote-control), snapshotting around it." in line
    assert "..." not in shown.split("Commands:")[1]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_names_arguments_as_typed_and_never_cuts_a_word(cli: CliRunner, command: str) -> None:
    result = cli.invoke(app, [command, "--help"], terminal_width=60)
    assert result.exit_code == 0, result.output
    shown = result.stdout
    assert not re.search(r"<(str|int|path|float|int range|float range)>", shown), shown
    assert "{" not in shown.split("\n\n")[0], shown  # the usage line: ID, not {ID}
    for line in shown.splitlines():
        if line.rstrip().endswith("-") and not line.rstrip().endswith(" -"):
            pytest.fail(f"a word cut at its hyphen: {line!r}")


def test_doctor_logs_help_is_its_own() -> None:
    shown = _help("doctor", columns=200)
    logs = next(line for line in shown.splitlines() if line.strip().startswith("--logs"))
    assert "--only-revoked" not in logs and "besides the usual places" in logs


def test_fix_help_lists_the_recipes() -> None:
    shown = " ".join(_help("fix", columns=200).split())
    for name in all_recipes():
        assert name in shown
    assert "Usage: python -m codexsnap fix [OPTIONS] [RECIPE]" in shown


def _complete(cli: CliRunner, words: str) -> list[str]:
    result = cli.invoke(
        app,
        [],
        prog_name="codexsnap",
        env={
            "_CODEXSNAP_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
        },
    )
    assert result.exit_code == 0, result.output
    return result.stdout.split()


def test_completion_offers_recipes(cli: CliRunner) -> None:
    assert _complete(cli, "codexsnap fix re") == ["remote-control", "restore-global-state"]
    assert set(_complete(cli, "codexsnap fix ")) == set(all_recipes())


def test_completion_offers_this_homes_snapshot_ids(
    cli: CliRunner, codex_home: Path, tmp_path: Path
) -> None:
    fix = fixed(cli)
    ids = [s["short_id"] for s in ok_json(cli, "history")]
    assert set(_complete(cli, "codexsnap show ")) == set(ids)
    after = fix["snapshot_after"]
    assert _complete(cli, f"codexsnap rollback {after[:4]}") == [after[:10]]
    assert after[:10] in _complete(cli, "codexsnap diff ")
    # Another home (given on the line) has other ids, and no store completes nothing.
    other = tmp_path / "other-home"
    other.mkdir()
    assert _complete(cli, f"codexsnap show --codex-home {other} ") == []
    assert ok(cli, "history")  # completion changed nothing


def test_counts_read_as_counts() -> None:
    assert plural(1, "thread") == "1 thread" and plural(3, "thread") == "3 threads"
    assert plural(2, "history entry") == "2 history entries" and plural(2, "day") == "2 days"
    package = Path(__file__).parent.parent / "codexsnap"
    hedged = [
        f"{path.name}: {line.strip()}"
        for path in package.rglob("*.py")
        for line in path.read_text().splitlines()
        if re.search(r"[a-z]\(s\)[^}\]]", line)
        and " for s in " not in line
        and path.name != "wording.py"
    ]
    assert not hedged, hedged


def test_doctor_without_log_folders_says_so_plainly(cli: CliRunner, codex_home: Path) -> None:
    checks = json.loads(run(cli, "doctor", "--json")[1])["checks"]
    evidence = " ".join(c["evidence"] for c in checks)
    assert "not seen in no desktop log folder" not in evidence
    assert "no desktop log folder found" in evidence
    sqlite_home = next(c for c in checks if c["name"] == "sqlite-home")["evidence"]
    assert "1 threads" not in sqlite_home


def test_long_lines_fit_the_width_without_cutting_words() -> None:
    cure = " " * 10 + "cure: codexsnap fix --codex-home /a/long/home/path --store /a/store x-y-z"
    lines = fit(cure, 40).splitlines()
    assert all(len(line) <= 40 for line in lines), lines
    assert all(line.endswith(" \\") for line in lines[:-1])
    assert " ".join(part.rstrip(" \\").strip() for part in lines) == cure.strip()
    prose = "warning  leftovers  1 leftover temp file of an interrupted save: ..x.tmp-1a2b3c"
    cut = fit(prose, 30).splitlines()
    assert "\\" not in "".join(cut) and " ".join(p.strip() for p in cut) == prose
    assert fit("short", 40) == "short"
