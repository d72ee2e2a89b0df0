"""Doctor's registry and rootPaths checks, and project-roots, on realistic homes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from codexsnap.doctor import Check, gather_context
from codexsnap.doctor.projects import check_project_registry, check_root_paths
from codexsnap.doctor.registry import CheckFunction
from codexsnap.errors import RecipeRefusedError, UsageError
from codexsnap.home import CodexHome
from tests.helpers import apply_recipe as apply
from tests.helpers import file_states, run
from tests.homebuilder import CodexHomeBuilder
from tests.test_doctor_home import doctor_on
from tests.test_recipes_projects import (
    BAK,
    EMPTIED,
    GLOBAL,
    drop_database_projects,
    read_state,
    undo_last,
    write_state,
)


def one_check(home: Path, store: Path, check: CheckFunction, platform: str = "linux") -> Check:
    """One check on a context read as doctor reads it (the others are not run: faster)."""
    return check(gather_context(CodexHome(home, "CODEX_HOME"), store, [], platform=platform))


def registry_check(home: Path, store: Path) -> Check:
    return one_check(home, store, check_project_registry)


@pytest.mark.parametrize("layout", ["desktop", "cli"])
def test_a_whole_registry_is_ok_and_an_emptied_one_names_the_cure(
    builder: CodexHomeBuilder, store_root: Path, layout: str
) -> None:
    builder.layout = layout
    home = builder.build()
    check = registry_check(home, store_root)
    assert check.status == "ok" and "every one of the 2" in check.evidence, check
    write_state(home, {**read_state(home), **EMPTIED})
    check = registry_check(home, store_root)
    assert check.status == "problem"
    assert "lists 0 of the 2 projects in" in check.evidence and builder.state_db in check.evidence
    assert "2026-07-13-local-projects" in check.evidence  # the marker says it ran
    assert check.cure == "codexsnap fix project-registry"
    apply(home, store_root, "project-registry")
    assert registry_check(home, store_root).status == "ok"


def test_entries_the_app_drops_are_a_problem(codex_home: Path, store_root: Path) -> None:
    state = read_state(codex_home)
    for entry in state["local-projects"].values():
        entry["createdAt"] = "2026-09-21T07:42:20Z"  # not a number: the app drops it (#42739)
    write_state(codex_home, state)
    check = registry_check(codex_home, store_root)
    assert check.status == "problem" and "#42739" in check.evidence
    assert check.cure == "codexsnap fix project-registry"


def test_an_empty_registry_after_the_migration_with_no_database_projects_is_a_warning(
    builder: CodexHomeBuilder, store_root: Path
) -> None:
    home = builder.build()
    drop_database_projects(builder)
    write_state(home, {**read_state(home), **EMPTIED})
    check = registry_check(home, store_root)
    assert check.status == "warning" and "#35088" in check.evidence
    assert check.cure == "codexsnap fix project-registry"


def two_folders(home: Path) -> dict[str, Any]:
    state = read_state(home)
    first = next(iter(state["local-projects"].values()))
    first["rootPaths"] = [first["rootPaths"][0], "/Users/ana/src/shared"]
    write_state(home, state)
    return state


def test_several_folders_are_a_problem_on_windows_only(codex_home: Path, store_root: Path) -> None:
    assert one_check(codex_home, store_root, check_root_paths, "win32").status == "ok"
    two_folders(codex_home)
    assert doctor_on(codex_home, store_root, "win32")["project-roots"].status == "problem"
    windows = one_check(codex_home, store_root, check_root_paths, "win32")
    assert windows.status == "problem" and "#35057" in windows.evidence
    assert windows.cure == "codexsnap fix project-roots --project api"
    linux = one_check(codex_home, store_root, check_root_paths, "linux")
    assert linux.status == "ok" and "api (2 folders)" in linux.evidence


def test_project_roots_trims_both_files_and_undo_brings_the_folder_back(
    codex_home: Path, store_root: Path
) -> None:
    two = two_folders(codex_home)
    broken = file_states(codex_home)
    result = apply(codex_home, store_root, "project-roots", project="api")
    state = read_state(codex_home)
    key = next(iter(state["local-projects"]))
    assert state["local-projects"][key]["rootPaths"] == ["/Users/ana/src/api"]
    assert {k: v for k, v in state.items() if k != "local-projects"} == {
        k: v for k, v in two.items() if k != "local-projects"
    }
    assert json.loads((codex_home / BAK).read_bytes()) == state
    assert any("/Users/ana/src/shared" in note for note in result.notes)
    after = file_states(codex_home)
    assert {k for k in after if after[k] != broken.get(k)} == {GLOBAL, BAK}
    undo_last(codex_home, store_root)
    assert file_states(codex_home)[GLOBAL] == broken[GLOBAL]
    assert file_states(codex_home)[BAK] == broken[BAK]


def test_project_roots_by_id_and_its_refusals(
    codex_home: Path, store_root: Path, cli: CliRunner
) -> None:
    two_folders(codex_home)
    key = next(iter(read_state(codex_home)["local-projects"]))
    with pytest.raises(RecipeRefusedError, match="no project called 'nope'"):
        apply(codex_home, store_root, "project-roots", project="nope")
    with pytest.raises(UsageError, match="--project"):
        apply(codex_home, store_root, "project-roots")
    assert apply(codex_home, store_root, "project-roots", project="web").report.empty
    code, out, err = run(cli, "fix", "project-roots", "--project", key, "--dry-run")
    assert code == 0, err
    assert f"codexsnap fix project-roots --project {key}" in out
    code, _, err = run(cli, "fix", "remote-control", "--project", "api", "--yes")
    assert code == 2 and "--project does not apply" in err
