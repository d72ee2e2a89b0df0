"""codexsnap demo: the whole cycle on a throwaway home."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tests.helpers import run


def test_demo_walks_through_and_touches_nothing_of_the_user(cli: CliRunner, tmp_path: Path) -> None:
    user_home = Path.home()
    before = sorted(p.as_posix() for p in user_home.rglob("*"))
    code, out, err = run(cli, "demo")
    assert code == 0, out + err
    for step in (
        "codexsnap doctor",
        "codexsnap fix --yes",
        "codexsnap history",
        "codexsnap undo --yes",
        "remote-control-revoked",
        "Snapshot before:",
        "Restored",
        "Your own Codex home was not touched",
    ):
        assert step in out, step
    assert sorted(p.as_posix() for p in user_home.rglob("*")) == before
    assert not (tmp_path / "store").exists() and not (tmp_path / "codex-home").exists()
