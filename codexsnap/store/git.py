"""GitRepository: the only code that runs git.

Every git process gets an environment built as a new dict: nothing named ``GIT_*`` is
inherited, so an outer ``GIT_DIR``, ``GIT_INDEX_FILE``, ``GIT_OBJECT_DIRECTORY`` or
``GIT_CONFIG_PARAMETERS`` cannot redirect a read or a write, and ``os.environ`` is never
edited (pre-commit's ``no_git_env`` does the same).

Objects are read through one persistent ``git cat-file --batch`` process of ours, started
with that environment: 200 blobs are 200 lines on one pipe, not 200 processes. GitPython
used to read them, but it cannot be isolated without editing ``os.environ``: importing it
runs ``git version`` (honouring an inherited ``GIT_PYTHON_GIT_EXECUTABLE`` and
``GIT_TRACE``), its ``Repo`` reads ``GIT_OBJECT_DIRECTORY`` and ``GIT_COMMON_DIR`` from
``os.environ``, and it starts every process from ``os.environ`` plus additions. Commits and
trees are simple enough to parse ourselves (store/objects.py).
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from codexsnap.errors import StateFileInvalidError, StoreError
from codexsnap.store.objects import TREE_MODE, Commit, blob_id, parse_tree

MIN_GIT = (2, 32)  # GIT_CONFIG_GLOBAL, which keeps the user's ~/.gitconfig out
_IDENTITY = ("codexsnap", "codexsnap@localhost")


def git_environment(git_dir: Path | None, index_file: Path | None = None) -> dict[str, str]:
    """A new environment for git: the caller's minus every GIT_*, plus our isolation."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    name, email = _IDENTITY
    env.update(
        {
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_OPTIONAL_LOCKS": "0",
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
            "LC_ALL": "C",
        }
    )
    if git_dir is not None:
        env["GIT_DIR"] = str(git_dir)
    if index_file is not None:
        env["GIT_INDEX_FILE"] = str(index_file)
    return env


# Every git process runs in a process group of its own: Ctrl-C in a terminal sends SIGINT to
# the whole foreground group, and a git killed by it mid-operation (the cat-file reader
# above all) would leave codexsnap unable to read the "before" blobs it puts back. The
# session stays the same, so the process still dies with its terminal. stdin is never the
# terminal's: a git in a background group reading it would be stopped (SIGTTIN).


def check_git_version() -> None:
    """Refuse a git too old to be kept away from the user's configuration."""
    try:
        out = subprocess.run(
            ["git", "version"],
            capture_output=True,
            text=True,
            check=True,
            env=git_environment(None),
            stdin=subprocess.DEVNULL,
            process_group=0,  # its own group: see above check_git_version
        )
    except (OSError, subprocess.CalledProcessError):
        raise StoreError("git is not installed", hint="Install git 2.32 or newer.") from None
    found = re.search(r"(\d+)\.(\d+)", out.stdout)
    if found is None or (int(found[1]), int(found[2])) < MIN_GIT:
        raise StoreError(
            f"{out.stdout.strip()} is too old to be isolated from your git configuration",
            hint="Install git 2.32 or newer.",
        )


blob_hash = blob_id  # the id git gives these bytes as a blob (store/objects.py)


