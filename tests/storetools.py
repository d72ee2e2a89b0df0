"""Helpers for the store and isolation tests: commands with test defaults, views of the store."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import stat
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from codexsnap.commands.rollback import RollbackResult, rollback
from codexsnap.commands.snapshot import SnapshotTaken, snapshot
from codexsnap.diff_report import DiffReport
from codexsnap.store import home_id

SQLITE_FILES = ("sqlite/state_5.sqlite", "sqlite/codex-dev.db")  # a desktop home's


def yes(_: DiffReport) -> bool:
    """A confirmation that always agrees."""
    return True


def take(home: Path, store: Path, message: str = "") -> SnapshotTaken:
    """Snapshot through the commands layer."""
    return snapshot(home, store, message)


def roll(home: Path, store: Path, snapshot_id: str, dry_run: bool = False) -> RollbackResult:
    """Roll back through the commands layer, confirmed.

    Forced: these tests are about bytes, not about which processes run on the machine (a
    developer's Codex, or another test's fake one); the running-Codex refusal has its own tests.
    """
    return rollback(
        home,
        store,
        snapshot_id,
        dry_run=dry_run,
        force=True,
        show_secrets=False,
        confirm=yes,
    )


def git_env(git_dir: Path) -> dict[str, str]:
    """The environment a test uses to inspect a repository, free of any user config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_DIR=str(git_dir), GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    return env


def git_bytes(store: Path, *args: str) -> bytes:
    """Run git on the store's repository and return its raw output (paths may not be UTF-8)."""
    done = subprocess.run(
        ["git", *args], capture_output=True, env=git_env(store / "repo.git"), check=False
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


def git_text(store: Path, *args: str) -> str:
    """Like ``git_bytes``, decoded."""
    return git_bytes(store, *args).decode("utf-8", "surrogateescape")


def tree(store: Path, commit: str) -> dict[str, tuple[str, str]]:
    """Every blob of a snapshot's tree: path -> (git mode, blob id)."""
    entries: dict[str, tuple[str, str]] = {}
    for raw in git_bytes(store, "ls-tree", "-r", "-z", "--full-tree", commit).split(b"\0"):
        if not raw:
            continue
        meta, path = raw.split(b"\t", 1)
        mode, _kind, blob = meta.decode().split()
        entries[os.fsdecode(path)] = (mode, blob)
    return entries


def stored_files(store: Path, commit: str) -> set[str]:
    """The home paths a snapshot's tree holds."""
    return {p.removeprefix("files/") for p in tree(store, commit) if p.startswith("files/")}


def manifest(store: Path, commit: str) -> dict[str, Any]:
    """The manifest.json of a snapshot, parsed."""
    document: dict[str, Any] = json.loads(
        git_bytes(store, "cat-file", "blob", f"{commit}:manifest.json")
    )
    return document


def blob(store: Path, blob_id: str) -> bytes:
    """The bytes of one stored object."""
    return git_bytes(store, "cat-file", "blob", blob_id)


def stored_bytes(store: Path, commit: str, relpath: str) -> bytes:
    """What a snapshot holds for one home path (a link's target for links)."""
    return blob(store, manifest(store, commit)["files"][relpath]["blob"])


def listing(root: Path) -> dict[str, tuple[int, int, int]]:
    """Every entry under ``root``: path -> (full mode, size, mtime in ns), links not followed."""
    found: dict[str, tuple[int, int, int]] = {}
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            path = Path(folder) / name
            st = path.lstat()
            size = 0 if stat.S_ISDIR(st.st_mode) else st.st_size
            found[path.relative_to(root).as_posix()] = (st.st_mode, size, st.st_mtime_ns)
    return found


def home_names(home: Path) -> set[str]:
    """Every path in the home, of any kind."""
    return set(listing(home))


def make_socket(path: Path) -> None:
    """Leave a real Unix socket at ``path`` (bound by a relative name: tmp paths are long)."""
    if path.is_socket():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    previous = os.getcwd()
    os.chdir(path.parent)
    try:
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            server.bind(path.name)
        finally:
            server.close()
    finally:
        os.chdir(previous)


def database_dump(data_or_path: bytes | Path) -> list[str]:
    """The SQL dump of a database given as bytes or as a file in the home (read from a copy)."""
    with tempfile.TemporaryDirectory(prefix="codexsnap-test-") as scratch:
        copy = Path(scratch) / "db.sqlite"
        if isinstance(data_or_path, bytes):
            copy.write_bytes(data_or_path)
        else:
            shutil.copyfile(data_or_path, copy)
            wal = data_or_path.with_name(data_or_path.name + "-wal")
            if wal.exists():
                shutil.copyfile(wal, copy.with_name("db.sqlite-wal"))
        db = sqlite3.connect(copy)
        try:
            return list(db.iterdump())
        finally:
            db.close()


def query(data: bytes, sql: str) -> list[tuple[Any, ...]]:
    """Run one query on a database held in memory as bytes."""
    with tempfile.TemporaryDirectory(prefix="codexsnap-test-") as scratch:
        copy = Path(scratch) / "db.sqlite"
        copy.write_bytes(data)
        db = sqlite3.connect(copy)
        try:
            return list(db.execute(sql).fetchall())
        finally:
            db.close()


def loose_permissions(root: Path) -> list[str]:
    """Paths under ``root`` (itself included) that give group or others any access."""
    loose: list[str] = []
    for path in [root, *sorted(root.rglob("*"))]:
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode):
            continue
        if stat.S_IMODE(st.st_mode) & 0o077:
            loose.append(
                f"{path.relative_to(root).as_posix() or '.'} {stat.S_IMODE(st.st_mode):04o}"
            )
    return loose


