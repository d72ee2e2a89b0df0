"""codexsnap adopt: a home that moved takes over the history of its old path."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.helpers import fails, fixed, history_json, ok, ok_json


@pytest.fixture
def moved(cli: CliRunner, codex_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The home after a fix, copied elsewhere and CODEX_HOME pointed there."""
    fixed(cli)
    new = codex_home.parent / "moved-home"
    shutil.copytree(codex_home, new, symlinks=True, ignore=shutil.ignore_patterns("*.sock"))
    monkeypatch.setenv("CODEX_HOME", str(new))
    return new


def test_history_of_a_moved_home_names_the_old_path_and_offers_adopt(
    cli: CliRunner, codex_home: Path, moved: Path
) -> None:
    out = ok(cli, "history")
    assert out.startswith(f"No snapshots yet for {moved.resolve()}")
    assert str(codex_home) in out and "2 snapshots" in out
    assert f"codexsnap adopt {codex_home}" in out


def test_adopt_takes_the_history_over_and_records_it(
    cli: CliRunner, codex_home: Path, moved: Path
) -> None:
    old = history_json(cli, "--codex-home", str(codex_home))
    dry = ok_json(cli, "adopt", str(codex_home), "--dry-run")
    assert dry["dry_run"] is True and dry["adopted"] is None and dry["snapshots"] == 2
    assert history_json(cli) == []
    out = ok(cli, "adopt", str(codex_home))
    assert "Adopted the history of" in out and "stays as it was" in out
    now = history_json(cli)
    assert now[0]["operation"] == "adopt" and now[0]["files_changed"] == 0
    assert [s["id"] for s in now[1:]] == [s["id"] for s in old]
    # The old path keeps its history; the adopted snapshots resolve and restore here.
    assert history_json(cli, "--codex-home", str(codex_home)) == old
    ok(cli, "undo", "--yes")
    assert history_json(cli)[0]["operation"] == "after-undo"
    # Adopting twice would hide the history this home has now.
    err = fails(cli, 2, "adopt", str(codex_home))
    assert "already has its own history" in err


def test_adopt_refuses_a_path_with_no_history_and_this_home(
    cli: CliRunner, codex_home: Path, moved: Path
) -> None:
    err = fails(cli, 7, "adopt", str(codex_home.parent / "nowhere"))
    assert "holds no history" in err
    err = fails(cli, 2, "adopt", str(moved))
    assert "is this Codex home" in err
