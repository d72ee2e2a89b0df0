"""What a rollback of many files reads from the store and syncs to the disk (issue 15).

Counted on the real store and the real filesystem: the git objects the one ``cat-file``
process is asked for (the real reader, wrapped), and the fsyncs that reach the kernel.
"""

from __future__ import annotations

import json
import os
import stat
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from codexsnap.atomic_io import TEMP_SUFFIX
from codexsnap.store.git_objects import BatchReader
from codexsnap.transaction.plan import SHOWN_FILES, blob_id
from tests.crashkit import journal_files, leftover_temp_files
from tests.helpers import file_states, git_in_store, ok_json, run

FILES = SHOWN_FILES + 30  # past the files the report compares in full
SIZE = 64 * 1024  # 80 files of 64 KB: more than a few MB, as a rollback of sessions is


def _many(home: Path, folders: int = 4) -> list[Path]:
    """FILES binary files spread over ``folders`` folders of prompts/many."""
    paths = []
    for number in range(FILES):
        folder = home / "prompts" / "many" / f"f{number % folders}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"part-{number:03d}.bin"
        path.write_bytes(b"\0" + os.urandom(SIZE))
        paths.append(path)
    return paths


def _change(paths: list[Path]) -> dict[str, bytes]:
    """New bytes in every file, as the home holds them before the rollback."""
    changed = {}
    for path in paths:
        data = b"\0" + os.urandom(SIZE)
        path.write_bytes(data)
        changed[path.name] = data
    return changed


def test_a_rollback_reads_each_restored_blob_once_and_the_way_back_not_at_all(
    cli: CliRunner, codex_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The files past the report's first 50 are read once, as they are written (checked
    then); the "before" contents the store did not have are written, never read back."""
    paths = _many(codex_home)
    wanted = {blob_id(p.read_bytes()): p.name for p in paths}
    target = ok_json(cli, "snapshot")["id"]
    live = {blob_id(data): name for name, data in _change(paths).items()}
    asked: Counter[str] = Counter()
    real_read = BatchReader.read

    def counting(self: BatchReader, object_id: str) -> tuple[str, bytes]:
        asked[object_id] += 1
        return real_read(self, object_id)

    monkeypatch.setattr(BatchReader, "read", counting)
    code, out, err = run(cli, "rollback", target, "--path", "prompts/many", "--yes")
    assert code == 0, out + err
    assert all(p.read_bytes() and blob_id(p.read_bytes()) in wanted for p in paths)
    reads = sorted(asked[blob] for blob in wanted)
    # The report compares SHOWN_FILES files in full (their stored bytes read for it too).
    assert reads == [1] * (FILES - SHOWN_FILES) + [2] * SHOWN_FILES, Counter(reads)
    assert [asked[blob] for blob in live if asked[blob]] == []


def test_a_rollback_syncs_each_file_once_and_each_folder_once(
    cli: CliRunner, codex_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _many(codex_home, folders=4)
    target = ok_json(cli, "snapshot")["id"]
    _change(paths)
    synced: Counter[tuple[str, str]] = Counter()
    real_fsync = os.fsync
    many = codex_home / "prompts" / "many"

    def counting(fd: int) -> None:
        where = Path(os.readlink(f"/proc/self/fd/{fd}"))
        if many in (where, *where.parents):
            kind = "folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
            synced[(kind, str(where.parent if kind == "file" else where))] += 1
        real_fsync(fd)

    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc to name what an fsync syncs")
    monkeypatch.setattr(os, "fsync", counting)
    code, out, err = run(cli, "rollback", target, "--path", "prompts/many", "--yes")
    assert code == 0, out + err
    files = sum(n for (kind, _), n in synced.items() if kind == "file")
    folders = {where: n for (kind, where), n in synced.items() if kind == "folder"}
    assert files == FILES  # each new file's bytes before its rename
    assert folders == {str(many / f"f{n}"): 1 for n in range(4)}, folders


def _corrupt_loose(store: Path, blob: str) -> None:
    path = store / "repo.git" / "objects" / blob[:2] / blob[2:]
    path.chmod(0o600)
    path.write_bytes(b"not a zlib stream")


def test_a_damaged_blob_past_the_report_refuses_before_any_file_changes(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    """Checked as it is staged: every other file's temporary file is removed again, nothing
    in the home is renamed, the journal is gone, and the error names the file."""
    paths = _many(codex_home)
    target = ok_json(cli, "snapshot")["id"]
    _change(paths)
    last = paths[-1].relative_to(codex_home).as_posix()
    blob = git_in_store(store_root, "rev-parse", f"{target}:files/{last}").stdout.strip()
    _corrupt_loose(store_root, blob)
    before = file_states(codex_home, include_excluded=True)
    code, out, err = run(cli, "rollback", target, "--path", "prompts/many", "--yes")
    assert code == 8, out + err
    assert last in err and "nothing was changed" in err and "Traceback" not in err
    assert file_states(codex_home, include_excluded=True) == before
    assert leftover_temp_files(codex_home) == []
    assert journal_files(store_root) == []
    # The folders without the damaged file still restore.
    first = paths[0].relative_to(codex_home).parent.as_posix()
    assert paths[-1].parent != paths[0].parent
    code, out, err = run(cli, "rollback", target, "--path", first, "--yes")
    assert code == 0, out + err


def test_a_folder_that_becomes_a_file_and_a_file_that_becomes_a_folder_restore(
    cli: CliRunner, codex_home: Path
) -> None:
    """The writes that wait for a removal (their folder is a file now) and a folder replaced
    by a file: both restored, no temporary file left."""
    prompts = codex_home / "prompts"
    (prompts / "was-folder").mkdir(parents=True)
    (prompts / "was-folder" / "inside.md").write_text("inside\n")
    (prompts / "was-file.md").write_text("a file\n")
    target = ok_json(cli, "snapshot")["id"]
    (prompts / "was-folder" / "inside.md").unlink()
    (prompts / "was-folder").rmdir()
    (prompts / "was-folder").write_text("a file now\n")
    (prompts / "was-file.md").unlink()
    (prompts / "was-file.md").mkdir()
    (prompts / "was-file.md" / "nested.md").write_text("nested\n")
    code, out, err = run(cli, "rollback", target, "--path", "prompts", "--yes")
    assert code == 0, out + err
    assert (prompts / "was-folder" / "inside.md").read_text() == "inside\n"
    assert (prompts / "was-file.md").read_text() == "a file\n"
    assert [p for p in codex_home.rglob(f"*{TEMP_SUFFIX}")] == []


def test_a_rollback_of_one_file_checks_the_trees_on_its_way_not_every_folder(
    cli: CliRunner, codex_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The snapshot's manifest is checked against its tree for the paths restored only."""
    folders = 60
    for number in range(folders):
        folder = codex_home / "prompts" / "deep" / f"d{number:02d}"
        folder.mkdir(parents=True)
        (folder / "note.md").write_text(f"note {number}\n")
    target = ok_json(cli, "snapshot")["id"]
    one = codex_home / "prompts" / "deep" / "d07" / "note.md"
    one.write_text("changed\n")
    trees: list[str] = []
    real_read = BatchReader.read

    def counting(self: BatchReader, object_id: str) -> tuple[str, bytes]:
        kind, data = real_read(self, object_id)
        if kind == "tree":
            trees.append(object_id)
        return kind, data

    monkeypatch.setattr(BatchReader, "read", counting)
    code, out, err = run(cli, "rollback", target, "--path", "prompts/deep/d07/note.md", "--yes")
    assert code == 0, out + err
    assert one.read_text() == "note 7\n"
    assert len(trees) < folders // 2, f"{len(trees)} trees read to restore one file"


