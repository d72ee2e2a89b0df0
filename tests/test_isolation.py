"""git runs isolated: inherited variables, a hostile ~/.gitconfig and a planted repository
inside the Codex home change nothing, and the store is readable by its owner only."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codexsnap.commands.fix import fix
from codexsnap.commands.history import history
from codexsnap.recipes import RecipeOptions
from codexsnap.store import SnapshotStore
from tests.helpers import file_states, run
from tests.storetools import (
    git_env,
    git_text,
    loose_permissions,
    roll,
    stored_bytes,
    stored_files,
    take,
    yes,
)

GLOBAL = ".codex-global-state.json"
ENROLL = "electron-remote-control-client-enrollments"
HOOK_NAMES = (
    "pre-commit",
    "prepare-commit-msg",
    "commit-msg",
    "post-commit",
    "reference-transaction",
    "post-index-change",
    "pre-auto-gc",
    "post-checkout",
)


def trap_script(path: Path, marker: Path) -> Path:
    """An executable that leaves a line in ``marker`` when anything runs it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'#!/bin/sh\necho "$0 $*" >> "{marker}"\ncat >/dev/null 2>&1 || true\n')
    path.chmod(0o755)
    return path


def trap_hooks(folder: Path, marker: Path) -> Path:
    """A hooks folder in which every hook git could run is a trap."""
    for name in HOOK_NAMES:
        trap_script(folder / name, marker)
    return folder


def crlf_files(home: Path) -> None:
    """Line endings git would love to convert."""
    config = home / "config.toml"
    config.write_bytes(config.read_bytes().replace(b"\n", b"\r\n"))
    (home / "AGENTS.md").write_bytes(b"# Rules\r\n\r\nmixed\nendings\r\nlone\rcr\r\n")
    (home / "rules" / "mixed.rules").write_bytes(b"a\r\nb\nc\r")


def fix_then_roll_back(cli: CliRunner, home: Path) -> None:
    """snapshot, fix, edit, then roll back to the snapshot before the fix, through the CLI."""
    code, _out, err = run(cli, "snapshot", "-m", "first")
    assert code == 0, err
    code, out, err = run(cli, "fix", "--yes", "--force", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["changed"]
    assert ENROLL not in json.loads((home / GLOBAL).read_bytes())
    # Line endings changed by hand: the rollback has to write them back from the store.
    for relpath in ("config.toml", "AGENTS.md"):
        path = home / relpath
        path.write_bytes(path.read_bytes().replace(b"\r\n", b"\n"))
    code, _out, err = run(cli, "rollback", "--yes", "--force", result["snapshot_before"])
    assert code == 0, err


def assert_commits_are_plain(store: Path) -> None:
    """Every commit by codexsnap itself, and none signed."""
    ids = git_text(store, "rev-list", "--all").split()
    assert ids
    people = git_text(store, "log", "--all", "--format=%an <%ae>|%cn <%ce>").splitlines()
    assert set(people) == {"codexsnap <codexsnap@localhost>|codexsnap <codexsnap@localhost>"}
    for commit in ids:
        assert "gpgsig" not in git_text(store, "cat-file", "commit", commit)


def tree_state(root: Path) -> dict[str, tuple[int, bytes | None, int]]:
    """Every entry under ``root``: mode, bytes (files) and mtime."""
    found: dict[str, tuple[int, bytes | None, int]] = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        data = path.read_bytes() if stat.S_ISREG(st.st_mode) else None
        found[path.relative_to(root).as_posix()] = (st.st_mode, data, st.st_mtime_ns)
    return found


# ----- inherited environment ------------------------------------------------------------


def make_decoy(root: Path) -> Path:
    """An ordinary repository with one commit, which an inherited GIT_DIR points at."""
    work = root / "decoy"
    work.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="decoy",
        GIT_AUTHOR_EMAIL="decoy@example.com",
        GIT_COMMITTER_NAME="decoy",
        GIT_COMMITTER_EMAIL="decoy@example.com",
    )
    (work / "decoy.txt").write_text("decoy\n")
    for args in (["init", "-q"], ["add", "decoy.txt"], ["commit", "-q", "-m", "decoy"]):
        subprocess.run(["git", *args], cwd=work, env=env, check=True, capture_output=True)
    return work


