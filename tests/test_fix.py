"""fix remote-control on realistic homes, through the commands layer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codexsnap.commands.fix import FixResult, fix
from codexsnap.commands.history import history
from codexsnap.errors import NotConfirmedError, StateFileInvalidError
from codexsnap.recipes import RecipeOptions
from codexsnap.report import DiffReport
from tests.conftest import file_states
from tests.homebuilder import CodexHomeBuilder

GLOBAL = ".codex-global-state.json"
BAK = ".codex-global-state.json.bak"
ENROLL = "electron-remote-control-client-enrollments"


def yes(_: DiffReport) -> bool:
    return True


def run_fix(home: Path, store: Path, **options: bool) -> FixResult:
    dry_run = options.pop("dry_run", False)
    force = options.pop("force", False)
    return fix(
        home,
        store,
        "remote-control",
        RecipeOptions(**options),
        dry_run=dry_run,
        force=force,
        show_secrets=False,
        confirm=yes,
    )


def test_fix_removes_enrollment_from_both_files_and_keeps_everything_else(
    codex_home: Path, store_root: Path
) -> None:
    before = json.loads((codex_home / GLOBAL).read_bytes())
    result = run_fix(codex_home, store_root)
    after = json.loads((codex_home / GLOBAL).read_bytes())
    assert ENROLL not in after
    assert after == {k: v for k, v in before.items() if k != ENROLL}
    assert list(after) == [k for k in before if k != ENROLL]  # key order kept
    assert (codex_home / BAK).read_bytes() == (codex_home / GLOBAL).read_bytes()
    assert result.snapshot_before is not None and result.snapshot_after is not None
    ops = [s.operation for s in history(codex_home, store_root, None)]
    assert ops == ["after-fix", "before-fix"]


def test_fix_keeps_indentation_and_final_newline(
    builder: CodexHomeBuilder, store_root: Path
) -> None:
    builder.indent = 2
    home = builder.build()
    raw = (home / GLOBAL).read_bytes() + b"\n"
    (home / GLOBAL).write_bytes(raw)
    run_fix(home, store_root)
    text = (home / GLOBAL).read_text()
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert '\n  "local-projects": {' in text
    assert "“quotes”" in text  # non-ASCII kept as written


def test_clean_also_removes_remote_host_selection(codex_home: Path, store_root: Path) -> None:
    run_fix(codex_home, store_root, clean=True)
    after = json.loads((codex_home / GLOBAL).read_bytes())
    for key in (
        ENROLL,
        "selected-remote-host-id",
        "remote-connection-auto-connect-by-host-id",
        "added-remote-control-env-ids",
    ):
        assert key not in after
    # The nested atom state is the user's UI state; --clean leaves it alone.
    assert "selected-remote-host-id" in after["electron-persisted-atom-state"]
    assert "local-projects" in after


def test_reset_moves_both_files_out_and_rollback_brings_them_back(
    codex_home: Path, store_root: Path
) -> None:
    from codexsnap.commands.rollback import rollback

    original = file_states(codex_home)
    result = run_fix(codex_home, store_root, reset=True)
    assert not (codex_home / GLOBAL).exists() and not (codex_home / BAK).exists()
    assert result.snapshot_before is not None
    rollback(
        codex_home,
        store_root,
        result.snapshot_before.id,
        dry_run=False,
        force=False,
        show_secrets=False,
        confirm=yes,
    )
    assert file_states(codex_home) == original


def test_nothing_to_fix_makes_no_snapshot(codex_home: Path, store_root: Path) -> None:
    run_fix(codex_home, store_root)
    count = len(history(codex_home, store_root, None))
    result = run_fix(codex_home, store_root)
    assert result.report.empty
    assert len(history(codex_home, store_root, None)) == count


def test_missing_bak_is_fine(builder: CodexHomeBuilder, store_root: Path) -> None:
    builder.with_bak = False
    home = builder.build()
    run_fix(home, store_root)
    assert not (home / BAK).exists()
    assert ENROLL not in json.loads((home / GLOBAL).read_bytes())


def test_dry_run_writes_nothing_into_home_or_store(codex_home: Path, store_root: Path) -> None:
    original = file_states(codex_home, include_excluded=True)
    result = run_fix(codex_home, store_root, dry_run=True)
    assert not result.report.empty
    assert file_states(codex_home, include_excluded=True) == original
    assert not store_root.exists()


def test_declined_confirmation_changes_nothing(codex_home: Path, store_root: Path) -> None:
    original = file_states(codex_home)
    with pytest.raises(NotConfirmedError):
        fix(
            codex_home,
            store_root,
            "remote-control",
            RecipeOptions(),
            dry_run=False,
            force=False,
            show_secrets=False,
            confirm=lambda _: False,
        )
    assert file_states(codex_home) == original


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b'{"a": 1, "electron-remote', "not valid JSON"),
        (b"\x00" * 4096, "NUL bytes"),
        (b"", "empty"),
        (b'\xef\xbb\xbf{"a": 1}', "byte-order mark"),
        (b"[1, 2]", "not an object"),
        (b'{"a": "\xff\xfe"}', "not valid UTF-8"),
    ],
)
def test_bad_global_state_is_refused_and_nothing_changes(
    codex_home: Path, store_root: Path, content: bytes, words: str
) -> None:
    (codex_home / GLOBAL).write_bytes(content)
    original = file_states(codex_home)
    with pytest.raises(StateFileInvalidError, match=words):
        run_fix(codex_home, store_root)
    assert file_states(codex_home) == original
    assert not store_root.exists()


def test_fix_called_directly_recovers_a_killed_run_before_planning(
    codex_home: Path, store_root: Path
) -> None:
    import os
    import signal
    import subprocess
    import sys

    original = file_states(codex_home)
    env = {**os.environ, "CODEXSNAP_TEST_FAULT": "kill:between-writes"}
    killed = subprocess.run(
        [sys.executable, "-m", "codexsnap", "fix", "--yes"], env=env, capture_output=True
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    half = file_states(codex_home)
    assert half != original  # one of the two files was written

    waiting = run_fix(codex_home, store_root, dry_run=True)
    assert waiting.recovery is None and waiting.recovery_pending
    assert file_states(codex_home) == half  # a dry run writes nothing, not even a recovery

    result = run_fix(codex_home, store_root)
    assert result.recovery is not None and not result.recovery_pending
    assert result.recovery.operation == "fix remote-control"
    assert result.recovery.restored and not result.recovery.left_alone
    assert result.changed
    assert not any((store_root / "journal").glob("*.json"))
    ops = [s.operation for s in history(codex_home, store_root, None)]
    assert ops[:4] == ["after-fix", "before-fix", "recovery", "drift"]