def test_a_rollback_of_some_paths_walks_the_home_once(
    cli: CliRunner, codex_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan reads only the paths asked for; the "before" snapshot walks the whole home
    (as tests/test_fix.py counts them: every walk starts at the home's top)."""
    (codex_home / "prompts" / "one.md").write_text("one\n")
    target = ok_json(cli, "snapshot")["id"]
    (codex_home / "prompts" / "one.md").write_text("changed\n")
    (codex_home / "prompts" / "new").mkdir()
    (codex_home / "prompts" / "new" / "added.md").write_text("added since\n")
    real_scandir = os.scandir
    walks: list[str] = []

    def counting(path: Any = ".") -> Any:
        if isinstance(path, str | os.PathLike) and Path(path) == codex_home:
            walks.append(str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", counting)
    code, out, err = run(cli, "rollback", target, "--path", "prompts/one.md", "--yes")
    assert code == 0, out + err
    assert len(walks) == 1, f"{len(walks)} walks of the home"
    walks.clear()
    code, out, err = run(cli, "rollback", target, "--path", "prompts", "--yes")
    assert code == 0, out + err
    assert not (codex_home / "prompts" / "new" / "added.md").exists()  # found without a walk
    assert len(walks) == 1, f"{len(walks)} walks of the home"


def test_the_after_snapshot_does_not_read_back_what_the_rollback_just_wrote(
    cli: CliRunner, codex_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each restored file's blob was checked as it was written and its stat noted after the
    rename: the "after" snapshot takes that record unless the stat moved since."""
    from codexsnap.store.git import GitRepository

    paths = _many(codex_home)
    target = ok_json(cli, "snapshot")["id"]
    _change(paths)
    hashed: Counter[str] = Counter()
    real_hash = GitRepository.hash_files

    def counting(self: GitRepository, files: list[Path], write: bool) -> list[str | None]:
        hashed.update(str(f) for f in files)
        return real_hash(self, files, write)

    monkeypatch.setattr(GitRepository, "hash_files", counting)
    code, out, err = run(cli, "rollback", target, "--path", "prompts/many", "--yes")
    assert code == 0, out + err
    # The plan hashes the changed files, the "before" snapshot stores them: not a third time.
    assert Counter(hashed[str(p)] for p in paths) == {2: FILES}
    listed = json.loads(run(cli, "history", "--json")[1])
    assert listed[0]["operation"] == "after-rollback"
    code, out, err = run(cli, "check")
    assert code == 0, out + err
    code, out, err = run(cli, "diff", listed[0]["id"])
    assert code == 0 and "prompts/many" not in out, out + err


def test_what_the_after_snapshot_took_as_written_stays_out_of_the_stat_cache(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    """Just written, so within the racy window: the next snapshot reads those files again."""
    from codexsnap.store.scan import cache_file

    paths = _many(codex_home)
    target = ok_json(cli, "snapshot")["id"]
    _change(paths)
    code, out, err = run(cli, "rollback", target, "--path", "prompts/many", "--yes")
    assert code == 0, out + err
    cached = json.loads(cache_file(store_root, codex_home).read_text())
    restored = [p.relative_to(codex_home).as_posix() for p in paths]
    assert [p for p in restored if p in cached] == []
