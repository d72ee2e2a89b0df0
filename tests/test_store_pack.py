"""Many new files in one snapshot go into one pack (store/git_pack.py), not one loose
object each: real homes of hundreds of sessions, a real store, files changed under the read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import IO

import pytest
from typer.testing import CliRunner

from codexsnap import faults
from codexsnap.store import git_pack
from tests.helpers import corrupt_packed_blob, git_in_store, ok, ok_json, run
from tests.storetools import loose_permissions, plumb

SESSIONS = "sessions/2026/11/20"


def _sessions(home: Path, count: int, tag: str = "", size: int = 3000) -> list[Path]:
    """``count`` session transcripts of about ``size`` bytes, each its own."""
    folder = home / SESSIONS
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(count):
        path = folder / f"rollout-2026-11-20T10-00-00-{number:04d}.jsonl"
        line = json.dumps({"type": "response_item", "n": number, "tag": tag}) + "\n"
        path.write_text(line * max(1, size // len(line)))
        paths.append(path)
    return paths


def _with_sessions_in_scope(cli: CliRunner, store: Path) -> None:
    ok(cli, "snapshot")  # the store exists: scope.toml can go in
    (store / "scope.toml").write_text('include = ["sessions/"]\n')
    (store / "scope.toml").chmod(0o600)


def _objects(store: Path) -> tuple[list[Path], dict[str, int]]:
    """The store's packs, and its loose objects counted by type."""
    objects = store / "repo.git" / "objects"
    loose = [p for p in objects.glob("??/*") if len(p.parent.name) == 2]
    ids = "".join(f"{p.parent.name}{p.name}\n" for p in loose)
    types: dict[str, int] = {}
    checked = plumb(store, "cat-file", "--batch-check=%(objecttype)", stdin=ids.encode())
    for kind in checked.split():
        types[kind] = types.get(kind, 0) + 1
    return sorted((objects / "pack").glob("pack-*.pack")), types


def _stored(store: Path, snapshot: str, relpath: str) -> bytes:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_DIR=str(store / "repo.git"), GIT_CONFIG_GLOBAL=os.devnull)
    command = ["git", "cat-file", "blob", f"{snapshot}:files/{relpath}"]
    return subprocess.run(command, env=env, capture_output=True, check=True).stdout


