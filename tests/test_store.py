"""The snapshot store on realistic homes: scope, WAL capture, round trips, stat cache, errors."""

from __future__ import annotations

import itertools
import json
import os
import random
import shutil
import sqlite3
import stat
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codexsnap import __version__
from codexsnap.commands.fix import fix
from codexsnap.commands.history import history
from codexsnap.commands.snapshot import snapshot
from codexsnap.demo_data import SERVER_ID
from codexsnap.errors import ConfigError, SnapshotNotFoundError, StoreError
from codexsnap.recipes import RecipeOptions
from codexsnap.store import SnapshotStore, home_id, store_state
from tests.helpers import file_states, git_in_store, run
from tests.homebuilder import THREADS, CodexHomeBuilder, insert_thread, thread_id
from tests.storetools import (
    SQLITE_FILES,
    blob,
    database_dump,
    git_text,
    home_names,
    listing,
    make_socket,
    manifest,
    query,
    roll,
    stored_bytes,
    stored_files,
    take,
    tree,
    yes,
)

GLOBAL = ".codex-global-state.json"
STATE = "sqlite/state_5.sqlite"  # a desktop home's: the app keeps its databases in sqlite/
BAK = ".codex-global-state.json.bak"

IN_SCOPE = {
    GLOBAL,
    BAK,
    "config.toml",
    "installation_id",
    "AGENTS.md",
    "sqlite/state_5.sqlite",
    "sqlite/codex-dev.db",
    "session_index.jsonl",
    "history.jsonl",
    "hooks.json",
    "rules/default.rules",
    "prompts/review.md",
    "automations/auto_1/automation.toml",
    "app-server-daemon/settings.json",
}
OUT_OF_SCOPE = {
    *(thread.rollout for thread in THREADS),
    "log/codex-tui.log",
    "sqlite/logs_2.sqlite",
    "cache/models/blob.bin",
    "plugins/bundle/index.js",
    "version.json",
    "models_cache.json",
    "app-server-control/app-server-control.sock",
    "app-server-daemon/app-server.pid",
    "app-server-control/app-server-startup.lock",
    "app-server-daemon/app-server.pid.lock",
    f"thread-writer-locks/{THREADS[0].id}.lock",
    "..codex-global-state.json.tmp-1a2b3c",
    "sqlite/state_5.sqlite-wal",
    "sqlite/state_5.sqlite-shm",
    "auth.json",
}


def without_shm(states: dict[str, tuple[bytes, int]]) -> dict[str, tuple[bytes, int]]:
    """File states minus SQLite shared memory, which any reader of a live database touches."""
    return {p: s for p, s in states.items() if not p.endswith("-shm")}


def write_scope(store: Path, text: str | bytes) -> None:
    """Write the store's scope.toml."""
    data = text if isinstance(text, bytes) else text.encode()
    (store / "scope.toml").write_bytes(data)


# ----- what a snapshot holds ----------------------------------------------------------


def test_first_snapshot_holds_exactly_the_files_in_scope(
    codex_home: Path, store_root: Path
) -> None:
    make_socket(codex_home / "app-server-control" / "app-server-control.sock")
    for relpath in OUT_OF_SCOPE | IN_SCOPE:
        assert os.path.lexists(codex_home / relpath), relpath  # the home really has them
    assert stat.S_ISSOCK(
        (codex_home / "app-server-control/app-server-control.sock").lstat().st_mode
    )

    taken = take(codex_home, store_root)

    commit = taken.snapshot.id
    assert taken.created and taken.snapshot.files_changed == len(IN_SCOPE)
    assert stored_files(store_root, commit) == IN_SCOPE
    files = manifest(store_root, commit)["files"]
    assert set(files) == IN_SCOPE
    entries = tree(store_root, commit)
    assert "manifest.json" in entries
    assert all(p.startswith("files/") or "/" not in p for p in entries)
    for relpath in IN_SCOPE:
        record = files[relpath]
        assert entries[f"files/{relpath}"][1] == record["blob"]
        if relpath in SQLITE_FILES:
            assert record["kind"] == "sqlite"
        else:
            assert record["kind"] == "file"
            assert blob(store_root, record["blob"]) == (codex_home / relpath).read_bytes()
            assert record["size"] == (codex_home / relpath).stat().st_size


