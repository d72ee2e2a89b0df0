"""A snapshot's tree built from its parent's (store/trees.py): the very tree git's
``write-tree`` makes for the same files, only the trees on the changed paths written, git's
name refusals kept, and a damaged or untrusted parent tree never copied forward."""

from __future__ import annotations

import json
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from codexsnap.errors import StoreError
from codexsnap.store import SnapshotStore
from codexsnap.store.commit import write_tree
from codexsnap.store.git import GitRepository
from codexsnap.store.loose import write_loose
from codexsnap.store.manifest import FileRecord
from codexsnap.store.trees import TreeMismatchError, next_tree, refused_name
from tests.helpers import git_in_store, run
from tests.storetools import Manifest, Tree, commit_tampered, git_env, home_ref, take


@pytest.fixture
def git(codex_home: Path, store_root: Path) -> Iterator[GitRepository]:
    """The store's repository, created by a first snapshot."""
    take(codex_home, store_root)
    store = SnapshotStore.open(store_root, create=False)
    yield store.git
    store.close()


def _records(git: GitRepository, files: dict[str, tuple[bytes, int, str]]) -> dict[str, FileRecord]:
    """Records of these (content, mode, kind) files, their blobs stored."""
    blobs = git.write_blobs([data for data, _, _ in files.values()], set())
    return {
        path: FileRecord(path, blob, mode, len(data), kind)
        for (path, (data, mode, kind)), blob in zip(files.items(), blobs, strict=True)
    }


def _built(
    git: GitRepository, parent: str, old: dict[str, FileRecord], new: dict[str, FileRecord]
) -> str:
    """The tree of ``new`` built from the tree ``parent`` of ``old``, its objects written."""
    tree, written = next_tree(git.read_object, parent, old, new, {"manifest.json": b"{}\n"})
    for data in written.values():
        write_loose(git.git_dir, b"tree", data)
    return tree


