"""The store survives its own damage: real objects of a real store are corrupted (bytes
written into git's object files, a loose object deleted, a pack cut short, a ref garbled)
and every readable snapshot stays usable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.helpers import GLOBAL, corrupt_packed_blob, file_states, git_in_store, run


def _ids(cli: CliRunner) -> list[str]:
    code, out, err = run(cli, "history", "--json")
    assert code == 0, out + err
    return [s["id"] for s in json.loads(out)]


def _loose(store: Path, object_id: str) -> Path:
    return store / "repo.git" / "objects" / object_id[:2] / object_id[2:]


def _corrupt(store: Path, object_id: str, data: bytes = b"not a zlib stream") -> None:
    """Write bytes into a loose object's file, as a bad disk sector would."""
    path = _loose(store, object_id)
    path.chmod(0o600)
    path.write_bytes(data)


def _four_snapshots(cli: CliRunner, home: Path) -> list[str]:
    """Four snapshots, each with its own AGENTS.md; ids newest first."""
    for n in range(4):
        (home / "AGENTS.md").write_text(f"version {n}\n")
        code, out, err = run(cli, "snapshot", "-m", f"v{n}")
        assert code == 0, out + err
    ids = _ids(cli)
    assert len(ids) == 4
    return ids


def test_a_corrupt_commit_in_the_middle_hides_no_readable_snapshot(
    cli: CliRunner, codex_home: Path, store_root: Path, tmp_path: Path
) -> None:
    newest, middle, older, oldest = _four_snapshots(cli, codex_home)
    _corrupt(store_root, middle)

    code, out, err = run(cli, "history", "--json")
    assert code == 0, out + err
    listed = json.loads(out)
    assert [s["id"] for s in listed] == [newest, middle, older, oldest]
    damaged = {s["id"]: s["damaged"] for s in listed}
    assert damaged[middle] and not damaged[newest] and not damaged[older]
    code, out, err = run(cli, "history")
    assert code == 0 and "unreadable" in out, out + err

    # An intact older snapshot still restores, past the corrupt commit.
    code, out, err = run(cli, "rollback", older, "--to-dir", str(tmp_path / "review"))
    assert code == 0, out + err
    assert (tmp_path / "review" / "AGENTS.md").read_text() == "version 1\n"
    code, out, err = run(cli, "rollback", oldest, "--yes", "--force")
    assert code == 0, out + err
    assert (codex_home / "AGENTS.md").read_text() == "version 0\n"
    code, out, err = run(cli, "undo", "--yes", "--force")
    assert code == 0, out + err
    assert (codex_home / "AGENTS.md").read_text() == "version 3\n"

    # check names the damage with its documented exit, and the hint keeps the store.
    code, out, err = run(cli, "check")
    assert code == 1, out + err
    assert middle[:10] in out and "Traceback" not in err
    code, _, err = run(cli, "rollback", middle, "--dry-run")
    assert code == 8 and "--store" not in err and "Traceback" not in err, err


