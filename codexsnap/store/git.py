"""GitRepository: the only code that runs git.

Every git process gets an environment built as a new dict: nothing named ``GIT_*`` is
inherited, so an outer ``GIT_DIR``, ``GIT_INDEX_FILE``, ``GIT_OBJECT_DIRECTORY`` or
``GIT_CONFIG_PARAMETERS`` cannot redirect a read or a write, and ``os.environ`` is never
edited (pre-commit's ``no_git_env`` does the same).

Objects are read through one persistent ``git cat-file --batch`` process of ours, started
with that environment (store/git_objects.py reads, store/git_blobs.py writes; their git
commands run through ``run`` here): 200 blobs are 200 lines on one pipe, not 200
processes. GitPython used to read them, but it cannot be isolated without editing
``os.environ``: importing it runs ``git version`` (honouring an inherited
``GIT_PYTHON_GIT_EXECUTABLE`` and ``GIT_TRACE``), its ``Repo`` reads
``GIT_OBJECT_DIRECTORY`` and ``GIT_COMMON_DIR`` from ``os.environ``, and it starts every
process from ``os.environ`` plus additions. Commits and trees are simple enough to parse
ourselves (store/objects.py).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import IO

from codexsnap.errors import StoreError
from codexsnap.store.git_blobs import BlobWriting
from codexsnap.store.git_objects import BatchReader

MIN_GIT = (2, 32)  # GIT_CONFIG_GLOBAL, which keeps the user's ~/.gitconfig out
IDENTITY = ("codexsnap", "codexsnap@localhost")


def git_environment(git_dir: Path | None, index_file: Path | None = None) -> dict[str, str]:
    """A new environment for git: the caller's minus every GIT_*, plus our isolation."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    name, email = IDENTITY
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


class GitRepository(BlobWriting):
    """The bare repository of one store, driven through the git CLI with a clean environment."""

    def __init__(self, root: Path, git_dir: Path) -> None:
        self.root = root
        self.git_dir = git_dir
        self._objects: BatchReader | None = None

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
            raise self.failed(args[0], done.stderr, done.returncode)
        return done.stdout.decode("utf-8", errors="surrogateescape")

    def start(self, *args: str, stderr: IO[bytes]) -> subprocess.Popen[bytes]:
        """Start one git command fed through its stdin, isolated exactly as ``run``."""
        try:
            return subprocess.Popen(
                ["git", *self.forced_config(), *args],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                env=git_environment(self.git_dir),
                cwd=self.root,
                umask=0o077,
                process_group=0,  # its own group: see above check_git_version
            )
        except FileNotFoundError:
            raise StoreError("git is not installed", hint="Install git 2.32 or newer.") from None

    def failed(self, command: str, stderr: bytes, returncode: int) -> StoreError:
        """The error of a git command that exited with ``returncode``."""
        detail = stderr.decode(errors="replace").strip().splitlines()
        return StoreError(
            f"git {command} failed in the store {self.root}: "
            f"{detail[-1] if detail else 'exit ' + str(returncode)}",
            hint="Run 'codexsnap check': it reports the damage; the readable snapshots stay.",
        )

    def _reader(self) -> BatchReader:
        if self._objects is None:
            self._objects = BatchReader(
                ["git", *self.forced_config(), "cat-file", "--batch"],
                git_environment(self.git_dir),
                self.root,
            )
        return self._objects

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