class GitRepository:
    """The bare repository of one store, driven through the git CLI with a clean environment."""

    def __init__(self, root: Path, git_dir: Path) -> None:
        self.root = root
        self.git_dir = git_dir
        self._objects: _BatchReader | None = None

    def forced_config(self) -> list[str]:
        """``-c`` options given to every git call."""
        # Set on every call, so a store whose config was tampered with still runs no hook
        # and no fsmonitor command.
        return [
            "-c",
            f"core.hooksPath={self.root / 'no-hooks'}",
            "-c",
            "core.fsmonitor=false",
            "-c",
            "core.protectNTFS=false",  # names like "git~1" are ordinary files here
            "-c",
            "core.protectHFS=false",
        ]

    def run(
        self,
        *args: str,
        stdin: bytes | None = None,
        git_dir: bool = True,
        index_file: Path | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> str:
        """Run one git command on the repository; its output, or StoreError when it fails."""
        env = {
            **git_environment(self.git_dir if git_dir else None, index_file),
            **(extra_env or {}),
        }
        try:
            done = subprocess.run(
                ["git", *self.forced_config(), *args],
                input=stdin,
                stdin=subprocess.DEVNULL if stdin is None else None,
                capture_output=True,
                env=env,
                cwd=self.root,
                check=False,
                umask=0o077,
                process_group=0,  # its own group: see above check_git_version
            )
        except FileNotFoundError:
            raise StoreError("git is not installed", hint="Install git 2.32 or newer.") from None
        if done.returncode != 0:
            detail = done.stderr.decode(errors="replace").strip().splitlines()
            raise StoreError(
                f"git {args[0]} failed in the store {self.root}: "
                f"{detail[-1] if detail else 'exit ' + str(done.returncode)}",
                hint="Run 'codexsnap check': it reports the damage; the readable snapshots stay.",
            )
        return done.stdout.decode("utf-8", errors="surrogateescape")

    # ----- objects --------------------------------------------------------------------

    def _reader(self) -> _BatchReader:
        if self._objects is None:
            self._objects = _BatchReader(self)
        return self._objects

    def commit(self, commit_id: str) -> Commit:
        """One commit, parsed from its object."""
        kind, data = self._reader().read(commit_id)
        if kind != "commit":
            raise ValueError(f"{commit_id} is a {kind}, not a commit")
        return Commit.parse(commit_id, data)

    def top_level(self, commit_id: str) -> dict[str, tuple[int, str]]:
        """name -> (mode, object id) of the entries at the top of a commit's tree."""
        return self._entries(self.commit(commit_id).tree)

    def file_in(self, commit_id: str, name: str) -> bytes | None:
        """A file at the top of a commit's tree (None when the tree has no such entry)."""
        entry = self._entries(self.commit(commit_id).tree).get(name)
        if entry is None:
            return None
        return self.read_blob(entry[1])

    def read_blob(self, blob: str) -> bytes:
        """The bytes of one object."""
        return self._reader().read(blob)[1]

    def tree_files(self, commit_id: str, folder: str) -> Iterator[tuple[str, str, int]]:
        """(path, blob, mode) of every non-tree entry under ``folder``; nothing when absent."""
        entry = self._entries(self.commit(commit_id).tree).get(folder)
        if entry is None:
            return
        if entry[0] != TREE_MODE:
            raise ValueError(f"{folder} is not a folder in {commit_id}")
        yield from self._walk(entry[1], folder)

    def _walk(self, tree: str, prefix: str) -> Iterator[tuple[str, str, int]]:
        for name, (mode, sha) in self._entries(tree).items():
            path = f"{prefix}/{name}"
            if mode == TREE_MODE:
                yield from self._walk(sha, path)
            else:
                yield path, sha, mode

    def _entries(self, tree: str) -> dict[str, tuple[int, str]]:
        kind, data = self._reader().read(tree)
        if kind != "tree":
            raise ValueError(f"{tree} is a {kind}, not a tree")
        return parse_tree(data)

    def object_sizes(self, blobs: list[str]) -> dict[str, int | None]:
        """Size of each object, None when the store lacks it."""
        if not blobs:
            return {}
        out = self.run("cat-file", "--batch-check", stdin="".join(f"{b}\n" for b in blobs).encode())
        sizes: dict[str, int | None] = {}
        for blob, line in zip(blobs, out.splitlines(), strict=False):
            parts = line.split()
            sizes[blob] = int(parts[2]) if len(parts) == 3 and parts[1] == "blob" else None
        return sizes

    def hash_files(self, paths: list[Path], write: bool) -> list[str | None]:
        """Blob ids, in order; None for a file that vanished before it could be read."""
        if not paths:
            return []
        # --stdin-paths reads lines and strips a trailing CR: such names go one by one.
        plain = [p for p in paths if "\n" not in str(p) and "\r" not in str(p)]
        blobs: dict[Path, str | None] = {}
        store_flag = ["-w"] if write else []
        if plain:
            try:
                out = self.run(
                    "hash-object",
                    *store_flag,
                    "--no-filters",
                    "--stdin-paths",
                    stdin="".join(f"{p}\n" for p in plain).encode("utf-8", "surrogateescape"),
                )
                blobs.update(zip(plain, out.split(), strict=True))
            except StoreError:
                # A file vanished (Codex deletes its temporary files) or cannot be read:
                # find which, one at a time.
                blobs.update((p, self._hash_one(p, store_flag)) for p in plain)
        for odd in (p for p in paths if p not in blobs):
            blobs[odd] = self._hash_one(odd, store_flag)
        return [blobs[p] for p in paths]

    def _hash_one(self, path: Path, store_flag: list[str]) -> str | None:
        try:
            data = path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            # Gone since the walk, or a folder now in its place (or in its parent's): no
            # file of that name is there to hold. The next snapshot sees what replaced it.
            return None
        except PermissionError:
            raise StateFileInvalidError(
                f"{path} cannot be read (permission denied), so it cannot be snapshotted",
                hint="Run codexsnap as the owner of the Codex home, or exclude that path in "
                "the store's scope.toml.",
            ) from None
        return self.run("hash-object", *store_flag, "--no-filters", "--stdin", stdin=data).strip()

    def read_verified(self, blob: str) -> bytes | None:
        """The bytes of one blob when they hash to its id; None when missing or damaged.

        ``cat-file`` does not check what it inflates against the id: a damaged object whose
        bytes still inflate would be restored as if it were the file.
        """
        try:
            kind, data = self._reader().read(blob)
        except (ValueError, OSError, StoreError):
            return None
        return data if kind == "blob" and blob_hash(data) == blob else None

    def write_back(self, blob: str, data: bytes) -> bool:
        """Store ``data`` again as the object ``blob``, found missing or corrupt (call with
        the store locked): True when the object now reads back whole."""
        if blob_hash(data) != blob:
            return False
        try:
            # git keeps an object file it already has, even a corrupt one: remove it first.
            (self.git_dir / "objects" / blob[:2] / blob[2:]).unlink(missing_ok=True)
            self.close()  # the reader may hold the bad object's pack entry in mind
            written = self.run("hash-object", "-w", "--stdin", stdin=data).strip()
            if written == blob and self.read_verified(blob) is not None:
                return True
            # A corrupt copy in a pack makes hash-object write nothing ("already there");
            # git reads the loose object once the pack entry fails, so write that ourselves,
            # then repack so the pack holds it whole again (git fsck would go on naming the
            # bad entry). -A: an unreachable packed object is kept loose, never dropped.
            self._write_loose(blob, data)
            self.close()
            with contextlib.suppress(StoreError):  # the loose copy already serves reads
                self.run("repack", "-A", "-d", "-q")
        except (OSError, StoreError):
            return False  # a full disk, a read-only store: the damage stays, and is named
        finally:
            self.close()
        return self.read_verified(blob) is not None

    def _write_loose(self, blob: str, data: bytes) -> None:
        folder = self.git_dir / "objects" / blob[:2]
        folder.mkdir(mode=0o700, exist_ok=True)
        temporary = folder / f"tmp_obj_codexsnap_{os.getpid()}"
        temporary.write_bytes(zlib.compress(b"blob %d\0" % len(data) + data))
        temporary.chmod(0o444)
        os.replace(temporary, folder / blob[2:])

    def write_blobs(self, datas: list[bytes], known: set[str]) -> list[str]:
        """Store each of ``datas`` as a blob (one git process for all); their ids.

        Ids are computed here; those in ``known`` (objects the store has) are not written
        again. The rest go through ``hash-object -w``, so git writes them as it writes every
        object, under the store's ``core.fsync`` setting.
        """
        ids = [blob_id(data) for data in datas]
        missing = {i: d for i, d in zip(ids, datas, strict=True) if i not in known}
        if missing:
            # Named relative to the store (git runs there): a line break in the store's own
            # path cannot split a line of --stdin-paths.
            name = f"tmp/blobs-{os.getpid()}-{os.urandom(4).hex()}"
            folder = self.root / name
            folder.mkdir(parents=True, exist_ok=True)
            try:
                paths = []
                for number, data in enumerate(missing.values()):
                    (folder / str(number)).write_bytes(data)
                    paths.append(f"{name}/{number}")
                written = self.run(
                    "hash-object",
                    "-w",
                    "--no-filters",
                    "--stdin-paths",
                    stdin="".join(f"{p}\n" for p in paths).encode(),
                ).split()
            finally:
                for child in folder.iterdir():
                    child.unlink()
                folder.rmdir()
            if written != list(missing):
                raise StoreError(
                    f"git stored blobs under other ids than their contents give: {written[:1]}",
                    hint="Run 'codexsnap check'.",
                )
        return ids

    def fsck(self) -> list[str]:
        """git's own verdict on the repository: every problem it prints."""
        done = subprocess.run(
            ["git", "fsck", "--full", "--no-dangling", "--no-progress"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=git_environment(self.git_dir),
            cwd=self.root,
            check=False,
            process_group=0,  # its own group: see above check_git_version
        )
        lines = (done.stdout + done.stderr).decode(errors="replace").splitlines()
        # "notice:" lines (an unborn HEAD in a bare store) are not damage.
        problems = [line for line in lines if line.strip() and not line.startswith("notice:")]
        if done.returncode != 0 and not problems:
            problems = [f"git fsck exited with {done.returncode}"]
        return problems

    def close(self) -> None:
        """Stop the persistent cat-file process."""
        if self._objects is not None:
            self._objects.close()
            self._objects = None


class _BatchReader:
    """One ``git cat-file --batch`` of ours, kept running: one process for every read."""

    def __init__(self, repository: GitRepository) -> None:
        self._repository = repository
        self._process: subprocess.Popen[bytes] | None = None

    def _pipes(self) -> tuple[IO[bytes], IO[bytes]]:
        if self._process is None:
            repo = self._repository
            try:
                self._process = subprocess.Popen(
                    ["git", *repo.forced_config(), "cat-file", "--batch"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    env=git_environment(repo.git_dir),
                    cwd=repo.root,
                    process_group=0,  # its own group: see above check_git_version
                )
            except FileNotFoundError:
                raise StoreError(
                    "git is not installed", hint="Install git 2.32 or newer."
                ) from None
        assert self._process.stdin is not None and self._process.stdout is not None
        return self._process.stdin, self._process.stdout

    def read(self, object_id: str) -> tuple[str, bytes]:
        """(type, content) of one object; ValueError when the store lacks it or it is corrupt."""
        if "\n" in object_id or " " in object_id:
            raise ValueError(f"{object_id!r} is not an object id")
        stdin, stdout = self._pipes()
        try:
            return self._exchange(object_id, stdin, stdout)
        except BaseException:
            # A dead or confused process, or Ctrl-C between the request and its answer (the
            # answer would be read as the next object's): start afresh on the next read.
            self.close()
            raise

    @staticmethod
    def _exchange(object_id: str, stdin: IO[bytes], stdout: IO[bytes]) -> tuple[str, bytes]:
        try:
            stdin.write(object_id.encode() + b"\n")
            stdin.flush()
        except BrokenPipeError:
            raise ValueError(f"object {object_id} could not be read") from None
        header = stdout.readline().decode(errors="replace").split()
        if len(header) != 3:
            raise ValueError(f"object {object_id} could not be read: {' '.join(header)}")
        size = int(header[2])
        # The content, then its line break apart: slicing one off would copy a 55 MB
        # transcript a second time.
        data = stdout.read(size)
        if len(data) != size or stdout.read(1) != b"\n":
            raise ValueError(f"object {object_id} was cut short")
        return header[1], data

    def close(self) -> None:
        if self._process is not None:
            process, self._process = self._process, None
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    pipe.close()
            process.wait()