def test_snapshot_captures_rows_that_live_only_in_the_wal(
    builder: CodexHomeBuilder, codex_home: Path, store_root: Path, tmp_path: Path
) -> None:
    main_only = tmp_path / "main-file-only.sqlite"
    shutil.copyfile(codex_home / STATE, main_only)
    assert query(main_only.read_bytes(), "SELECT name FROM sqlite_master") == []  # all in -wal
    assert not (codex_home / "sqlite" / "codex-dev.db-wal").exists()
    names = home_names(codex_home)

    first = take(codex_home, store_root)

    data = stored_bytes(store_root, first.snapshot.id, STATE)
    threads = [(t.id, t.name) for t in THREADS]
    assert query(data, "SELECT id, name FROM threads ORDER BY id") == threads
    assert query(data, "SELECT server_id FROM remote_control_enrollments") == [(SERVER_ID,)]
    automations = stored_bytes(store_root, first.snapshot.id, "sqlite/codex-dev.db")
    assert query(automations, "SELECT * FROM automations") == [("auto_1", "nightly", "0 3 * * *")]
    # Snapshotting created nothing in the home: no -wal/-shm beside the database that had none.
    assert home_names(codex_home) == names

    # The app (the builder's connection, still open) writes again; only -wal grows.
    db = builder.open_connections[0]
    insert_thread(db, thread_id(3), "Thread 3", "/Users/ana/src/web")
    db.commit()
    second = take(codex_home, store_root)
    assert second.created and second.snapshot.files_changed == 1
    data = stored_bytes(store_root, second.snapshot.id, STATE)
    ids = sorted([(t.id,) for t in THREADS] + [(thread_id(3),)])
    assert query(data, "SELECT id FROM threads ORDER BY id") == ids
    assert home_names(codex_home) == names
    assert db.execute("SELECT count(*) FROM threads").fetchone() == (4,)  # still usable

    # A checkpoint moves the rows into the main file, and quitting removes -wal and -shm: the
    # content is the same, so no snapshot is made.
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert not take(codex_home, store_root).created
    builder.close()
    assert not (codex_home / f"{STATE}-wal").exists()
    assert take(codex_home, store_root).snapshot.id == second.snapshot.id


def test_snapshot_of_an_unchanged_home_makes_no_commit(codex_home: Path, store_root: Path) -> None:
    first = take(codex_home, store_root)
    again = take(codex_home, store_root)
    assert not again.created and again.snapshot.id == first.snapshot.id
    assert git_text(store_root, "rev-list", "--all").split() == [first.snapshot.id]

    (codex_home / "AGENTS.md").write_bytes(b"# Agent rules\n\nNever skip the tests.\n")
    changed = take(codex_home, store_root)
    assert changed.created and changed.snapshot.files_changed == 1
    assert changed.snapshot.parent == first.snapshot.id
    log = git_text(store_root, "log", "-1", "--format=%B", changed.snapshot.id)
    assert "Codexsnap-Files-Changed: 1\n" in log


def test_modes_are_recorded_exactly_and_restored_by_rollback(
    codex_home: Path, store_root: Path
) -> None:
    (codex_home / "config.toml").chmod(0o600)
    (codex_home / "rules" / "default.rules").chmod(0o755)
    (codex_home / "AGENTS.md").chmod(0o640)
    first = take(codex_home, store_root)
    original = file_states(codex_home)

    files = manifest(store_root, first.snapshot.id)["files"]
    assert files["config.toml"]["mode"] == "0600"
    assert files["rules/default.rules"]["mode"] == "0755"
    assert files["AGENTS.md"]["mode"] == "0640"
    assert files["installation_id"]["mode"] == "0644"
    entries = tree(store_root, first.snapshot.id)
    assert entries["files/rules/default.rules"][0] == "100755"
    assert entries["files/config.toml"][0] == "100644"

    # A change of mode alone is a change.
    (codex_home / "config.toml").chmod(0o644)
    (codex_home / "rules" / "default.rules").chmod(0o644)
    (codex_home / "AGENTS.md").chmod(0o600)
    changed = take(codex_home, store_root)
    assert changed.created and changed.snapshot.files_changed == 3

    roll(codex_home, store_root, first.snapshot.id)
    assert file_states(codex_home) == original
    assert stat.S_IMODE((codex_home / "config.toml").stat().st_mode) == 0o600
    assert os.access(codex_home / "rules" / "default.rules", os.X_OK)


# ----- round trips ----------------------------------------------------------------------


def _delete_file(home: Path) -> None:
    (home / "AGENTS.md").unlink()
    (home / "installation_id").unlink()


def _new_nested_folder(home: Path) -> None:
    deep = home / "skills" / "review" / "assets" / "icons"
    deep.mkdir(parents=True)
    (deep / "icon.svg").write_bytes(b"<svg/>\n")
    (home / "skills" / "review" / "SKILL.md").write_bytes(b"---\nname: review\n---\n")


def _empty_files(home: Path) -> None:
    (home / "memories").mkdir()
    (home / "memories" / "empty.md").write_bytes(b"")
    (home / "hooks.json").write_bytes(b"")


def _odd_names(home: Path) -> None:
    (home / "prompts" / "my prompt ✓ café.md").write_bytes(b"unicode and spaces\n")
    (home / "prompts" / "two\nlines.md").write_bytes(b"a newline in the name\n")
    (home / "prompts" / " leading and trailing ").write_bytes(b"spaces\n")
    (home / "prompts" / "--help").write_bytes(b"looks like an option\n")


def _non_utf8_name(home: Path) -> None:
    (home / "prompts" / os.fsdecode(b"latin1-\xe9t\xe9.md")).write_bytes(b"latin-1 name\n")


