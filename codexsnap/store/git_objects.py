"""Reading git objects through one persistent ``git cat-file --batch`` of ours.

``ObjectReading`` is the reading half of ``GitRepository`` (store/git.py, which starts the
process with its isolated environment): 200 blobs are 200 lines on one pipe, not 200
processes. Commits and trees are parsed by store/objects.py.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from codexsnap.errors import StoreError
from codexsnap.store.objects import TREE_MODE, Commit, blob_id, parse_tree


class ObjectReading:
    """Commits, trees and blobs read from the store (a mixin of ``GitRepository``)."""

    def _reader(self) -> BatchReader:
        raise NotImplementedError  # GitRepository starts it with the isolated environment

    def run(self, *args: str, stdin: bytes | None = None) -> str:
        raise NotImplementedError  # GitRepository.run

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

    def read_object(self, object_id: str) -> tuple[str, bytes]:
        """(type, content) of one object, unchecked; ValueError when it cannot be read."""
        return self._reader().read(object_id)

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

    def tree_files_at(
        self, commit_id: str, folder: str, paths: list[str]
    ) -> Iterator[tuple[str, str, int]]:
        """(path, blob, mode) of every non-tree entry at or under each of ``paths`` (inside
        ``folder``): only the trees on the way to them are read, not the whole tree."""
        entry: tuple[int, str] | None = self._entries(self.commit(commit_id).tree).get(folder)
        if entry is None:
            return
        if entry[0] != TREE_MODE:
            raise ValueError(f"{folder} is not a folder in {commit_id}")
        top = entry
        for path in paths:
            parts = [part for part in path.split("/") if part]
            entry = top
            for part in parts:
                entry = self._entries(entry[1]).get(part) if entry[0] == TREE_MODE else None
                if entry is None:
                    break
            if entry is None:
                continue
            found = "/".join([folder, *parts])
            if entry[0] == TREE_MODE:
                yield from self._walk(entry[1], found)
            else:
                yield found, entry[1], entry[0]

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

    def read_verified(self, blob: str) -> bytes | None:
        """The bytes of one blob when they hash to its id; None when missing or damaged.

        ``cat-file`` does not check what it inflates against the id: a damaged object whose
        bytes still inflate would be restored as if it were the file.
        """
        try:
            kind, data = self._reader().read(blob)
        except (ValueError, OSError, StoreError):
            return None
        return data if kind == "blob" and blob_id(data) == blob else None


class BatchReader:
    """One ``git cat-file --batch`` of ours, kept running: one process for every read."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        self._argv, self._env, self._cwd = argv, env, cwd
        self._process: subprocess.Popen[bytes] | None = None

    def _pipes(self) -> tuple[IO[bytes], IO[bytes]]:
        if self._process is None:
            try:
                self._process = subprocess.Popen(
                    self._argv,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    env=self._env,
                    cwd=self._cwd,
                    process_group=0,  # its own group: see store/git.py
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
