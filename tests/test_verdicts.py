"""Wrong verdicts, each made right: an emptied global state, rollback typos, expected inputs
that used to be internal errors (exit 70)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.helpers import run

GLOBAL = ".codex-global-state.json"
BAK = ".codex-global-state.json.bak"


@pytest.mark.parametrize(
    "emptied", ["{}", '{"local-projects": {}}', '{"local-projects": [], "x": 1}']
)
@pytest.mark.parametrize("recipe", ["remote-control", "pairing-reset"])
def test_fix_on_an_emptied_primary_refuses_to_mirror_it_over_a_bak_with_projects(
    cli: CliRunner, codex_home: Path, emptied: str, recipe: str
) -> None:
    bak = (codex_home / GLOBAL).read_bytes()
    assert json.loads(bak).get("local-projects")
    (codex_home / GLOBAL).write_text(emptied)
    (codex_home / BAK).write_bytes(bak)
    code, out, err = run(cli, "fix", recipe, "--yes")
    assert code == 12, out + err
    assert "codexsnap fix restore-global-state" in err
    assert (codex_home / BAK).read_bytes() == bak

    code, out, err = run(cli, "fix", recipe, "--yes", "--replace-bak")
    assert code == 0, out + err
    assert json.loads((codex_home / BAK).read_bytes()) == json.loads(
        (codex_home / GLOBAL).read_bytes()
    )


def test_fix_with_projects_in_both_files_mirrors_as_before(
    cli: CliRunner, codex_home: Path
) -> None:
    code, out, err = run(cli, "fix", "--yes")
    assert code == 0, out + err
    assert (codex_home / BAK).read_bytes() == (codex_home / GLOBAL).read_bytes()


def _base_snapshot(cli: CliRunner) -> str:
    code, out, err = run(cli, "snapshot", "-m", "base", "--json")
    assert code == 0, err
    snapshot_id: str = json.loads(out)["id"]
    return snapshot_id


def test_rollback_of_a_path_in_neither_side_is_a_usage_error_naming_it(
    cli: CliRunner, codex_home: Path
) -> None:
    base = _base_snapshot(cli)
    code, out, err = run(cli, "rollback", base, "--path", "confg.toml", "--yes")
    assert code == 2, out + err
    assert "confg.toml" in err and "Nothing to do" not in out


def test_rollback_of_a_key_in_neither_side_is_a_usage_error_naming_it(
    cli: CliRunner, codex_home: Path
) -> None:
    base = _base_snapshot(cli)
    code, out, err = run(cli, "rollback", base, "--path", GLOBAL, "--key", "local-projcts", "--yes")
    assert code == 2, out + err
    assert "local-projcts" in err and "Nothing to do" not in out


@pytest.mark.parametrize("outside", ["../store", "../../etc/passwd", "a/../../x"])
def test_rollback_of_a_path_outside_the_home_is_refused(
    cli: CliRunner, codex_home: Path, outside: str
) -> None:
    base = _base_snapshot(cli)
    code, out, err = run(cli, "rollback", base, "--path", outside, "--yes")
    assert code == 2, out + err
    assert "not inside the Codex home" in err


def test_rollback_of_a_nested_key_under_a_non_object_says_so_not_invalid_json(
    cli: CliRunner, codex_home: Path
) -> None:
    state = json.loads((codex_home / GLOBAL).read_bytes())
    scalar = next(k for k, v in state.items() if not isinstance(v, dict | list))
    base = _base_snapshot(cli)
    code, out, err = run(cli, "rollback", base, "--path", GLOBAL, "--key", f"{scalar}/b", "--yes")
    assert code == 2, out + err
    assert "not valid JSON" not in err and f"{scalar}/b" in err
