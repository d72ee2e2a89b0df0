"""codexsnap rollback: whole, by path, by key, into another folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from tests.helpers import (
    BAK,
    ENROLL,
    FILE_KEYS,
    GLOBAL,
    HEX40,
    fails,
    file_states,
    fixed,
    history_json,
    ok,
    ok_json,
    run,
    undo_args,
)

ROLLBACK_KEYS = {
    "target",
    "dry_run",
    "changed",
    "snapshot_before",
    "snapshot_after",
    "drift_snapshot",
    "changes",
    "undo",
}


def test_rollback_dry_run_yes_undo_and_nothing_to_do(cli: CliRunner, codex_home: Path) -> None:
    original = file_states(codex_home)
    before = fixed(cli)["snapshot_before"]
    fixed_state = file_states(codex_home)
    count = len(history_json(cli))

    out = ok(cli, "rollback", before[:8], "--dry-run")
    assert out.startswith(f"Would restore {before[:10]} (before fix remote-control):")
    assert f"  + {ENROLL}:" in out and "Dry run: nothing was written." in out
    assert file_states(codex_home) == fixed_state
    assert len(history_json(cli)) == count

    fails(cli, 9, "rollback", before)
    assert file_states(codex_home) == fixed_state

    out = ok(cli, "rollback", before, "--yes")
    assert out.startswith(f"Restored {before[:10]} (before fix remote-control):")
    assert file_states(codex_home) == original

    out = ok(cli, *undo_args(out, "To undo this rollback: "), "--yes")
    assert out.startswith("Restored ")
    assert file_states(codex_home) == fixed_state

    assert ok(cli, "rollback", before, "--yes").startswith("Restored ")
    out = ok(cli, "rollback", before, "--yes")
    assert out == f"Nothing to do: the home already matches {before[:10]}.\n"
    assert file_states(codex_home) == original


def test_rollback_json(cli: CliRunner, codex_home: Path) -> None:
    original = file_states(codex_home)
    before = fixed(cli)["snapshot_before"]

    planned = ok_json(cli, "rollback", before, "--dry-run")
    assert set(planned) == ROLLBACK_KEYS
    assert planned["target"] == before
    assert (planned["dry_run"], planned["changed"], planned["undo"]) == (True, False, None)
    assert [f["path"] for f in planned["changes"]] == [GLOBAL, BAK]

    done = ok_json(cli, "rollback", before, "--yes")
    assert set(done) == ROLLBACK_KEYS
    assert (done["dry_run"], done["changed"]) == (False, True)
    assert HEX40.match(done["snapshot_before"]) and HEX40.match(done["snapshot_after"])
    assert done["undo"].startswith(f"codexsnap rollback {done['snapshot_before'][:10]}")
    for file in done["changes"]:
        assert set(file) == FILE_KEYS
        assert [set(c) for c in file["changes"]] == [{"kind", "path", "new"}]
    assert file_states(codex_home) == original

    again = ok_json(cli, "rollback", before, "--yes")
    assert again["changed"] is False and again["changes"] == [] and again["undo"] is None


def test_rollback_puts_back_edits_made_outside_codexsnap(cli: CliRunner, codex_home: Path) -> None:
    before = fixed(cli)["snapshot_before"]
    (codex_home / "AGENTS.md").write_text("edited by hand\n")
    result = ok_json(cli, "rollback", before, "--yes")
    assert result["drift_snapshot"] is not None
    assert "edited by hand" not in (codex_home / "AGENTS.md").read_text()
    # The hand edit is kept in the drift snapshot and comes back with it.
    ok(cli, "rollback", result["drift_snapshot"], "--yes")
    assert (codex_home / "AGENTS.md").read_text() == "edited by hand\n"


def test_rollback_of_one_path_leaves_the_others(cli: CliRunner, codex_home: Path) -> None:
    ok(cli, "snapshot")
    first = json.loads(ok(cli, "history", "--json"))[0]["id"]
    (codex_home / "AGENTS.md").write_text("changed\n")
    (codex_home / "config.toml").write_text('model = "other"\n')
    (codex_home / "prompts" / "new.md").write_text("new prompt\n")
    ok(cli, "rollback", first, "--path", "AGENTS.md", "--path", "prompts", "--yes")
    assert (codex_home / "AGENTS.md").read_text().startswith("# Agent rules")
    assert not (codex_home / "prompts" / "new.md").exists()
    assert (codex_home / "config.toml").read_text() == 'model = "other"\n'


def test_rollback_of_one_key_keeps_what_codex_wrote_since(cli: CliRunner, codex_home: Path) -> None:
    ok(cli, "snapshot")
    first = json.loads(ok(cli, "history", "--json"))[0]["id"]
    state = json.loads((codex_home / GLOBAL).read_bytes())
    projects = state["local-projects"]
    state["local-projects"] = {}  # an emptied registry, as the app writes it
    state["settings"]["theme"] = "dark"  # written by Codex since: must stay
    state["brand-new-key"] = 1
    raw = json.dumps(state, separators=(",", ":")).encode()
    (codex_home / GLOBAL).write_bytes(raw)
    (codex_home / BAK).write_bytes(raw)
    ok(cli, "rollback", first, "--key", "local-projects", "--path", GLOBAL, "--yes")
    after = json.loads((codex_home / GLOBAL).read_bytes())
    assert after["local-projects"] == projects
    assert after["settings"]["theme"] == "dark" and after["brand-new-key"] == 1
    assert (codex_home / BAK).read_bytes() == (codex_home / GLOBAL).read_bytes()
    ok(cli, "rollback", first, "--key", "settings/theme", "--path", GLOBAL, "--yes")
    assert json.loads((codex_home / GLOBAL).read_bytes())["settings"]["theme"] == "system"
    ok(cli, "rollback", first, "--key", "brand-new-key", "--path", GLOBAL, "--yes")
    assert "brand-new-key" not in json.loads((codex_home / GLOBAL).read_bytes())


def test_key_needs_exactly_one_path(cli: CliRunner, codex_home: Path) -> None:
    ok(cli, "snapshot")
    first = json.loads(ok(cli, "history", "--json"))[0]["id"]
    code, _, err = run(cli, "rollback", first, "--key", "local-projects", "--yes")
    assert code == 2 and "--path" in err


def test_to_dir_writes_the_snapshot_elsewhere_and_touches_nothing(
    cli: CliRunner, codex_home: Path, tmp_path: Path
) -> None:
    ok(cli, "fix", "--yes")
    before_id = json.loads(ok(cli, "history", "--json"))[1]["id"]
    home_before = file_states(codex_home)
    review = tmp_path / "review"
    out = ok(cli, "rollback", before_id, "--to-dir", str(review))
    assert "Wrote" in out
    assert file_states(codex_home) == home_before
    exported = json.loads((review / GLOBAL).read_bytes())
    assert "electron-remote-control-client-enrollments" in exported
    assert (review / "config.toml").read_bytes() == (codex_home / "config.toml").read_bytes()
    code, _, err = run(cli, "rollback", before_id, "--to-dir", str(review))
    assert code == 2 and "not an empty folder" in err
    code, _, err = run(cli, "rollback", before_id, "--to-dir", str(codex_home / "x"))
    assert code == 2 and "inside the Codex home" in err


def test_posix_names_with_a_backslash_or_colon_round_trip(cli: CliRunner, codex_home: Path) -> None:
    """On POSIX these are plain characters of a name (a skill's notes, say), not escapes."""
    odd = [codex_home / "prompts" / "a\\b.md", codex_home / "prompts" / "c:d.md"]
    for path in odd:
        path.write_text("kept\n")
    ok(cli, "snapshot")
    first = json.loads(ok(cli, "history", "--json"))[0]["id"]
    for path in odd:
        path.unlink()
    ok(cli, "rollback", first, "--yes")
    assert all(path.read_text() == "kept\n" for path in odd)


# ----- large restores (issue 15): one file in memory at a time, a bounded report ----------

_RSS_WRAPPER = """\
import resource, sys
sys.argv = ["codexsnap", *sys.argv[1:]]
from codexsnap.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else 0
else:
    code = 0
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


def _peak_kb(*args: str) -> int:
    """codexsnap ARGS in a new interpreter: its peak resident memory (KB)."""
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", _RSS_WRAPPER, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root)},
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return int(done.stderr.strip().splitlines()[-1])


def test_a_rollback_holds_one_file_in_memory_not_all(cli: CliRunner, codex_home: Path) -> None:
    """12 files of 4 MB restored: the peak grows by about one file, not by 48 MB."""
    folder = codex_home / "prompts" / "big"
    folder.mkdir(parents=True)
    files = [folder / f"part-{n:02d}.bin" for n in range(12)]
    for number, path in enumerate(files):
        path.write_bytes(bytes([number]) * 64 + os.urandom(4_000_000))
    small = codex_home / "prompts" / "small.bin"
    small.write_bytes(b"small")
    target = ok_json(cli, "snapshot")["id"]
    for path in [*files, small]:
        path.write_bytes(b"\0changed")  # binary both sides: the report only sums them up
    # The same command on one small file: the same modules loaded, the same snapshots.
    baseline = _peak_kb("rollback", target, "--path", "prompts/small.bin", "--yes", "--json")
    peak = _peak_kb("rollback", target, "--path", "prompts/big", "--yes", "--json")
    assert all(len(p.read_bytes()) == 4_000_064 for p in files)
    grown_mb = (peak - baseline) / 1024
    assert grown_mb < 20, f"restoring 48 MB grew the peak by {grown_mb:.0f} MB"


def test_a_large_restore_compares_its_first_files_and_counts_a_long_transcript(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    ok(cli, "snapshot")  # the store exists: scope.toml can go in
    (store_root / "scope.toml").write_text('include = ["sessions/"]\n')
    folder = codex_home / "sessions" / "2026" / "11" / "20"
    folder.mkdir(parents=True, exist_ok=True)
    transcript = folder / "rollout-2026-11-20T10-00-00-long.jsonl"
    lines = [json.dumps({"type": "response_item", "n": n, "text": "x" * 200}) for n in range(3000)]
    transcript.write_text("\n".join(lines) + "\n")
    notes = codex_home / "skills"  # after sessions/: the transcript is among the first 50
    notes.mkdir(exist_ok=True)
    for number in range(60):
        (notes / f"note-{number:02d}.md").write_text(f"note {number}\n")
    target = ok_json(cli, "snapshot")["id"]
    transcript.write_text("\n".join(lines[:10]) + "\n")
    for number in range(60):
        (notes / f"note-{number:02d}.md").write_text(f"changed {number}\n")

    result = ok_json(cli, "rollback", target, "--dry-run")
    changes = {c["path"]: c for c in result["changes"]}
    long_one = changes["sessions/2026/11/20/rollout-2026-11-20T10-00-00-long.jsonl"]
    assert long_one["changes"] == []  # not every entry, masked one by one
    assert any("10 before, 3000 after" in note for note in long_one["notes"]), long_one["notes"]
    unread = [c for c in result["changes"] if any("not compared" in n for n in c["notes"])]
    assert len(changes) == 61 and len(unread) == 61 - 50, len(unread)


def test_a_folder_that_became_a_file_again_is_restored_and_undone(
    cli: CliRunner, codex_home: Path
) -> None:
    """The undo of this rollback failed with 'could not write .../deep: Directory not
    empty': the emptied folder deep/x stayed in the way of the file deep (found by
    tests/test_properties.py)."""
    (codex_home / "deep" / "x").mkdir(parents=True)
    (codex_home / "deep" / "x" / "y.txt").write_text("")
    folder_snapshot = ok_json(cli, "snapshot", "--json")["id"]
    shutil.rmtree(codex_home / "deep")
    (codex_home / "deep").write_text("a file now\n")
    ok(cli, "snapshot")
    ok_json(cli, "rollback", folder_snapshot, "--yes", "--json")
    assert (codex_home / "deep" / "x" / "y.txt").is_file()
    ok(cli, "undo", "--yes")
    assert (codex_home / "deep").read_text() == "a file now\n"