def _symlinks(home: Path) -> None:
    os.symlink("AGENTS.md", home / "AGENTS-link.md")
    os.symlink("../nowhere", home / "rules" / "dangling")
    os.symlink("/etc/hostname", home / "rules" / "outside")
    os.symlink("rules", home / "rules-folder-link")
    (home / "hooks.json").unlink()
    os.symlink("AGENTS.md", home / "hooks.json")  # a file that becomes a link


def _binary_and_crlf(home: Path) -> None:
    (home / "memories").mkdir()
    (home / "memories" / "blob.bin").write_bytes(bytes(range(256)) * 8 + b"\r\n\0\r")
    config = home / "config.toml"
    config.write_bytes(config.read_bytes().replace(b"\n", b"\r\n"))
    (home / GLOBAL).write_bytes(b"\0" * 4096)  # the corruption of openai/codex#38757
    (home / BAK).write_bytes(b"{}")


def _file_becomes_folder(home: Path) -> None:
    (home / "hooks.json").unlink()
    (home / "hooks.json").mkdir()
    (home / "hooks.json" / "inner.json").write_bytes(b"{}\n")


def _folder_becomes_file(home: Path) -> None:
    shutil.rmtree(home / "rules")
    (home / "rules").write_bytes(b"a file where a folder was\n")


def _folder_becomes_link(home: Path) -> None:
    shutil.rmtree(home / "rules")
    os.symlink("prompts", home / "rules")


ROUND_TRIPS: dict[str, Callable[[Path], None]] = {
    "deleted-files": _delete_file,
    "new-nested-folder": _new_nested_folder,
    "empty-files": _empty_files,
    "space-unicode-newline-names": _odd_names,
    "non-utf8-name": _non_utf8_name,
    "symlinks": _symlinks,
    "binary-crlf-nul": _binary_and_crlf,
    "file-becomes-folder": _file_becomes_folder,
    "folder-becomes-file": _folder_becomes_file,
    "folder-becomes-link": _folder_becomes_link,
}
TYPE_CHANGES = {"file-becomes-folder", "folder-becomes-file", "folder-becomes-link"}


@pytest.mark.parametrize(
    "change",
    [pytest.param(name) for name in sorted(ROUND_TRIPS)],
)
def test_rollback_and_its_undo_round_trip(change: str, codex_home: Path, store_root: Path) -> None:
    first = take(codex_home, store_root)
    before = file_states(codex_home)
    ROUND_TRIPS[change](codex_home)
    changed = file_states(codex_home)
    assert changed != before

    back = roll(codex_home, store_root, first.snapshot.id)
    assert file_states(codex_home) == before
    assert back.snapshot_before is not None and back.snapshot_after is not None
    # The state just before the rollback is in the store: rolling back the rollback restores it.
    again = roll(codex_home, store_root, back.snapshot_before.id)
    assert again.changed
    assert file_states(codex_home) == changed
    for relpath, (data, _mode) in changed.items():
        if os.path.islink(codex_home / relpath):
            assert stored_bytes(store_root, back.snapshot_before.id, relpath) == data


def test_symlinks_are_stored_as_links_and_never_followed(
    codex_home: Path, store_root: Path
) -> None:
    os.symlink("/etc/hostname", codex_home / "outside-link")
    os.symlink("AGENTS.md", codex_home / "inside-link")
    taken = take(codex_home, store_root)
    files = manifest(store_root, taken.snapshot.id)["files"]
    entries = tree(store_root, taken.snapshot.id)
    for name, target in (("outside-link", b"/etc/hostname"), ("inside-link", b"AGENTS.md")):
        assert files[name]["kind"] == "symlink"
        assert entries[f"files/{name}"][0] == "120000"
        assert blob(store_root, files[name]["blob"]) == target

    (codex_home / "inside-link").unlink()
    (codex_home / "inside-link").write_bytes((codex_home / "AGENTS.md").read_bytes())
    roll(codex_home, store_root, taken.snapshot.id)
    assert os.readlink(codex_home / "inside-link") == "AGENTS.md"


def test_a_file_added_after_a_snapshot_is_removed_and_kept_in_the_store(
    codex_home: Path, store_root: Path
) -> None:
    first = take(codex_home, store_root)
    added = codex_home / "memories" / "2026" / "note.md"
    added.parent.mkdir(parents=True)
    added.write_bytes(b"remember this\n")

    back = roll(codex_home, store_root, first.snapshot.id)
    assert not added.exists()
    assert back.snapshot_before is not None
    assert stored_bytes(store_root, back.snapshot_before.id, "memories/2026/note.md") == (
        b"remember this\n"
    )
    roll(codex_home, store_root, back.snapshot_before.id)
    assert added.read_bytes() == b"remember this\n"