def test_a_corrupt_latest_commit_leaves_the_older_snapshots(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    newest, middle, older, oldest = _four_snapshots(cli, codex_home)
    _corrupt(store_root, newest)
    listed = json.loads(run(cli, "history", "--json")[1])
    assert [s["id"] for s in listed] == [newest, middle, older, oldest]
    assert listed[0]["damaged"] and not listed[1]["damaged"]
    code, out, err = run(cli, "check")
    assert code == 1 and newest[:10] in out, out + err
    code, out, err = run(cli, "rollback", middle, "--dry-run")
    assert code == 0, out + err


def test_a_deleted_commit_object_is_listed_as_missing(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    newest, middle, older, oldest = _four_snapshots(cli, codex_home)
    _loose(store_root, older).unlink()
    listed = json.loads(run(cli, "history", "--json")[1])
    assert [s["id"] for s in listed] == [newest, middle, older, oldest]
    assert listed[2]["damaged"]
    assert run(cli, "check")[0] == 1
    assert run(cli, "rollback", oldest, "--dry-run")[0] == 0


def test_a_garbled_home_ref_still_finds_every_snapshot(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    ids = _four_snapshots(cli, codex_home)
    refs = list((store_root / "repo.git" / "refs" / "codexsnap" / "homes").iterdir())
    assert len(refs) == 1
    refs[0].write_text("garbage\n")
    assert _ids(cli) == ids
    code, out, err = run(cli, "check")
    assert code == 1, out + err
    assert run(cli, "rollback", ids[1], "--dry-run")[0] == 0


def test_a_truncated_pack_is_damage_with_exit_1(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    _four_snapshots(cli, codex_home)
    assert git_in_store(store_root, "repack", "-a", "-d", "-q").returncode == 0
    packs = list((store_root / "repo.git" / "objects" / "pack").glob("*.pack"))
    assert len(packs) == 1
    data = packs[0].read_bytes()
    packs[0].chmod(0o600)
    packs[0].write_bytes(data[: len(data) // 2])
    code, out, err = run(cli, "check")
    assert code == 1, out + err
    assert "Traceback" not in err
    code, out, err = run(cli, "history")
    assert code in (0, 8) and "Traceback" not in err
    if code == 8:
        assert "--store" not in err


def test_doctor_reports_a_damaged_store_as_a_problem(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    _, middle, _, _ = _four_snapshots(cli, codex_home)
    _corrupt(store_root, middle)
    _, out, err = run(cli, "doctor", "--json")
    store = [c for c in json.loads(out)["checks"] if c["name"] == "store"]
    assert store and store[0]["status"] == "problem", out + err
    assert middle[:10] in store[0]["evidence"]


def test_doctor_reports_quarantined_snapshots_and_history_marks_them(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    newest, _, _, _ = _four_snapshots(cli, codex_home)
    blob = git_in_store(store_root, "rev-parse", f"{newest}:files/AGENTS.md").stdout.strip()
    _corrupt(store_root, blob)
    assert run(cli, "check")[0] == 1
    listed = json.loads(run(cli, "history", "--json")[1])
    assert listed[0]["quarantined"] and not listed[1]["quarantined"]
    assert listed[0]["damaged_files"] == ["AGENTS.md"] and not listed[1]["damaged_files"]
    assert "[quarantined file: AGENTS.md]" in run(cli, "history")[1].splitlines()[0]
    _, out, _ = run(cli, "doctor", "--json")
    store = [c for c in json.loads(out)["checks"] if c["name"] == "store"]
    assert store[0]["status"] == "problem" and "quarantined" in store[0]["evidence"]
    assert "damaged files (AGENTS.md), their other files still restore" in store[0]["evidence"]


def test_a_snapshot_on_a_damaged_latest_commit_follows_the_newest_readable_one(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    newest, middle, _, _ = _four_snapshots(cli, codex_home)
    _corrupt(store_root, newest)
    (codex_home / "AGENTS.md").write_text("version 4\n")
    code, out, err = run(cli, "snapshot", "-m", "after the damage")
    assert code == 0, out + err
    listed = json.loads(run(cli, "history", "--json")[1])
    assert listed[0]["parent"] == middle and listed[0]["files_changed"] == 1
    # The damaged one is still kept by its own ref, and check still reports it.
    code, out, _ = run(cli, "check", "--json")
    assert code == 1 and newest in out


def test_a_file_appended_to_while_it_is_snapshotted_is_not_false_damage(
    cli: CliRunner, codex_home: Path, store_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codexsnap.store.git import GitRepository

    history_file = codex_home / "history.jsonl"
    history_file.write_text('{"text": "first prompt"}\n')
    real = GitRepository.hash_files

    def codex_appends(self: GitRepository, paths: list[Path], write: bool) -> list[str | None]:
        # Codex writes a prompt between the walk's stat and the read of the bytes.
        with history_file.open("a") as out:
            out.write('{"text": "a prompt typed meanwhile"}\n')
        return real(self, paths, write)

    monkeypatch.setattr(GitRepository, "hash_files", codex_appends)
    code, out, err = run(cli, "snapshot", "-m", "while Codex writes")
    assert code == 0, out + err
    monkeypatch.setattr(GitRepository, "hash_files", real)
    code, out, err = run(cli, "check")
    assert code == 0 and "quarantined" not in out, out + err


def test_a_quarantined_snapshot_whose_files_verify_is_released_by_check(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    newest, *_ = _four_snapshots(cli, codex_home)
    # As a false alarm of an older version left it: quarantined, its files whole.
    (store_root / "quarantine.json").write_text(json.dumps({newest: "stored size differs"}))
    code, out, err = run(cli, "rollback", newest, "--dry-run")
    assert code == 8 and "quarantined" in err
    code, out, err = run(cli, "check")
    assert code == 0 and f"released {newest[:10]}" in out, out + err
    assert run(cli, "rollback", newest, "--dry-run")[0] == 0
    assert not json.loads((store_root / "quarantine.json").read_text())


def test_check_repair_writes_back_a_corrupt_blob_the_home_still_holds(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    (codex_home / "AGENTS.md").write_text("shared by every snapshot\n")
    for n in range(3):
        (codex_home / "prompts" / "note.md").write_text(f"note {n}\n")
        assert run(cli, "snapshot", "-m", f"n{n}")[0] == 0
    ids = _ids(cli)
    blob = git_in_store(store_root, "rev-parse", f"{ids[0]}:files/AGENTS.md").stdout.strip()
    _corrupt(store_root, blob)
    code, out, _ = run(cli, "check")
    assert code == 1
    code, out, err = run(cli, "check", "--repair")
    assert code == 0, out + err
    assert "repaired AGENTS.md" in out and "released" in out
    assert git_in_store(store_root, "fsck", "--full").returncode == 0
    assert run(cli, "rollback", ids[2], "--dry-run")[0] == 0


# ----- per-file quarantine -------------------------------------------------------------------


def _shared_damage(cli: CliRunner, home: Path, store: Path) -> tuple[list[str], str]:
    """Three snapshots sharing one AGENTS.md whose blob is then corrupted: (ids, blob)."""
    (home / "AGENTS.md").write_text("shared by every snapshot\n")
    for n in range(3):
        (home / "prompts" / "note.md").write_text(f"note {n}\n")
        assert run(cli, "snapshot", "-m", f"n{n}")[0] == 0
    ids = _ids(cli)
    blob = git_in_store(store, "rev-parse", f"{ids[0]}:files/AGENTS.md").stdout.strip()
    _corrupt(store, blob)
    return ids, blob


def test_a_damaged_file_shared_by_every_snapshot_sets_aside_only_that_file(
    cli: CliRunner, codex_home: Path, store_root: Path, tmp_path: Path
) -> None:
    ids, blob = _shared_damage(cli, codex_home, store_root)
    code, out, err = run(cli, "check", "--json")
    assert code == 1, out + err
    assert json.loads(out)["damaged_files"] == {i: ["AGENTS.md"] for i in ids}
    table = json.loads((store_root / "quarantine.json").read_text())
    assert {i: e["files"] for i, e in table.items()} == {i: {"AGENTS.md": blob} for i in ids}
    listed = json.loads(run(cli, "history", "--json")[1])
    assert all(s["damaged_files"] == ["AGENTS.md"] for s in listed)
    assert all(
        "[quarantined file: AGENTS.md]" in line for line in run(cli, "history")[1].splitlines()
    )
    code, out, err = run(cli, "show", ids[2], "--details")  # a first snapshot: on request
    assert code == 0, out + err
    assert "[quarantined file: AGENTS.md]" in out.splitlines()[0]
    assert "AGENTS.md  (added, damaged)" in out and "cannot be shown" in out

    # A full rollback needs no damaged bytes while the home holds AGENTS.md's content.
    code, out, err = run(cli, "rollback", ids[2], "--dry-run")
    assert code == 0 and "prompts/note.md" in out and "AGENTS.md" not in out, out + err
    # The live AGENTS.md differs now, so no snapshot can heal the damaged one.
    (codex_home / "AGENTS.md").write_text("edited since\n")
    # An intact file of the oldest snapshot restores.
    code, out, err = run(cli, "rollback", ids[2], "--path", "prompts/note.md", "--yes", "--force")
    assert code == 0, out + err
    assert (codex_home / "prompts" / "note.md").read_text() == "note 0\n"

    # --to-dir writes every intact file, then names the one it could not (exit 8).
    review = tmp_path / "review"
    code, out, err = run(cli, "rollback", ids[2], "--to-dir", str(review))
    assert code == 8, out + err
    last = err.strip().splitlines()
    assert any("AGENTS.md" in line and "damaged" in line for line in last[-2:]), err
    assert (review / "prompts" / "note.md").read_text() == "note 0\n"
    assert not (review / "AGENTS.md").exists()
    assert (review / "config.toml").is_file()
    code, out, _ = run(cli, "rollback", ids[2], "--to-dir", str(tmp_path / "again"), "--json")
    assert code == 8 and json.loads(out)["damaged"] == ["AGENTS.md"]

    # A full rollback that would have to write the damaged file refuses, naming it.
    before = file_states(codex_home)
    for args in ((ids[1],), (ids[1], "--path", "AGENTS.md")):
        code, out, err = run(cli, "rollback", *args, "--yes", "--force")
        assert code == 8 and "AGENTS.md" in err and "Traceback" not in err, out + err
        assert file_states(codex_home) == before


def test_undo_refuses_naming_a_damaged_file_it_would_put_back(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    (codex_home / "prompts" / "note.md").write_text("first\n")
    assert run(cli, "snapshot", "-m", "first")[0] == 0
    first = _ids(cli)[0]
    (codex_home / "prompts" / "note.md").write_text("second\n")
    code, out, err = run(cli, "rollback", first, "--path", "prompts/note.md", "--yes", "--force")
    assert code == 0, out + err
    before = json.loads(run(cli, "history", "--json")[1])[1]
    assert before["operation"] == "before-rollback"
    blob = git_in_store(store_root, "rev-parse", f"{before['id']}:files/prompts/note.md")
    _corrupt(store_root, blob.stdout.strip())
    code, out, err = run(cli, "undo", "--yes", "--force")
    assert code == 8 and "prompts/note.md" in err and "damaged" in err, out + err
    assert (codex_home / "prompts" / "note.md").read_text() == "first\n"


def test_an_old_whole_snapshot_quarantine_is_read_then_narrowed_by_check(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    ids, blob = _shared_damage(cli, codex_home, store_root)
    # As versions before 0.2.0 wrote it: id -> reason, the whole snapshot set aside.
    (store_root / "quarantine.json").write_text(json.dumps({ids[2]: "AGENTS.md: damaged"}))
    assert run(cli, "rollback", ids[2], "--path", "prompts/note.md", "--dry-run")[0] == 8
    assert "[quarantined: " in run(cli, "history")[1].splitlines()[2]
    assert run(cli, "check")[0] == 1
    table = json.loads((store_root / "quarantine.json").read_text())
    assert table[ids[2]]["files"] == {"AGENTS.md": blob}
    code, out, err = run(cli, "rollback", ids[2], "--path", "prompts/note.md", "--dry-run")
    assert code == 0, out + err


# ----- healing ----------------------------------------------------------------------------------


def test_the_next_snapshot_heals_a_damaged_blob_the_home_still_holds(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    ids, _ = _shared_damage(cli, codex_home, store_root)
    assert run(cli, "check")[0] == 1
    code, out, err = run(cli, "snapshot")
    assert code == 0, out + err
    assert git_in_store(store_root, "fsck", "--full").returncode == 0
    assert json.loads((store_root / "quarantine.json").read_text()) == {}
    assert not any(s["damaged_files"] for s in json.loads(run(cli, "history", "--json")[1]))
    (codex_home / "AGENTS.md").write_text("edited since\n")
    code, out, err = run(cli, "rollback", ids[2], "--yes", "--force")
    assert code == 0, out + err
    assert (codex_home / "AGENTS.md").read_text() == "shared by every snapshot\n"
    assert run(cli, "check")[0] == 0


def test_a_fix_heals_a_damaged_blob_its_before_snapshot_reuses(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    original = (codex_home / GLOBAL).read_bytes()
    assert run(cli, "snapshot")[0] == 0
    blob = git_in_store(store_root, "rev-parse", f"{_ids(cli)[0]}:files/{GLOBAL}").stdout.strip()
    _corrupt(store_root, blob)  # check never ran: nothing knows of the damage
    code, out, err = run(cli, "fix", "--yes")
    assert code == 0 and "To undo" in out, out + err
    assert git_in_store(store_root, "cat-file", "-p", blob).stdout.encode() == original
    code, out, err = run(cli, "undo", "--yes")
    assert code == 0, out + err
    assert (codex_home / GLOBAL).read_bytes() == original


def test_a_fix_whose_way_back_cannot_be_healed_refuses_before_writing(
    cli: CliRunner, codex_home: Path, store_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codexsnap.store import SnapshotStore

    assert run(cli, "snapshot")[0] == 0
    blob = git_in_store(store_root, "rev-parse", f"{_ids(cli)[0]}:files/{GLOBAL}").stdout.strip()
    _corrupt(store_root, blob)
    # The object cannot be written anew (a read-only or full store): the damage is real.
    monkeypatch.setattr(SnapshotStore, "heal", lambda self, blob, data: False, raising=False)
    before = file_states(codex_home)
    code, out, err = run(cli, "fix", "--yes")
    assert code == 8, out + err
    assert GLOBAL in err and "nothing was changed" in err and "To undo" not in out + err
    assert file_states(codex_home) == before


def test_a_snapshot_heals_a_damaged_packed_blob(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    (codex_home / "AGENTS.md").write_text("shared, and packed with the others\n")
    assert run(cli, "snapshot")[0] == 0
    assert git_in_store(store_root, "repack", "-a", "-d", "-q").returncode == 0
    blob = git_in_store(store_root, "rev-parse", f"{_ids(cli)[0]}:files/AGENTS.md").stdout.strip()
    corrupt_packed_blob(store_root, blob)
    assert run(cli, "check")[0] == 1
    assert run(cli, "snapshot")[0] == 0
    assert git_in_store(store_root, "fsck", "--full").returncode == 0
    code, out, err = run(cli, "check")
    assert code == 0 and "damage:" not in out, out + err