NOTES = {"manifest.json": b"{}\n"}
BASE = {
    "AGENTS.md": (b"agents\n", 0o644, "file"),
    "a/b/c.txt": (b"c\n", 0o600, "file"),
    "a/b/d.txt": (b"d\n", 0o644, "file"),
    "a/b-c": (b"sorts before a/b/ but after a/b\n", 0o644, "file"),
    "a/b.txt": (b"between a/b and a/b/\n", 0o644, "file"),
    "run.sh": (b"#!/bin/sh\n", 0o755, "file"),
    "link": (b"AGENTS.md", 0o777, "symlink"),
    "x/y/z/deep": (b"deep\n", 0o644, "file"),
    "\udcff-not-utf8": (b"raw name\n", 0o644, "file"),
}
CHANGES: dict[str, dict[str, tuple[bytes, int, str] | None]] = {
    "one file changed": {"a/b/c.txt": (b"changed\n", 0o600, "file")},
    "a file added in a new folder": {"n/e/w.txt": (b"new\n", 0o644, "file")},
    "the last file of a deep folder removed": {"x/y/z/deep": None},
    "a file becomes a folder": {"AGENTS.md": None, "AGENTS.md/inside": (b"i\n", 0o644, "file")},
    "a folder becomes a file": {
        "a/b/c.txt": None,
        "a/b/d.txt": None,
        "a/b": (b"f\n", 0o644, "file"),
    },
    "an executable bit set": {"AGENTS.md": (b"agents\n", 0o755, "file")},
    "permissions git does not keep": {"a/b/c.txt": (b"c\n", 0o644, "file")},
    "every file removed": dict.fromkeys(BASE),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_the_tree_built_from_the_parent_is_the_one_git_writes(
    git: GitRepository, change: str
) -> None:
    old = _records(git, BASE)
    parent = write_tree(git, old, {}, manifest=b"{}\n")
    files = {**BASE, **CHANGES[change]}
    new = _records(git, {p: f for p, f in files.items() if f is not None})
    assert _built(git, parent, old, new) == write_tree(git, new, {}, manifest=b"{}\n")


_names = st.sampled_from(["a", "b", "a.b", "a-b", "a b", "ab", "é", "z"])
_paths = st.lists(_names, min_size=1, max_size=4).map("/".join)
_files = st.dictionaries(
    _paths,
    st.tuples(st.binary(max_size=3), st.sampled_from([0o644, 0o755]), st.just("file")),
    max_size=12,
)


def _consistent(files: dict[str, tuple[bytes, int, str]]) -> dict[str, tuple[bytes, int, str]]:
    """Without the paths that are also another path's folder (no home holds both)."""
    return {p: f for p, f in files.items() if not any(q.startswith(p + "/") for q in files)}


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(before=_files, after=_files)
def test_any_change_builds_the_tree_git_writes(
    git: GitRepository,
    before: dict[str, tuple[bytes, int, str]],
    after: dict[str, tuple[bytes, int, str]],
) -> None:
    old = _records(git, _consistent(before))
    new = _records(git, _consistent(after))
    parent = write_tree(git, old, {}, manifest=b"{}\n")
    assert _built(git, parent, old, new) == write_tree(git, new, {}, manifest=b"{}\n")


def test_a_parent_tree_that_disagrees_with_its_manifest_is_not_used(git: GitRepository) -> None:
    old = _records(git, BASE)
    parent = write_tree(git, old, {}, manifest=b"{}\n")
    claimed = {**old, "a/b/c.txt": old["a/b/c.txt"]._replace(blob=old["AGENTS.md"].blob)}
    new = {**claimed, "a/b/c.txt": old["a/b/c.txt"]._replace(blob=old["run.sh"].blob)}
    with pytest.raises(TreeMismatchError):
        next_tree(git.read_object, parent, claimed, new, NOTES)


def test_a_damaged_tree_on_the_changed_path_is_not_copied(git: GitRepository) -> None:
    old = _records(git, BASE)
    parent = write_tree(git, old, {}, manifest=b"{}\n")
    deep = git_in_store(git.root, "rev-parse", f"{parent}:files/x/y").stdout.strip()
    path = git.git_dir / "objects" / deep[:2] / deep[2:]
    path.chmod(0o600)
    path.write_bytes(b"not a zlib stream")
    git.close()
    new = {**old, "x/y/other": old["AGENTS.md"]}
    with pytest.raises(TreeMismatchError):
        next_tree(git.read_object, parent, old, new, NOTES)


# Names git's verify_path refuses, and names it takes that look close to them.
NAMES = [
    ".git",
    ".GIT",
    ".Git",
    "a/.gIt",
    ".git/x",
    "a/.git/b",
    ".",
    "..",
    "a/./b",
    "a/../b",
    "a//b",
    "/a",
    "a/",
    ".gitmodules",
    ".GITMODULES",
    "a/.gitignore",
    ".gitx",
    "x.git",
    "git~1",
    ".git.",
    ".git ",
    "...",
    ".a",
    "a/..b",
    "..a",
    ".GIT~1",
    "ok",
]


def test_names_are_refused_exactly_where_git_refuses_them(git: GitRepository) -> None:
    blob = git.write_blobs([b"x"], set())[0]
    for mode in ("100644", "120000"):
        for name in NAMES:
            index = git.root / "tmp" / "probe-index"
            index.unlink(missing_ok=True)
            line = f"{mode} {blob}\t{name}\0".encode()
            git.run("update-index", "-z", "--add", "--index-info", stdin=line, index_file=index)
            listed = git.run("ls-files", "-z", index_file=index).split("\0")
            taken = name in listed
            assert refused_name(name, mode) == (not taken), (name, mode)


def _git_processes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The git commands run from now on (their subcommand names)."""
    seen: list[str] = []
    real = GitRepository.run

    def counting(self: GitRepository, *args: str, **kwargs: object) -> str:
        seen.append(args[0])
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(GitRepository, "run", counting)
    return seen


def _loose_objects(store: Path) -> set[str]:
    objects = store / "repo.git" / "objects"
    return {
        f"{d.name}{f.name}" for d in objects.glob("??") for f in d.iterdir() if len(f.name) == 38
    }


def _kinds(store: Path, ids: set[str]) -> dict[str, list[str]]:
    done = subprocess.run(
        ["git", "cat-file", "--batch-check"],
        input="".join(f"{i}\n" for i in sorted(ids)),
        capture_output=True,
        text=True,
        env=git_env(store / "repo.git"),
        check=True,
    )
    kinds: dict[str, list[str]] = {}
    for line in done.stdout.splitlines():
        oid, kind, _ = line.split()
        kinds.setdefault(kind, []).append(oid)
    return kinds


def test_a_one_file_snapshot_of_a_2000_file_home_writes_only_the_trees_on_its_path(
    codex_home: Path, store_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for day in range(40):
        folder = codex_home / "memories" / f"day-{day:02d}"
        folder.mkdir(parents=True)
        for n in range(50):
            (folder / f"note-{n:02d}.md").write_text(f"day {day} note {n}\n")
    take(codex_home, store_root)
    take(codex_home, store_root)  # nothing changed: the store now vouches for its tree
    (codex_home / "memories" / "day-17" / "note-03.md").write_text("changed\n")
    before = _loose_objects(store_root)
    commands = _git_processes(monkeypatch)

    taken = take(codex_home, store_root)

    assert taken.created
    new = _kinds(store_root, _loose_objects(store_root) - before)
    # The top, files/, files/memories/, files/memories/day-17/: nothing else is a new tree.
    assert len(new["tree"]) == 4, new
    assert len(new["commit"]) == 1
    # No index of the home's 2,000 entries, no write-tree, no commit-tree: one ref move.
    assert not {"update-index", "ls-files", "write-tree", "commit-tree"} & set(commands), commands
    assert commands.count("update-ref") == 1
    assert git_in_store(store_root, "fsck", "--full", "--no-dangling").returncode == 0


def test_a_snapshot_after_a_tampered_one_holds_what_its_manifest_says(
    cli: CliRunner, codex_home: Path, store_root: Path, tmp_path: Path
) -> None:
    take(codex_home, store_root)
    take(codex_home, store_root)

    def extra_file_in_the_tree(store: Path, _: Path, files: Manifest, tree: Tree) -> None:
        del files
        blob = git_in_store(store, "rev-parse", f"{home_ref(codex_home)}:files/AGENTS.md")
        tree["planted"] = f"100644 blob {blob.stdout.strip()}\tplanted"

    commit_tampered(store_root, codex_home, extra_file_in_the_tree, tmp_path / "outside")
    (codex_home / "AGENTS.md").write_text("changed after the tampering\n")
    code, out, err = run(cli, "snapshot", "-m", "after")
    assert code == 0, out + err
    newest = json.loads(run(cli, "history", "--json")[1])[0]["id"]
    code, out, err = run(cli, "rollback", newest, "--to-dir", str(tmp_path / "review"))
    assert code == 0, out + err  # its tree matches its manifest: not refused as tampered
    assert (tmp_path / "review" / "AGENTS.md").read_text() == "changed after the tampering\n"
    assert not (tmp_path / "review" / "planted").exists()


@pytest.mark.parametrize("first", [True, False], ids=["first snapshot", "later snapshot"])
@pytest.mark.parametrize("name", [".GIT", "deep/.Git"])
def test_a_name_git_refuses_fails_the_snapshot_and_commits_nothing(
    codex_home: Path, store_root: Path, name: str, first: bool
) -> None:
    if not first:
        take(codex_home, store_root)
        take(codex_home, store_root)  # vouched for: the next tree is built from this one
    refused = codex_home / "memories" / name
    refused.parent.mkdir(parents=True, exist_ok=True)
    refused.write_text("git would leave this out\n")
    (codex_home / "AGENTS.md").write_text("changed too\n")
    head = git_in_store(store_root, "rev-parse", "--verify", "-q", home_ref(codex_home))
    with pytest.raises(StoreError, match="git cannot store these file names: memories/"):
        take(codex_home, store_root)
    after = git_in_store(store_root, "rev-parse", "--verify", "-q", home_ref(codex_home))
    assert after.stdout == head.stdout


def test_a_manifest_damaged_into_another_valid_one_is_not_a_base(
    cli: CliRunner, codex_home: Path, store_root: Path, tmp_path: Path
) -> None:
    """cat-file does not check what it inflates: a manifest blob whose bytes became another
    valid manifest (naming a newer content for a file) must not pair with the old tree."""
    (codex_home / "AGENTS.md").write_text("v1\n")
    take(codex_home, store_root)
    take(codex_home, store_root)  # vouched for
    head = git_in_store(store_root, "rev-parse", home_ref(codex_home)).stdout.strip()
    oid = git_in_store(store_root, "rev-parse", f"{head}:manifest.json").stdout.strip()
    document = json.loads(git_in_store(store_root, "cat-file", "blob", oid).stdout)
    (codex_home / "AGENTS.md").write_text("v2\n")
    (codex_home / "memories").mkdir(exist_ok=True)
    (codex_home / "memories" / "new.md").write_text("so that something changed\n")
    v2 = git_in_store(store_root, "hash-object", "-w", str(codex_home / "AGENTS.md"))
    document["files"]["AGENTS.md"]["blob"] = v2.stdout.strip()
    fake = json.dumps(document, separators=(",", ":")).encode() + b"\n"
    path = store_root / "repo.git" / "objects" / oid[:2] / oid[2:]
    path.chmod(0o600)
    path.write_bytes(zlib.compress(b"blob %d\0" % len(fake) + fake))

    take(codex_home, store_root)
    newest = json.loads(run(cli, "history", "--json")[1])[0]["id"]
    code, out, err = run(cli, "rollback", newest, "--to-dir", str(tmp_path / "review"))
    assert code == 0, out + err  # its tree matches its manifest
    assert (tmp_path / "review" / "AGENTS.md").read_text() == "v2\n"