def test_rollback_restores_every_file_byte_for_byte_after_many_random_edits(
    codex_home: Path, store_root: Path
) -> None:
    rng = random.Random(20261126)
    excluded_before = without_shm(
        {
            p: s
            for p, s in file_states(codex_home, include_excluded=True).items()
            if p not in file_states(codex_home)
        }
    )
    first = take(codex_home, store_root)
    before = file_states(codex_home)
    for step in range(80):
        plain = sorted(p for p in file_states(codex_home) if p not in SQLITE_FILES)
        target = codex_home / rng.choice(plain)
        action = rng.choice(["rewrite", "same-size", "append", "truncate", "delete", "add", "mode"])
        if action == "rewrite":
            target.write_bytes(rng.randbytes(rng.randrange(0, 3000)))
        elif action == "same-size":
            size = target.stat().st_size
            target.write_bytes(rng.randbytes(size))
        elif action == "append":
            with target.open("ab") as handle:
                handle.write(b"\r\n" + rng.randbytes(rng.randrange(1, 50)))
        elif action == "truncate":
            target.write_bytes(target.read_bytes()[: rng.randrange(0, 20)])
        elif action == "delete" and len(plain) > 3:
            target.unlink()
        elif action == "add":
            folder = codex_home / rng.choice(["", "rules", "memories/a", "skills/x/y"])
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"new-{step}.txt").write_bytes(rng.randbytes(rng.randrange(0, 200)))
        elif action == "mode":
            target.chmod(rng.choice([0o600, 0o640, 0o644, 0o700, 0o755]))
    edited = file_states(codex_home)
    assert edited != before

    back = roll(codex_home, store_root, first.snapshot.id)
    assert file_states(codex_home) == before
    excluded_after = without_shm(
        {p: s for p, s in file_states(codex_home, include_excluded=True).items() if p not in before}
    )
    assert excluded_after == excluded_before  # sessions, logs, auth.json, runtime: untouched

    assert back.snapshot_before is not None
    roll(codex_home, store_root, back.snapshot_before.id)
    assert file_states(codex_home) == edited


def test_rollback_restores_databases_and_drops_their_stale_sidecars(
    builder: CodexHomeBuilder, codex_home: Path, store_root: Path
) -> None:
    builder.close()  # Codex quit: its last connection checkpointed and removed -wal/-shm
    first = take(codex_home, store_root)
    dumps = {p: database_dump(codex_home / p) for p in SQLITE_FILES}
    for relpath in SQLITE_FILES:
        db = sqlite3.connect(codex_home / relpath)
        table = "threads" if relpath == STATE else "automations"
        db.execute(f"DELETE FROM {table}")
        db.commit()
        db.close()
    assert all(database_dump(codex_home / p) != dumps[p] for p in SQLITE_FILES)

    roll(codex_home, store_root, first.snapshot.id)
    assert {p: database_dump(codex_home / p) for p in SQLITE_FILES} == dumps
    for relpath in SQLITE_FILES:
        for suffix in ("-wal", "-shm", "-journal"):
            assert not os.path.lexists(codex_home / f"{relpath}{suffix}")


def test_rollback_dry_run_writes_nothing_in_the_home_or_the_store(
    codex_home: Path, store_root: Path
) -> None:
    first = take(codex_home, store_root)
    (codex_home / "AGENTS.md").write_bytes(b"edited\n")
    (codex_home / "installation_id").unlink()
    (codex_home / "rules" / "new.rules").write_bytes(b"new\n")
    (codex_home / "config.toml").chmod(0o600)
    home_before = without_shm(file_states(codex_home, include_excluded=True))
    names_before = home_names(codex_home)
    store_before = listing(store_root)

    result = roll(codex_home, store_root, first.snapshot.id, dry_run=True)

    assert result.dry_run and not result.changed and not result.report.empty
    assert without_shm(file_states(codex_home, include_excluded=True)) == home_before
    assert home_names(codex_home) == names_before
    assert listing(store_root) == store_before


# ----- stat cache -----------------------------------------------------------------------


def test_same_size_rewrite_within_the_same_second_is_detected(
    codex_home: Path, store_root: Path
) -> None:
    agents = codex_home / "AGENTS.md"
    agents.write_bytes(b"version one\n")
    take(codex_home, store_root)
    agents.write_bytes(b"version two\n")  # same length, same second, same inode
    second = take(codex_home, store_root)
    assert second.created and second.snapshot.files_changed == 1
    assert stored_bytes(store_root, second.snapshot.id, "AGENTS.md") == b"version two\n"


def test_same_size_rewrite_with_the_old_mtime_is_detected(
    codex_home: Path, store_root: Path
) -> None:
    agents = codex_home / "AGENTS.md"
    an_hour_ago = (int(datetime.now().timestamp()) - 3600) * 10**9
    agents.write_bytes(b"version one\n")
    os.utime(agents, ns=(an_hour_ago, an_hour_ago))
    take(codex_home, store_root)
    assert not take(codex_home, store_root).created  # the cache is trusted for old files

    agents.write_bytes(b"version two\n")
    os.utime(agents, ns=(an_hour_ago, an_hour_ago))  # size, mtime and inode all as cached
    second = take(codex_home, store_root)
    assert second.created and second.snapshot.files_changed == 1
    assert stored_bytes(store_root, second.snapshot.id, "AGENTS.md") == b"version two\n"


