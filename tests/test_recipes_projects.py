"""project-registry and restore-global-state on realistic homes: lost projects come back.

The most reported Codex breakage: projects vanish from the sidebar while the database still
holds them (openai/codex #42739, #39121, #37927, #19615, #46919, #35088).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from codexsnap.commands.snapshot import snapshot
from codexsnap.commands.undo import undo
from codexsnap.errors import RecipeRefusedError
from tests.helpers import apply_recipe as apply
from tests.helpers import file_states, run
from tests.homebuilder import CodexHomeBuilder, global_state
from tests.storetools import yes

GLOBAL = ".codex-global-state.json"
BAK = ".codex-global-state.json.bak"
EMPTIED: dict[str, Any] = {
    "local-projects": {},
    "project-order": [],
    "electron-saved-workspace-roots": [],
}


def undo_last(home: Path, store: Path) -> None:
    undo(home, store, dry_run=False, force=False, show_secrets=False, confirm=yes)


def write_state(home: Path, state: dict[str, Any]) -> bytes:
    raw = json.dumps(state, separators=(",", ":"), ensure_ascii=False).encode()
    (home / GLOBAL).write_bytes(raw)
    (home / BAK).write_bytes(raw)  # the app mirrors every save (#43393)
    return raw


def read_state(home: Path) -> dict[str, Any]:
    return dict(json.loads((home / GLOBAL).read_bytes()))


def drop_database_projects(builder: CodexHomeBuilder) -> None:
    db = builder.open_connections[0]
    db.execute("UPDATE threads SET project_id = NULL")
    db.execute("DELETE FROM project_idempotency_keys")
    db.execute("DELETE FROM project_roots")
    db.execute("DELETE FROM projects")
    db.commit()


@pytest.mark.parametrize("layout", ["desktop", "cli"])
def test_registry_is_rebuilt_from_the_database_with_nothing_else_changed_and_undoable(
    builder: CodexHomeBuilder, store_root: Path, layout: str
) -> None:
    builder.layout = layout  # the database in sqlite/ (desktop) or at the top level (CLI)
    home = builder.build()
    whole = read_state(home)
    emptied = write_state(home, {**whole, **EMPTIED})  # the app emptied its registry
    before = file_states(home)
    result = apply(home, store_root, "project-registry")
    state = read_state(home)
    assert state == whole and list(state) == list(whole)  # every key, in its place
    assert (home / BAK).read_bytes() == (home / GLOBAL).read_bytes()
    after = file_states(home)
    assert {k for k in after if after[k] != before.get(k)} == {GLOBAL, BAK}
    assert any(builder.state_db in note for note in result.notes)
    undo_last(home, store_root)
    assert (home / GLOBAL).read_bytes() == emptied and (home / BAK).read_bytes() == emptied


def test_thinned_registry_and_entries_the_app_drops_are_rebuilt(
    codex_home: Path, store_root: Path
) -> None:
    whole = read_state(codex_home)
    first, second = list(whole["local-projects"])
    thinned = {first: dict(whole["local-projects"][first], createdAt="2026-09-21")}  # #42739
    write_state(codex_home, {**whole, "local-projects": thinned, "project-order": [first]})
    apply(codex_home, store_root, "project-registry")
    state = read_state(codex_home)
    assert state["local-projects"] == whole["local-projects"]
    assert state["project-order"] == [first, second]
    assert state["electron-saved-workspace-roots"] == whole["electron-saved-workspace-roots"]


def test_an_entry_the_database_does_not_know_is_kept(codex_home: Path, store_root: Path) -> None:
    whole = read_state(codex_home)
    extra = {"id": "local_new", "name": "new", "rootPaths": ["/n"], "createdAt": 1, "updatedAt": 2}
    registry = {"local_new": extra}
    write_state(codex_home, {**whole, "local-projects": registry, "project-order": ["local_new"],
                             "electron-saved-workspace-roots": ["/n"]})  # fmt: skip
    apply(codex_home, store_root, "project-registry")
    state = read_state(codex_home)
    assert state["local-projects"]["local_new"] == extra
    assert set(state["local-projects"]) == {"local_new", *whole["local-projects"]}
    assert state["project-order"][0] == "local_new"
    assert len(state["project-order"]) == len(state["electron-saved-workspace-roots"]) == 3


def test_a_whole_registry_is_left_alone(codex_home: Path, store_root: Path) -> None:
    result = apply(codex_home, store_root, "project-registry")
    assert result.report.empty and not result.changed


def test_threads_option_rebuilds_thread_assignments(codex_home: Path, store_root: Path) -> None:
    whole = read_state(codex_home)
    write_state(codex_home, {**whole, **EMPTIED, "thread-project-assignments": {}})
    apply(codex_home, store_root, "project-registry")
    assert read_state(codex_home)["thread-project-assignments"] == {}  # only with --threads
    apply(codex_home, store_root, "project-registry", threads=True)
    assert read_state(codex_home) == whole


def test_registry_comes_from_the_newest_snapshot_with_projects_and_newer_settings_stay(
    builder: CodexHomeBuilder, store_root: Path
) -> None:
    home = builder.build()
    whole = read_state(home)
    good = snapshot(home, store_root, "all good").snapshot
    drop_database_projects(builder)
    newer = {**whole, **EMPTIED, "settings": {"theme": "dark"}, "sidebar-width": 400}
    write_state(home, newer)
    snapshot(home, store_root, "emptied")  # newer, but its registry is empty: skipped
    result = apply(home, store_root, "project-registry")
    state = read_state(home)
    assert state == {**newer, **{k: whole[k] for k in EMPTIED}}
    assert (home / BAK).read_bytes() == (home / GLOBAL).read_bytes()
    assert good is not None and any(good.short_id in note for note in result.notes)


def test_registry_refuses_when_neither_the_database_nor_a_snapshot_has_projects(
    builder: CodexHomeBuilder, store_root: Path
) -> None:
    home = builder.build()
    drop_database_projects(builder)
    raw = write_state(home, {**read_state(home), **EMPTIED})
    with pytest.raises(RecipeRefusedError, match="neither"):
        apply(home, store_root, "project-registry")
    assert (home / GLOBAL).read_bytes() == raw


def test_registry_refuses_a_state_that_does_not_parse_and_names_the_cure(
    codex_home: Path, store_root: Path, cli: CliRunner
) -> None:
    (codex_home / GLOBAL).write_bytes(b"\x00" * 64)
    code, _, err = run(cli, "fix", "project-registry", "--yes")
    assert code == 4 and "restore-global-state" in err


def test_cli_dry_run_names_the_source_and_the_command(codex_home: Path, cli: CliRunner) -> None:
    write_state(codex_home, {**read_state(codex_home), **EMPTIED})
    code, out, _ = run(cli, "fix", "project-registry", "--threads", "--dry-run")
    assert code == 0, out
    assert "Note: Rebuilt from sqlite/state_5.sqlite: 2 projects." in out
    assert "codexsnap fix project-registry --threads" in out
    data = json.loads(run(cli, "fix", "project-registry", "--dry-run", "--json")[1])
    assert data["notes"] and not data["changed"]


# ----- restore-global-state, key level ----------------------------------------------------


def test_restore_global_state_restores_only_the_keys_that_lost_data(
    codex_home: Path, store_root: Path
) -> None:
    whole = read_state(codex_home)
    good = snapshot(codex_home, store_root, "all good").snapshot
    newer = global_state(drafts=5)  # drafts written since
    newer.update(EMPTIED)
    newer["settings"] = {"theme": "dark"}
    newer["thread-project-assignments"] = {}
    write_state(codex_home, newer)
    result = apply(codex_home, store_root, "restore-global-state")
    state = read_state(codex_home)
    assert {k: state[k] for k in EMPTIED} == {k: whole[k] for k in EMPTIED}
    assert state["thread-project-assignments"] == whole["thread-project-assignments"]
    assert state["settings"] == {"theme": "dark"}
    drafts = state["electron-persisted-atom-state"]["composer-prompt-drafts-v2"]
    assert len(drafts) == 5
    assert (codex_home / BAK).read_bytes() == (codex_home / GLOBAL).read_bytes()
    assert good is not None and any(good.short_id in note for note in result.notes)


def test_restore_global_state_restores_a_file_that_does_not_parse_whole_and_says_from_where(
    codex_home: Path, store_root: Path
) -> None:
    good_bytes = (codex_home / GLOBAL).read_bytes()
    good = snapshot(codex_home, store_root, "all good").snapshot
    (codex_home / GLOBAL).write_bytes(b"\x00" * 512)
    result = apply(codex_home, store_root, "restore-global-state")
    assert (codex_home / GLOBAL).read_bytes() == good_bytes
    assert good is not None
    assert result.notes == (
        f"{GLOBAL} does not parse: restored whole from snapshot "
        f"{good.short_id} of {good.created_at.astimezone():%Y-%m-%d %H:%M}.",
    )