def test_inherited_git_variables_change_nothing(
    cli: CliRunner,
    codex_home: Path,
    store_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    decoy = make_decoy(tmp_path)
    marker = tmp_path / "marker.log"
    hooks = trap_hooks(tmp_path / "env-hooks", marker)
    planted = {
        "GIT_DIR": str(decoy / ".git"),
        "GIT_WORK_TREE": str(codex_home),
        "GIT_INDEX_FILE": str(decoy / ".git" / "index"),
        "GIT_OBJECT_DIRECTORY": str(decoy / ".git" / "objects"),
        "GIT_ALTERNATE_OBJECT_DIRECTORIES": str(decoy / ".git" / "objects"),
        "GIT_COMMON_DIR": str(decoy / ".git"),
        "GIT_NAMESPACE": "decoy",
        "GIT_TRACE": str(tmp_path / "trace.log"),
        "GIT_CONFIG_COUNT": "2",
        "GIT_CONFIG_KEY_0": "core.hooksPath",
        "GIT_CONFIG_VALUE_0": str(hooks),
        "GIT_CONFIG_KEY_1": "commit.gpgSign",
        "GIT_CONFIG_VALUE_1": "true",
        "GIT_CONFIG_PARAMETERS": "'gpg.program'='/bin/false'",
        "GIT_AUTHOR_NAME": "Mallory",
        "GIT_COMMITTER_NAME": "Mallory",
        "GIT_CONFIG_GLOBAL": str(tmp_path / "nowhere.gitconfig"),
    }
    decoy_before = tree_state(decoy)

    def plant() -> None:
        # Set again before every command, in case any step dropped them from this process.
        for name, value in planted.items():
            monkeypatch.setenv(name, value)

    plant()
    first = take(codex_home, store_root, "with a hostile environment")
    assert first.created
    (codex_home / "AGENTS.md").write_bytes(b"changed\n")
    plant()
    second = take(codex_home, store_root)
    plant()
    assert [s.id for s in history(codex_home, store_root, None)] == [
        second.snapshot.id,
        first.snapshot.id,
    ]
    plant()
    roll(codex_home, store_root, first.snapshot.id)
    plant()
    code, out, err = run(cli, "history", "--json")
    assert code == 0, err
    assert len(json.loads(out)) == 4  # two snapshots, before and after the rollback

    assert tree_state(decoy) == decoy_before
    assert not marker.exists()
    assert not (tmp_path / "trace.log").exists()
    refs = git_text(store_root, "for-each-ref", "--format=%(refname)").split()
    # Besides the home's ref, one per snapshot (store/index.py), and nothing else.
    ref = [r for r in refs if not r.startswith("refs/codexsnap/snapshots/")]
    assert len(refs) == len(ref) + 4
    assert len(ref) == 1 and ref[0].startswith("refs/codexsnap/homes/")
    assert git_text(store_root, "cat-file", "-t", first.snapshot.id).strip() == "commit"
    assert (codex_home / "AGENTS.md").read_bytes() == b"# Agent rules\n\nAlways run the tests.\n"
    assert_commits_are_plain(store_root)

    # The trap was armed: plain git with these variables does use the decoy and the hooks.
    env = {**os.environ, **planted}
    subprocess.run(["git", "update-ref", "refs/heads/probe", "HEAD"], env=env, check=True)
    assert marker.exists() and (tmp_path / "trace.log").exists()
    assert tree_state(decoy) != decoy_before


def test_opening_a_store_leaves_the_environment_alone(
    codex_home: Path, store_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoy = make_decoy(tmp_path)
    monkeypatch.setenv("GIT_DIR", str(decoy / ".git"))
    monkeypatch.setenv("GIT_OBJECT_DIRECTORY", str(decoy / ".git" / "objects"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(decoy / ".git" / "index"))
    before = dict(os.environ)
    first = take(codex_home, store_root, "first")
    with SnapshotStore.open(store_root, create=False) as store:
        assert dict(os.environ) == before
        snapshot = store.resolve(codex_home, first.snapshot.id)
        records = store.records(snapshot)
        assert store.read_blob(records["AGENTS.md"].blob) == (codex_home / "AGENTS.md").read_bytes()
    SnapshotStore(store_root)
    assert dict(os.environ) == before


# ----- hostile global configuration -----------------------------------------------------


def hostile_gitconfig(folder: Path, marker: Path) -> str:
    """A global configuration that would run, sign, convert or ignore whatever it could."""
    hooks = trap_hooks(folder / "hooks", marker)
    template = folder / "template"
    trap_hooks(template / "hooks", marker)
    (folder / "attributes").write_text("* text eol=crlf filter=evil ident\n")
    (folder / "ignore").write_text("*\n")
    script = trap_script(folder / "trap", marker)
    return f"""\
[user]
    name = Mallory
    email = mallory@example.com
[core]
    hooksPath = {hooks}
    autocrlf = true
    safecrlf = true
    eol = crlf
    excludesFile = {folder / "ignore"}
    attributesFile = {folder / "attributes"}
    fsmonitor = {script}
    sharedRepository = world
[init]
    templateDir = {template}
[commit]
    gpgSign = true
[gpg]
    program = /bin/false
[filter "evil"]
    clean = {script} clean
    smudge = {script} smudge
    required = true
[gc]
    auto = 1
    autoDetach = false
[log]
    showSignature = true
"""


def test_hostile_global_git_config_has_no_effect(
    cli: CliRunner, codex_home: Path, store_root: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "marker.log"
    config = hostile_gitconfig(tmp_path / "hostile", marker)
    user_home = Path(os.environ["HOME"])
    (user_home / ".gitconfig").write_text(config)
    xdg = Path(os.environ["XDG_CONFIG_HOME"]) / "git"
    xdg.mkdir(parents=True)
    (xdg / "config").write_text(config)
    crlf_files(codex_home)
    original = file_states(codex_home)

    fix_then_roll_back(cli, codex_home)

    assert file_states(codex_home) == original
    assert not marker.exists()
    newest = history(codex_home, store_root, 1)[0].id  # after the rollback
    for relpath in ("config.toml", "AGENTS.md", "rules/mixed.rules"):
        assert stored_bytes(store_root, newest, relpath) == original[relpath][0]
    assert_commits_are_plain(store_root)
    assert not (store_root / "repo.git" / "hooks").exists()
    assert loose_permissions(store_root) == []

    # The trap was armed: plain git with this configuration does fire it.
    scratch = tmp_path / "scratch"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    subprocess.run(["git", "init", "-q", str(scratch)], env=env, capture_output=True, check=True)
    subprocess.run(
        ["git", "commit", "-q", "--allow-empty", "-m", "x"],
        cwd=scratch,
        env=env,
        capture_output=True,
        check=False,
    )
    assert marker.exists()


# ----- a repository planted inside the Codex home ---------------------------------------


def test_planted_repository_inside_the_home_is_never_used(
    cli: CliRunner, codex_home: Path, store_root: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "marker.log"
    script = trap_script(tmp_path / "trap", marker)
    dot_git = codex_home / ".git"
    for sub in ("objects", "refs/heads", "info"):
        (dot_git / sub).mkdir(parents=True)
    (dot_git / "HEAD").write_text("ref: refs/heads/main\n")
    (dot_git / "config").write_text(
        f"""\
[core]
    repositoryformatversion = 0
    bare = false
    fsmonitor = {script}
    hooksPath = {trap_hooks(dot_git / "hooks", marker)}
    autocrlf = true
[filter "evil"]
    clean = {script} clean
    smudge = {script} smudge
    required = true
"""
    )
    (codex_home / ".gitattributes").write_bytes(b"* text eol=crlf filter=evil\n*.toml ident\n")
    (codex_home / ".gitignore").write_bytes(b"config.toml\n*.md\n")
    config = codex_home / "config.toml"
    config.write_bytes(b"# $Id$\r\n" + config.read_bytes().replace(b"\n", b"\r\n"))
    original = file_states(codex_home)
    assert ".git/config" not in original  # out of scope: codexsnap never copies a repository

    fix_then_roll_back(cli, codex_home)

    assert not marker.exists()
    assert file_states(codex_home) == original
    snapshots = history(codex_home, store_root, None)
    for snapshot in snapshots:
        files = stored_files(store_root, snapshot.id)
        assert {"config.toml", ".gitattributes", ".gitignore", "AGENTS.md"} <= files
        assert not any(p == ".git" or p.startswith(".git/") for p in files)
    for snapshot in (snapshots[0], snapshots[-1]):  # after the rollback, and the first
        assert stored_bytes(store_root, snapshot.id, "config.toml") == original["config.toml"][0]

    # The trap was armed: plain git run in the home does fire it.
    env = {k: v for k, v in git_env(dot_git).items() if k != "GIT_DIR"}
    subprocess.run(["git", "status"], cwd=codex_home, env=env, capture_output=True, check=False)
    assert marker.exists()


# ----- permissions ------------------------------------------------------------------------


def use_the_store(codex_home: Path, store_root: Path) -> None:
    """Exercise every kind of file the store holds: objects, refs, logs, cache, lock."""
    first = take(codex_home, store_root)
    fixed = fix(
        codex_home,
        store_root,
        "remote-control",
        RecipeOptions(),
        dry_run=False,
        force=True,
        show_secrets=False,
        confirm=yes,
    )
    assert fixed.changed
    (codex_home / "AGENTS.md").write_bytes(b"changed\n")
    roll(codex_home, store_root, first.snapshot.id)
    roll(codex_home, store_root, first.snapshot.id, dry_run=True)


@pytest.mark.parametrize("umask", [0o022, 0o000], ids=["umask-022", "umask-000"])
def test_store_is_private_to_its_owner(codex_home: Path, store_root: Path, umask: int) -> None:
    previous = os.umask(umask)
    try:
        use_the_store(codex_home, store_root)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(store_root.stat().st_mode) == 0o700
    objects = [p for p in (store_root / "repo.git" / "objects").rglob("*") if p.is_file()]
    assert len(objects) > 10
    assert (store_root / "cache").is_dir() and any((store_root / "cache").iterdir())
    assert loose_permissions(store_root) == []


def test_an_existing_empty_store_folder_is_made_private(codex_home: Path, store_root: Path) -> None:
    store_root.mkdir(mode=0o755)
    store_root.chmod(0o755)
    take(codex_home, store_root)
    assert stat.S_IMODE(store_root.stat().st_mode) == 0o700
    assert loose_permissions(store_root) == []
