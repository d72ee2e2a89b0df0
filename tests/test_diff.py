"""codexsnap diff: a snapshot against the home or another snapshot."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.helpers import (
    BAK,
    FILE_KEYS,
    GLOBAL,
    REPORT_KEYS,
    fails,
    file_states,
    fixed,
    ok,
    ok_json,
    run,
)


def test_diff_exits_0_when_the_home_matches_and_1_when_it_differs(
    cli: CliRunner, codex_home: Path
) -> None:
    result = fixed(cli)
    after = result["snapshot_after"]
    out = ok(cli, "diff")
    assert out.startswith(f"{after[:10]} -> the live home:\n")
    assert "No difference in the snapshot scope." in out
    same = ok_json(cli, "diff")
    assert set(same) == {"old", "new", "different"} | REPORT_KEYS
    assert (same["old"], same["new"], same["different"], same["changes"]) == (
        after,
        None,
        False,
        [],
    )

    original = file_states(codex_home)
    (codex_home / "AGENTS.md").write_text("edited\n")
    edited = file_states(codex_home)
    code, out, err = run(cli, "diff", "--stat")
    assert (code, err) == (1, "")
    assert "M  AGENTS.md  (text)" in out.splitlines()
    code, out, err = run(cli, "diff", "--json")
    assert (code, err) == (1, "")
    different = json.loads(out)
    assert different["different"] is True
    assert [f["path"] for f in different["changes"]] == ["AGENTS.md"]
    assert set(different["changes"][0]) == FILE_KEYS
    assert file_states(codex_home) == edited  # diff writes nothing
    assert edited != original

    code, out, _ = run(cli, "diff", result["snapshot_before"], after, "--stat")
    assert code == 1
    assert out.splitlines()[1:] == [f"M  {GLOBAL}  (1 change)", f"M  {BAK}  (1 change)"]


def test_diff_without_snapshots(cli: CliRunner, codex_home: Path) -> None:
    fails(cli, 7, "diff")
    fails(cli, 7, "diff", "--json")