def test_a_damaged_stat_cache_is_rebuilt(codex_home: Path, store_root: Path) -> None:
    first = take(codex_home, store_root)
    cache = store_root / "cache" / f"{home_id(codex_home)}.json"
    assert cache.is_file()
    cache.write_text('{"AGENTS.md": [1, 2, 3')
    assert take(codex_home, store_root).snapshot.id == first.snapshot.id
    cache.write_text("[]")
    (codex_home / "AGENTS.md").write_bytes(b"changed\n")
    assert take(codex_home, store_root).created


# ----- several homes in one store -------------------------------------------------------


@pytest.fixture
def second_home(tmp_path: Path) -> Iterator[Path]:
    """Another Codex home (another user account, or CODEX_HOME for a test profile)."""
    other = CodexHomeBuilder(tmp_path / "second-home")
    other.state["sidebar-width"] = 300
    yield other.build().resolve()
    other.close()


def test_two_homes_in_one_store_stay_apart(
    codex_home: Path, second_home: Path, store_root: Path
) -> None:
    a1 = take(codex_home, store_root, "a1").snapshot
    b1 = take(second_home, store_root, "b1").snapshot
    (codex_home / "AGENTS.md").write_bytes(b"home a\n")
    (second_home / "AGENTS.md").write_bytes(b"home b\n")
    a2 = take(codex_home, store_root, "a2").snapshot
    b2 = take(second_home, store_root, "b2").snapshot

    assert [s.id for s in history(codex_home, store_root, None)] == [a2.id, a1.id]
    assert [s.id for s in history(second_home, store_root, None)] == [b2.id, b1.id]
    assert {s.trailers["Home"] for s in history(second_home, store_root, None)} == {
        str(second_home)
    }
    refs = git_text(store_root, "for-each-ref", "--format=%(refname)").split()
    snapshot_refs = sorted(r for r in refs if r.startswith("refs/codexsnap/snapshots/"))
    assert snapshot_refs == sorted(
        f"refs/codexsnap/snapshots/{home_id(h)}/{s.id}"
        for h in (codex_home, second_home)
        for s in history(h, store_root, None)
    )
    refs = [r for r in refs if r not in snapshot_refs]
    assert sorted(refs) == sorted(
        f"refs/codexsnap/homes/{home_id(h)}" for h in (codex_home, second_home)
    )

    with SnapshotStore.open(store_root, create=False) as store:
        for foreign in (b1.id, b2.id, b2.id[:8]):
            with pytest.raises(SnapshotNotFoundError):
                store.resolve(codex_home, foreign)
        with pytest.raises(SnapshotNotFoundError):
            store.resolve(second_home, a1.id)
    with pytest.raises(SnapshotNotFoundError):
        roll(codex_home, store_root, b1.id)
    assert (codex_home / "AGENTS.md").read_bytes() == b"home a\n"


# ----- scope.toml -----------------------------------------------------------------------


def test_scope_include_widens(codex_home: Path, store_root: Path) -> None:
    first = take(codex_home, store_root)
    assert "log/codex-tui.log" not in stored_files(store_root, first.snapshot.id)
    write_scope(store_root, 'include = ["log/"]\n')
    second = take(codex_home, store_root)
    assert second.created and second.snapshot.files_changed == 1
    assert (
        stored_bytes(store_root, second.snapshot.id, "log/codex-tui.log")
        == (codex_home / "log" / "codex-tui.log").read_bytes()
    )
    assert stored_files(store_root, second.snapshot.id) == IN_SCOPE | {"log/codex-tui.log"}


def test_scope_exclude_narrows_and_rollback_leaves_excluded_files_alone(
    codex_home: Path, store_root: Path
) -> None:
    first = take(codex_home, store_root)
    write_scope(store_root, 'exclude = ["prompts/"]\n')
    second = take(codex_home, store_root)
    assert second.created
    assert stored_files(store_root, second.snapshot.id) == IN_SCOPE - {"prompts/review.md"}

    (codex_home / "prompts" / "review.md").write_bytes(b"mine now\n")
    result = roll(codex_home, store_root, first.snapshot.id)
    assert (codex_home / "prompts" / "review.md").read_bytes() == b"mine now\n"
    assert all(not f.path.startswith("prompts/") for f in result.report.files)


def test_rollback_to_a_snapshot_from_before_widening_keeps_the_newly_included_files(
    codex_home: Path, store_root: Path
) -> None:
    first = take(codex_home, store_root)
    write_scope(store_root, 'include = ["log/", "cache/"]\n')
    (codex_home / "AGENTS.md").write_bytes(b"changed\n")
    (codex_home / "log" / "later.log").write_bytes(b"written after the first snapshot\n")
    kept = {
        p: s
        for p, s in file_states(codex_home, include_excluded=True).items()
        if p.startswith(("log/", "cache/"))
    }
    assert len(kept) == 3
    roll(codex_home, store_root, first.snapshot.id)
    assert (codex_home / "AGENTS.md").read_bytes() == b"# Agent rules\n\nAlways run the tests.\n"
    # That snapshot did not cover log/ and cache/: it says nothing about them, so they stay.
    assert {
        p: s
        for p, s in file_states(codex_home, include_excluded=True).items()
        if p.startswith(("log/", "cache/"))
    } == kept