def test_a_snapshot_of_600_new_sessions_writes_one_pack_and_no_loose_blob(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    _with_sessions_in_scope(cli, store_root)
    packs, loose = _objects(store_root)
    _sessions(codex_home, 600)
    snapshot = ok_json(cli, "snapshot")
    after, now = _objects(store_root)
    assert len(after) == len(packs) + 1, after
    # The snapshot's own manifest and tables, loose (a few), not one blob per session.
    assert now.get("blob", 0) - loose.get("blob", 0) < 5, (loose, now)
    assert git_in_store(store_root, "fsck", "--full", "--strict").returncode == 0
    assert loose_permissions(store_root) == []  # owner-only, as every other store file
    first = f"{SESSIONS}/rollout-2026-11-20T10-00-00-0000.jsonl"
    assert _stored(store_root, snapshot["id"], first) == (codex_home / first).read_bytes()
    code, out, err = run(cli, "check")
    assert code == 0 and "damage" not in out, out + err
    # Nothing left over: fast-import's crash report, its keep file, the marks.
    assert not list((store_root / "repo.git").glob("fast_import_crash_*"))
    assert not list((store_root / "repo.git" / "objects" / "pack").glob("*.keep"))
    assert not list((store_root / "tmp").glob("marks-*"))


def test_a_file_gone_or_changed_during_the_stream_is_left_out_or_stored_as_read(
    cli: CliRunner, codex_home: Path, store_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_sessions_in_scope(cli, store_root)
    paths = _sessions(codex_home, 300)
    big = paths[200]
    big.write_bytes(b'{"type": "response_item"}\n' * 100_000)  # 2.6 MB: streamed in chunks
    grown = paths[250]
    real_send, real_point = git_pack._send, faults.fault_point
    seen: list[str] = []

    def codex_at_work(name: str) -> None:
        # Codex deletes a transcript and appends to another while the stream is under way.
        seen.append(name)
        if name == "pack-stream" and seen.count(name) == 100:
            paths[150].unlink()
            with grown.open("a") as out:
                out.write('{"type": "typed meanwhile"}\n')
        real_point(name)

    def shrinking(stream: IO[bytes], handle: IO[bytes], mark: int, size: int) -> tuple[str, bool]:
        if mark == 201:  # after its size went out: it shrinks under the read
            os.truncate(big, size // 2)
        return real_send(stream, handle, mark, size)

    monkeypatch.setattr(git_pack, "fault_point", codex_at_work)
    monkeypatch.setattr(git_pack, "_send", shrinking)
    snapshot = ok_json(cli, "snapshot")
    monkeypatch.setattr(git_pack, "fault_point", real_point)
    monkeypatch.setattr(git_pack, "_send", real_send)

    relative = {p: p.relative_to(codex_home).as_posix() for p in paths}
    listed = git_in_store(store_root, "ls-tree", "-r", "--name-only", snapshot["id"]).stdout
    assert f"files/{relative[paths[150]]}" not in listed.split()
    assert f"files/{relative[paths[149]]}" in listed.split()
    for path in (big, grown, paths[0], paths[299]):
        assert _stored(store_root, snapshot["id"], relative[path]) == path.read_bytes()
    assert git_in_store(store_root, "fsck", "--full").returncode == 0
    code, out, err = run(cli, "check")  # the manifest's sizes are the stored bytes'
    assert code == 0 and "damage" not in out and "quarantined" not in out, out + err
    assert ok_json(cli, "snapshot")["created"] is False


def test_a_session_that_vanishes_after_the_walk_is_left_out_of_a_packed_snapshot(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    _with_sessions_in_scope(cli, store_root)
    paths = _sessions(codex_home, 300)
    gone = paths[123]
    # In a process of its own: the race is armed when codexsnap.faults is imported.
    done = subprocess.run(
        [sys.executable, "-m", "codexsnap", "snapshot", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "CODEXSNAP_TEST_RACE": f"vanish:{gone.name}"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert not gone.exists()
    snapshot = json.loads(done.stdout)["id"]
    listed = git_in_store(store_root, "ls-tree", "-r", "--name-only", snapshot).stdout
    names = {Path(line).name for line in listed.split()}
    assert gone.name not in names and paths[122].name in names and paths[124].name in names
    assert _objects(store_root)[0], "no pack written"
    assert ok_json(cli, "snapshot")["created"] is False


def test_small_packs_are_rolled_up_and_every_snapshot_still_reads(
    cli: CliRunner, codex_home: Path, store_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(git_pack, "PACK_LIMIT", 3)
    _with_sessions_in_scope(cli, store_root)
    snapshots = []
    for round_ in range(6):  # six snapshots of 120 changed sessions: six packs, unrolled
        _sessions(codex_home, 120, tag=f"round {round_}")
        snapshots.append(ok_json(cli, "snapshot")["id"])
    packs, loose = _objects(store_root)
    assert 1 <= len(packs) <= 3, packs
    assert loose.get("blob", 0) < 5, loose  # rolled up; the last manifest and tables only
    assert git_in_store(store_root, "fsck", "--full").returncode == 0
    first = f"{SESSIONS}/rollout-2026-11-20T10-00-00-0007.jsonl"
    for round_, snapshot in enumerate(snapshots):
        assert f"round {round_}".encode() in _stored(store_root, snapshot, first)
    code, out, err = run(cli, "check")
    assert code == 0 and "damage" not in out, out + err
    result = ok_json(cli, "rollback", snapshots[0], "--yes")
    assert result, result
    assert b"round 0" in (codex_home / first).read_bytes()
    assert loose_permissions(store_root) == []


def test_a_corrupt_blob_in_a_fast_import_pack_is_healed_from_the_home(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    _with_sessions_in_scope(cli, store_root)
    paths = _sessions(codex_home, 150)
    snapshot = ok_json(cli, "snapshot")["id"]
    relpath = paths[40].relative_to(codex_home).as_posix()
    blob = git_in_store(store_root, "rev-parse", f"{snapshot}:files/{relpath}").stdout.strip()
    corrupt_packed_blob(store_root, blob)
    assert run(cli, "check")[0] == 1
    code, out, err = run(cli, "check", "--repair")
    assert code == 0, out + err
    assert git_in_store(store_root, "fsck", "--full").returncode == 0
    assert _stored(store_root, snapshot, relpath) == paths[40].read_bytes()


def test_a_pack_git_cannot_write_is_a_one_line_error_and_no_snapshot(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    from tests.test_expected_failures import read_only

    _with_sessions_in_scope(cli, store_root)
    before = git_in_store(store_root, "for-each-ref").stdout
    _sessions(codex_home, 150)
    with read_only(store_root / "repo.git" / "objects" / "pack"):  # as a full disk would
        code, out, err = run(cli, "snapshot")
    assert code == 8, out + err
    assert err.startswith("Error: git fast-import failed in the store"), err
    assert "Traceback" not in err and len(err.splitlines()) <= 2, err
    assert git_in_store(store_root, "for-each-ref").stdout == before
    assert not list((store_root / "repo.git").glob("fast_import_crash_*"))
    assert ok_json(cli, "snapshot")["created"] is True
    assert git_in_store(store_root, "fsck", "--full").returncode == 0


def _loose_ids(store: Path) -> set[str]:
    objects = store / "repo.git" / "objects"
    return {f"{p.parent.name}{p.name}" for p in objects.glob("??/*") if len(p.parent.name) == 2}


def _snapshots_until_sampled(cli: CliRunner, home: Path, store: Path) -> list[str]:
    """Snapshots of one-line changes until a loose object lies in a folder the estimate
    counts (store/loose.py samples 16 of git's 256): the estimate is then at least 16."""
    from codexsnap.store.loose import loose_estimate

    made = []
    for round_ in range(80):
        (home / "AGENTS.md").write_text(f"round {round_}\n")
        made.append(ok_json(cli, "snapshot")["id"])
        if loose_estimate(store / "repo.git") >= 16:
            return made
    raise AssertionError("80 snapshots and no loose object in the sampled folders")


def test_loose_objects_go_into_one_pack_and_every_snapshot_still_reads(
    cli: CliRunner, codex_home: Path, store_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each snapshot leaves four to six loose objects: they piled up for good (`git log`
    of 1,000 snapshots 3× slower, every locked run listing them)."""
    made = _snapshots_until_sampled(cli, codex_home, store_root)
    loose_before = _loose_ids(store_root)
    assert len(loose_before) >= 4 * len(made)
    monkeypatch.setattr("codexsnap.store.repository.LOOSE_LIMIT", 16)
    (codex_home / "AGENTS.md").write_text("the last round\n")
    last = ok_json(cli, "snapshot")["id"]
    left = _loose_ids(store_root)
    assert not left & loose_before, "objects of earlier snapshots are still loose"
    assert len(left) <= 8  # only what the last snapshot wrote after the lock was taken
    packs, _ = _objects(store_root)
    assert packs
    assert git_in_store(store_root, "fsck", "--full").returncode == 0
    listed = [s["id"] for s in ok_json(cli, "history", "--all", "--json")]
    assert set(made) | {last} <= set(listed)
    code, out, err = run(cli, "check")
    assert code == 0 and "damage" not in out, out + err
    ok_json(cli, "rollback", made[0], "--yes")
    assert (codex_home / "AGENTS.md").read_text() == "round 0\n"
    assert loose_permissions(store_root) == []


# A run whose lock-time packing is killed once the pack is fsynced, before the loose
# copies are removed: every object is then on disk twice.
_KILLED_WHILE_PACKING = """
import sys
import codexsnap.store.repository as repository
repository.LOOSE_LIMIT = 16
from codexsnap.cli import main
sys.argv = ["codexsnap", *sys.argv[1:]]
main()
"""


def test_a_run_killed_while_packing_loose_objects_loses_none(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    made = _snapshots_until_sampled(cli, codex_home, store_root)
    loose_before = _loose_ids(store_root)
    (codex_home / "AGENTS.md").write_text("the killed round\n")
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_WHILE_PACKING, "snapshot"],
        env={**os.environ, "CODEXSNAP_TEST_FAULT": "kill:loose-packed"},
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert killed.returncode == -9, killed.stderr
    assert _loose_ids(store_root) == loose_before  # packed, not yet removed
    assert git_in_store(store_root, "fsck", "--full").returncode == 0
    again = subprocess.run(
        [sys.executable, "-c", _KILLED_WHILE_PACKING, "snapshot"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    assert not _loose_ids(store_root) & loose_before
    assert git_in_store(store_root, "fsck", "--full").returncode == 0
    listed = [s["id"] for s in ok_json(cli, "history", "--all", "--json")]
    assert set(made) <= set(listed)
    code, out, err = run(cli, "check")
    assert code == 0 and "damage" not in out, out + err


def test_a_damaged_loose_object_stays_loose_and_the_rest_still_go_into_a_pack(
    cli: CliRunner, codex_home: Path, store_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One unreadable loose object stopped pack-objects at every locked run: nothing was
    packed again, and each run paid for the failed try."""
    _snapshots_until_sampled(cli, codex_home, store_root)
    objects = store_root / "repo.git" / "objects"
    damaged = sorted(p for p in objects.glob("??/*") if len(p.parent.name) == 2)[0]
    damaged.chmod(0o600)
    damaged.write_bytes(b"garbage")
    damaged_id = f"{damaged.parent.name}{damaged.name}"
    loose_before = _loose_ids(store_root)
    monkeypatch.setattr("codexsnap.store.repository.LOOSE_LIMIT", 16)
    (codex_home / "AGENTS.md").write_text("after the damage\n")
    code, out, err = run(cli, "snapshot")
    assert code == 0, out + err
    left = _loose_ids(store_root)
    assert left & loose_before == {damaged_id}
    assert damaged.read_bytes() == b"garbage"  # kept as it is, for check to quarantine
    assert not list((objects / "pack").glob("tmp_*"))