def plumb(store: Path, *args: str, stdin: bytes = b"") -> str:
    """Run git plumbing on the store, as someone tampering with it would."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_DIR=str(store / "repo.git"),
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="mallory",
        GIT_AUTHOR_EMAIL="mallory@example.com",
        GIT_COMMITTER_NAME="mallory",
        GIT_COMMITTER_EMAIL="mallory@example.com",
    )
    done = subprocess.run(["git", *args], input=stdin, capture_output=True, env=env, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout.decode("utf-8", "surrogateescape").strip()


def home_ref(home: Path) -> str:
    return f"refs/codexsnap/homes/{home_id(home)}"


Manifest = dict[str, dict[str, Any]]


Tree = dict[str, str]  # name in files/ -> an ls-tree / mktree line


Tamper = Callable[[Path, Path, Manifest, Tree], None]


def record(store: Path, data: bytes, kind: str = "file", mode: str = "0644") -> dict[str, Any]:
    """A manifest entry for ``data``, its blob written to the store."""
    blob = plumb(store, "hash-object", "-w", "--stdin", stdin=data)
    return {"blob": blob, "mode": mode, "size": len(data), "kind": kind}


def tree_line(mode: str, oid: str, name: str) -> str:
    return f"{mode} {'tree' if mode == '040000' else 'blob'} {oid}\t{name}"


def commit_tampered(store: Path, home: Path, tamper: Tamper, outside: Path) -> str:
    """A snapshot on top of this home's latest, its manifest and files/ tree edited."""
    head = plumb(store, "rev-parse", home_ref(home))
    document = json.loads(plumb(store, "cat-file", "blob", f"{head}:manifest.json"))
    files: Tree = {}
    for line in plumb(store, "ls-tree", f"{head}:files").splitlines():
        files[line.split("\t", 1)[1]] = line
    tamper(store, outside, document["files"], files)
    manifest = record(store, json.dumps(document, indent=1).encode() + b"\n")["blob"]
    files_tree = plumb(store, "mktree", stdin="".join(f"{v}\n" for v in files.values()).encode())
    root_lines = [
        line
        for line in plumb(store, "ls-tree", head).splitlines()
        if line.split("\t", 1)[1] not in ("files", "manifest.json")
    ]
    root_lines += [tree_line("100644", manifest, "manifest.json")]
    root_lines += [tree_line("040000", files_tree, "files")]
    root = plumb(store, "mktree", stdin="".join(f"{v}\n" for v in root_lines).encode())
    commit = plumb(store, "commit-tree", root, "-p", head, "-m", "snapshot: tampered")
    plumb(store, "update-ref", home_ref(home), commit, head)
    return commit