def test_scope_refuses_to_include_secrets_and_runtime_files(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    first = take(codex_home, store_root)
    for pattern in ("auth.json", ".sandbox-secrets/", "*.pid", "*-wal"):
        write_scope(store_root, f'include = ["log/", "{pattern}"]\n')
        with pytest.raises(ConfigError, match="cannot be included"):
            snapshot(codex_home, store_root, "")
        code, _out, err = run(cli, "snapshot")
        assert code == 11 and pattern in err
    assert git_text(store_root, "rev-list", "--all").split() == [first.snapshot.id]


MALFORMED_SCOPES = {
    "unclosed": b'include = ["log/"',
    "not-a-list": b'include = "log/"',
    "not-strings": b"exclude = [1]",
    "empty-pattern": b'include = [""]',
    "not-utf8": b"\xff = 1",
}


def test_malformed_scope_file_exits_11(cli: CliRunner, codex_home: Path, store_root: Path) -> None:
    first = take(codex_home, store_root)
    (codex_home / "AGENTS.md").write_bytes(b"changed\n")
    for name, text in MALFORMED_SCOPES.items():
        write_scope(store_root, text)
        for args in (("snapshot",), ("rollback", "--yes", "--force", first.snapshot.id)):
            code, _out, err = run(cli, *args)
            assert code == 11, (name, args, err)
            assert "scope.toml" in err
    assert git_text(store_root, "rev-list", "--all").split() == [first.snapshot.id]
    assert (codex_home / "AGENTS.md").read_bytes() == b"changed\n"


# ----- where the store and the home are -------------------------------------------------


def test_store_path_that_is_a_file(cli: CliRunner, codex_home: Path, store_root: Path) -> None:
    store_root.write_text("not a store\n")
    with pytest.raises(StoreError, match="is a file"):
        snapshot(codex_home, store_root, "")
    code, _out, err = run(cli, "snapshot")
    assert code == 8 and "is a file" in err
    assert store_root.read_text() == "not a store\n"


def test_non_empty_folder_that_is_not_a_store(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    store_root.mkdir()
    (store_root / "notes.txt").write_text("mine\n")
    code, _out, err = run(cli, "snapshot")
    assert code == 8 and "not a codexsnap store" in err
    assert sorted(p.name for p in store_root.iterdir()) == ["notes.txt"]


def test_store_of_a_newer_format_is_refused(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    first = take(codex_home, store_root)
    (store_root / "codexsnap-store.json").write_text(json.dumps({"format": 99}))
    (codex_home / "AGENTS.md").write_bytes(b"changed\n")
    for args in (("snapshot",), ("history",), ("rollback", "--yes", first.snapshot.id)):
        code, _out, err = run(cli, *args)
        assert code == 8, args
        assert "newer" in err
    assert git_text(store_root, "rev-list", "--all").split() == [first.snapshot.id]
    assert (codex_home / "AGENTS.md").read_bytes() == b"changed\n"


def test_damaged_store_marker_is_refused(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    take(codex_home, store_root)
    (store_root / "codexsnap-store.json").write_text("{not json")
    code, _out, err = run(cli, "snapshot")
    assert code == 8 and "damaged" in err


@pytest.mark.parametrize("where", ["inside", "same", "contains"])
def test_store_inside_or_around_the_home_is_refused(
    cli: CliRunner, codex_home: Path, where: str
) -> None:
    store = {
        "inside": codex_home / "snapshots",
        "same": codex_home,
        "contains": codex_home.parent,
    }[where]
    names = home_names(codex_home)
    code, _out, err = run(cli, "snapshot", "--store", str(store))
    assert code == 8 and str(codex_home) in err
    assert home_names(codex_home) == names


def test_missing_home_exits_3_and_creates_no_store(cli: CliRunner, store_root: Path) -> None:
    code, _out, err = run(cli, "snapshot")
    assert code == 3 and "does not exist" in err
    assert not store_root.exists()


def test_codex_home_that_is_a_file_exits_3(
    cli: CliRunner, tmp_path: Path, store_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_a_folder = tmp_path / "codex-home-file"
    not_a_folder.write_text("x")
    monkeypatch.setenv("CODEX_HOME", str(not_a_folder))
    code, _out, err = run(cli, "snapshot")
    assert code == 3 and "not a folder" in err
    assert not store_root.exists()


def test_codex_home_option_overrides_the_environment(
    cli: CliRunner,
    codex_home: Path,
    tmp_path: Path,
    store_root: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "nowhere"))
    code, _out, err = run(cli, "snapshot", "--codex-home", str(codex_home))
    assert code == 0, err
    snapshots = history(codex_home, store_root, None)
    assert len(snapshots) == 1 and snapshots[0].trailers["Home"] == str(codex_home)


def test_scope_file_written_before_the_first_snapshot_is_used(
    codex_home: Path, store_root: Path
) -> None:
    store_root.mkdir()
    write_scope(store_root, 'exclude = ["prompts/"]\n')
    taken = take(codex_home, store_root)
    assert stored_files(store_root, taken.snapshot.id) == IN_SCOPE - {"prompts/review.md"}


# ----- history ----------------------------------------------------------------------------


def test_history_is_newest_first_with_limit_dates_and_trailers(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    ids = []
    for number in range(3):
        (codex_home / "AGENTS.md").write_bytes(f"rules {number}\n".encode())
        ids.append(take(codex_home, store_root, f"step {number}").snapshot.id)
    fix(
        codex_home,
        store_root,
        "remote-control",
        RecipeOptions(),
        dry_run=False,
        force=True,
        show_secrets=False,
        confirm=yes,
    )

    snapshots = history(codex_home, store_root, None)
    assert [s.id for s in snapshots][2:] == ids[::-1]
    assert [s.operation for s in snapshots] == [
        "after-fix",
        "before-fix",
        "snapshot",
        "snapshot",
        "snapshot",
    ]
    assert [s.message for s in snapshots][2:] == ["step 2", "step 1", "step 0"]
    assert [s.id for s in history(codex_home, store_root, 2)] == [s.id for s in snapshots[:2]]
    assert snapshots[-1].parent is None
    assert all(s.parent == older.id for s, older in itertools.pairwise(snapshots))

    code, out, _err = run(cli, "history", "--json", "--limit", "4")
    assert code == 0
    listed = json.loads(out)
    assert [item["id"] for item in listed] == [s.id for s in snapshots[:4]]
    dates = [datetime.fromisoformat(item["created_at"]) for item in listed]
    assert all(d.tzinfo is not None for d in dates)
    assert dates == sorted(dates, reverse=True)

    ref = f"refs/codexsnap/homes/{home_id(codex_home)}"
    fmt = "%(trailers:key={},valueonly,separator=)"

    def trailer(key: str) -> list[str]:
        out = git_text(store_root, "log", f"--format={fmt.format(key)}%x00", ref)
        return [v.strip() for v in out.split("\0")[:-1]]

    assert trailer("Codexsnap-Operation") == [s.operation for s in snapshots]
    assert trailer("Codexsnap-Recipe") == ["remote-control", "remote-control", "", "", ""]
    assert set(trailer("Codexsnap-Version")) == {__version__}
    assert set(trailer("Codexsnap-Home")) == {str(codex_home)}
    changed = trailer("Codexsnap-Files-Changed")
    assert changed[2:] == ["1", "1", str(len(IN_SCOPE))]
    assert int(changed[0]) == 2  # the fix edits both global-state files
    log = git_in_store(store_root, "log", "--format=%an <%ae>", ref)
    assert set(log.stdout.split("\n")[:-1]) == {"codexsnap <codexsnap@localhost>"}


def test_store_state_is_the_one_answer_to_is_this_a_store(
    codex_home: Path, store_root: Path, tmp_path: Path
) -> None:
    assert store_state(store_root) == "absent"
    store_root.mkdir()
    assert store_state(store_root) == "empty"
    # A scope written before the first snapshot, a lock, a killed creation: still a place
    # for a store, not someone else's folder.
    (store_root / "scope.toml").write_text("")
    (store_root / "codexsnap.lock").write_text("")
    (store_root / "repo.git").mkdir()
    assert store_state(store_root) == "empty"
    take(codex_home, store_root)
    assert store_state(store_root) == "store"
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine\n")
    assert store_state(other) == "foreign"
    (tmp_path / "a-file").write_text("")
    assert store_state(tmp_path / "a-file") == "foreign"


def test_a_snapshot_read_by_id_equals_the_one_history_lists(
    codex_home: Path, store_root: Path
) -> None:
    note = "why\nCodexsnap-Operation: not a trailer"
    taken = take(codex_home, store_root, note).snapshot
    with SnapshotStore.open(store_root, create=False) as store:
        resolved = store.resolve(codex_home, taken.id[:8])
        listed = store.history(codex_home)[0]
    assert resolved == listed == taken
    assert resolved.created_at.isoformat() == listed.created_at.isoformat()


# ----- blobs written by codexsnap itself (store/loose.py) -----------------------------------


def _bare_repository(tmp_path: Path) -> Path:
    import subprocess

    git_dir = tmp_path / "objects-only.git"
    subprocess.run(["git", "init", "-q", "--bare", str(git_dir)], check=True)
    return git_dir


@pytest.mark.parametrize("size", [0, 1, (1 << 20) + 1, 3 << 20], ids=["0", "1", "1MiB+1", "3MiB"])
def test_a_file_stored_by_codexsnap_is_the_object_git_would_write(
    tmp_path: Path, size: int
) -> None:
    """One read for the id and the object, in chunks: the id is git's, the object reads."""
    import subprocess

    from codexsnap.store.loose import store_file

    git_dir = _bare_repository(tmp_path)
    source = tmp_path / "session.jsonl"
    source.write_bytes(os.urandom(size // 2) + b"x" * (size - size // 2))
    expected = subprocess.run(
        ["git", "hash-object", "--no-filters", str(source)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert store_file(git_dir, source, write=False) == expected
    assert not list(git_dir.glob("objects/??/*"))  # hashing alone writes nothing
    assert store_file(git_dir, source, write=True) == expected
    shown = subprocess.run(
        ["git", f"--git-dir={git_dir}", "cat-file", "blob", expected],
        capture_output=True,
        check=True,
    ).stdout
    assert shown == source.read_bytes()
    stored = git_dir / "objects" / expected[:2] / expected[2:]
    assert stat.S_IMODE(stored.stat().st_mode) == 0o400
    assert not list(git_dir.rglob("tmp_obj_*"))
    fsck = subprocess.run(["git", f"--git-dir={git_dir}", "fsck", "--full"], capture_output=True)
    assert fsck.returncode == 0, fsck.stderr


def test_a_file_gone_or_replaced_by_a_folder_or_fifo_is_not_stored(tmp_path: Path) -> None:
    from codexsnap.store.loose import store_file

    git_dir = _bare_repository(tmp_path)
    assert store_file(git_dir, tmp_path / "gone.jsonl", write=True) is None
    (tmp_path / "now-a-folder").mkdir()
    assert store_file(git_dir, tmp_path / "now-a-folder", write=True) is None
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "now-a-fifo")  # opened without O_NONBLOCK, this would hang
        assert store_file(git_dir, tmp_path / "now-a-fifo", write=True) is None
    assert not list(git_dir.rglob("tmp_obj_*"))


def test_two_files_with_the_same_new_bytes_are_both_stored_when_one_changes_meanwhile(
    cli: CliRunner, codex_home: Path, store_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first file's content was crossed off as written before its second read, which
    found new bytes: the other file's record named an object never written (a reviewer's
    finding: git fsck "missing blob", check "its content is missing from the store")."""
    import codexsnap.store.git_blobs as git_blobs
    from codexsnap.store.loose import store_file as real

    assert run(cli, "snapshot")[0] == 0
    (codex_home / "a.md").write_text("the same new bytes\n")
    (codex_home / "b.md").write_text("the same new bytes\n")
    os.utime(codex_home / "b.md", (1e9, 1e9))  # out of the racy window: cached for good

    def codex_writes(git_dir: Path, path: Path, write: bool) -> str | None:
        if write and path.name == "a.md":
            path.write_text("a.md changed between the two reads\n")
        return real(git_dir, path, write)

    monkeypatch.setattr(git_blobs, "store_file", codex_writes)
    assert run(cli, "snapshot")[0] == 0
    monkeypatch.setattr(git_blobs, "store_file", real)
    fsck = git_in_store(store_root, "fsck", "--full")
    assert fsck.returncode == 0 and "missing" not in fsck.stdout + fsck.stderr, fsck.stdout
    (codex_home / "AGENTS.md").write_text("one more snapshot on top\n")
    assert run(cli, "snapshot")[0] == 0
    code, out, err = run(cli, "check")
    assert code == 0 and "missing" not in out, out + err


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="a disk that is full: /dev/full")
@pytest.mark.parametrize("size", [100, 5 << 20], ids=["100B", "5MiB"])
def test_a_store_disk_full_while_an_object_is_written_is_a_store_error_and_leaves_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    """The writes themselves refused (not only the rename): closing the file flushed the
    unwritten bytes again and raised a bare OSError (exit 70), and the temporary stayed."""
    import codexsnap.store.loose as loose
    from codexsnap.errors import StoreWriteError

    real_open = loose._open_temporary

    def on_a_full_disk(temporary: Path) -> object:
        out = real_open(temporary)
        full = os.open("/dev/full", os.O_WRONLY)
        os.dup2(full, out.fileno())
        os.close(full)
        return out

    git_dir = _bare_repository(tmp_path)
    source = tmp_path / "session.jsonl"
    source.write_bytes(os.urandom(size))
    monkeypatch.setattr(loose, "_open_temporary", on_a_full_disk)
    with pytest.raises(StoreWriteError, match="No space left") as refused:
        loose.store_file(git_dir, source, write=True)
    assert refused.value.hint is not None and "Free disk space" in refused.value.hint
    assert not list(git_dir.rglob("tmp_obj_*"))


def test_a_file_emptied_as_it_is_snapshotted_is_recorded_empty_not_as_damage(
    cli: CliRunner, codex_home: Path, store_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stored size 0 was taken for "not known" and the walk's size recorded instead: a
    manifest saying 12 bytes for the empty blob, which check reported."""
    from codexsnap.store.git import GitRepository

    log = codex_home / "emptied.log"
    log.write_text("twelve bytes")
    real = GitRepository.hash_files

    def codex_empties(self: GitRepository, paths: list[Path], write: bool) -> list[str | None]:
        log.write_text("")  # between the walk's stat and the read
        return real(self, paths, write)

    monkeypatch.setattr(GitRepository, "hash_files", codex_empties)
    assert run(cli, "snapshot")[0] == 0
    monkeypatch.setattr(GitRepository, "hash_files", real)
    with SnapshotStore.open(store_root, create=False) as store:
        latest = store.latest(codex_home)
        assert latest is not None
        record = store.records(latest)["emptied.log"]
    assert (record.size, record.blob) == (0, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391")
    code, out, err = run(cli, "check")
    assert code == 0 and "damage" not in out, out + err
