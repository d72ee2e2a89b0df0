"""The private snapshot store: a bare git repository, the only module that imports GitPython.

Writes go through the git CLI with a clean environment (one process per step, not per
file); reads go through GitPython's persistent ``cat-file`` process. git never sees the
Codex home as a work tree: files are hashed by path, so a ``.gitignore``, ``.gitattributes``
or planted ``.git/config`` inside the home changes nothing.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from codexsnap import __version__
from codexsnap.errors import (
    AmbiguousSnapshotIdError,
    CodexsnapError,
    SnapshotNotFoundError,
    StoreError,
    TamperedSnapshotError,
)
from codexsnap.faults import fault_point
from codexsnap.file_lock import store_lock
from codexsnap.manifest import (
    FILES_PREFIX,
    MANIFEST_NAME,
    FileRecord,
    check_relpath,
    dump_manifest,
    load_manifest,
)
from codexsnap.marks import ALIASES, load_marks
from codexsnap.outside import auth_fingerprint, scan_outside
from codexsnap.progress import report as report_progress
from codexsnap.scope import Scope, walk_scope
from codexsnap.sqlite_copy import backup_database, is_sqlite_file, sidecars

if TYPE_CHECKING:
    import git

STORE_FORMAT = 1
_MARKER = "codexsnap-store.json"
_MIN_GIT = (2, 32)  # GIT_CONFIG_GLOBAL, which keeps the user's ~/.gitconfig out
_IDENTITY = ("codexsnap", "codexsnap@localhost")
_HEX_ID = re.compile(r"^[0-9a-f]{4,40}$")
_TRAILER = re.compile(r"^Codexsnap-([A-Za-z-]+): (.*)$")
# A file modified this close to the scan that hashed it may change again within the
# filesystem's timestamp granularity (1-2 s on HFS+, FAT, some network mounts) without its
# stat changing: such entries are not cached, so the next scan hashes them again (as git does).
_RACY_WINDOW_NS = 2_000_000_000
_KINDS = ("file", "symlink", "sqlite")
OUTSIDE_NAME = "outside.json"
AUTH_NAME = "auth-fingerprint.json"
SCOPE_NAME = "scope.json"


@dataclass(frozen=True)
class Snapshot:
    """One commit of one home's history."""

    id: str
    created_at: datetime
    summary: str
    message: str
    trailers: dict[str, str] = field(default_factory=dict)
    parent: str | None = None
    # Marks kept beside the repository (marks.py), filled in by the history command.
    pinned: bool = False
    note: str = ""
    pruned: bool = False

    @property
    def short_id(self) -> str:
        """The id as history prints it; any unique prefix of 4+ characters works too."""
        return self.id[:10]

    @property
    def operation(self) -> str:
        """Machine name of what made it: snapshot, drift, before-fix, after-rollback..."""
        return self.trailers.get("Operation", "snapshot")

    @property
    def files_changed(self) -> int:
        """Files that differ from the parent snapshot."""
        return int(self.trailers.get("Files-Changed", "0"))


@dataclass(frozen=True)
class SnapshotResult:
    """The snapshot an operation ended on and whether a commit was made for it."""

    snapshot: Snapshot
    created: bool


def home_id(home: Path) -> str:
    """A stable name for one home inside a store shared by several."""
    return hashlib.sha256(str(home).encode("utf-8")).hexdigest()[:16]


_Method = TypeVar("_Method", bound=Callable[..., Any])


def _reads_store(method: _Method) -> _Method:
    """A corrupt object or pack makes GitPython raise anything: report a damaged store."""

    @functools.wraps(method)
    def guarded(self: SnapshotStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except CodexsnapError:
            raise
        except Exception as exc:
            lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
            raise StoreError(
                f"the store {self.root} is damaged "
                f"({type(exc).__name__}: {lines[-1] if lines else 'unreadable object'})",
                hint="Run 'codexsnap check' to find and quarantine the damaged snapshots.",
            ) from None

    return cast(_Method, guarded)


def _scrub_git_environment() -> None:
    # GitPython starts every git process from os.environ (it can add variables, never drop
    # them), so an inherited GIT_DIR or GIT_INDEX_FILE would redirect its reads. This is a
    # command-line process: dropping them here is the only reliable isolation.
    for name in [n for n in os.environ if n.startswith("GIT_") and n != "GIT_PYTHON_REFRESH"]:
        del os.environ[name]


class SnapshotStore:
    """A store folder: the bare repository, a stat cache per home, scratch space, the lock."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.git_dir = root / "repo.git"
        self._repo: git.Repo | None = None

    # ----- opening and creating -------------------------------------------------------

    @staticmethod
    def exists(root: Path) -> bool:
        """True when a store was created at ``root``; anything else in its place is an error."""
        if root.exists() and not root.is_dir():
            raise StoreError(
                f"the store path {root} is a file, not a folder",
                hint="Move that file away or choose another store with --store.",
            )
        if (root / _MARKER).is_file():
            return True
        leftovers = _foreign_entries(root)
        if leftovers:
            raise StoreError(
                f"{root} is not a codexsnap store (no {_MARKER}) and is not empty",
                hint="Choose an empty or new folder with --store.",
            )
        return False

    @classmethod
    def open(cls, root: Path, create: bool) -> SnapshotStore:
        """Open the store at ``root``; create it (owner-only) when ``create`` is set."""
        _scrub_git_environment()
        store = cls(root)
        marker = root / _MARKER
        if not cls.exists(root):
            if not create:
                raise SnapshotNotFoundError(
                    f"no snapshots yet: the store {root} does not exist",
                    hint="Run 'codexsnap snapshot' or 'codexsnap fix' first.",
                )
            try:
                root.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot create the store {root}: {exc.strerror or exc}",
                    hint="Choose a writable place with --store or CODEXSNAP_STORE.",
                ) from None
            # Under the lock: two first runs must not both build (or clean) the store.
            with store_lock(root / "codexsnap.lock"):
                if not (root / _MARKER).is_file():
                    # A creation killed before the marker was written leaves only our folders.
                    for name in _OWN_ENTRIES:
                        shutil.rmtree(root / name, ignore_errors=True)
                    for leftover in root.glob("*.codexsnap-tmp"):
                        leftover.unlink()
                    try:
                        store._create()
                    except OSError as exc:
                        raise StoreError(
                            f"cannot create the store {root}: {exc.strerror or exc}",
                            hint="Free disk space, or choose a writable place with --store.",
                        ) from None
        store._check_format(marker)
        return store

    def _create(self) -> None:
        _check_git_version()
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        for sub in ("cache", "tmp", "no-hooks", "empty-template"):
            (self.root / sub).mkdir(mode=0o700, exist_ok=True)
        self._git(
            "init",
            "--bare",
            "--quiet",
            f"--template={self.root / 'empty-template'}",
            str(self.git_dir),
            git_dir=False,
        )
        settings = {
            "core.hooksPath": str(self.root / "no-hooks"),
            "core.sharedRepository": "0600",
            "core.autocrlf": "false",
            "core.fsmonitor": "false",
            "core.logAllRefUpdates": "always",
            "commit.gpgSign": "false",
            "gc.auto": "0",
            # A fix writes the home with fsync; its "before" snapshot must be as durable.
            "core.fsync": "committed,reference",  # git 2.36+; older git ignores it
        }
        for key, value in settings.items():
            self._git("config", key, value)
        info = self.git_dir / "info"
        info.mkdir(mode=0o700, exist_ok=True)
        # No content conversion of any kind: the bytes restored must be the bytes stored.
        (info / "attributes").write_text("* -text -eol -filter -diff -merge -ident\n")
        os.chmod(info / "attributes", 0o600)
        marker = {"format": STORE_FORMAT, "created_by": f"codexsnap {__version__}"}
        from codexsnap.atomic_io import atomic_write

        # Written last and atomically: a store with a marker is a complete store.
        atomic_write(self.root / _MARKER, (json.dumps(marker) + "\n").encode(), mode=0o600)

    def _check_format(self, marker: Path) -> None:
        try:
            data = json.loads(marker.read_text())
            version = int(data["format"])
        except (OSError, ValueError, KeyError, TypeError):
            raise StoreError(
                f"{marker} is damaged", hint="Restore it, or start a new store with --store."
            ) from None
        if version > STORE_FORMAT:
            raise StoreError(
                f"the store {self.root} was written by a newer codexsnap (format {version})",
                hint="Upgrade codexsnap: pip install --upgrade codexsnap.",
            )
        if not self.git_dir.is_dir():
            raise StoreError(f"the store {self.root} has no repository", hint="Restore it.")

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store for a mutating operation and clear what a killed run left."""
        with store_lock(self.root / "codexsnap.lock"):
            self._clear_leftovers()
            yield

    def _clear_leftovers(self) -> None:
        # We hold the store lock, so any git lock file is a dead run's: git would refuse
        # every ref update until someone removed it by hand.
        locks = [*(self.git_dir / "refs").rglob("*.lock")]
        locks += [
            self.git_dir / n
            for n in ("index.lock", "HEAD.lock", "config.lock", "packed-refs.lock", "shallow.lock")
        ]
        for lock in locks:
            with contextlib.suppress(OSError):
                lock.unlink()
        scratch = self.root / "tmp"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(mode=0o700, exist_ok=True)

    def close(self) -> None:
        """Stop GitPython's persistent git processes."""
        if self._repo is not None:
            self._repo.close()
            self._repo = None

    def __enter__(self) -> SnapshotStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----- git plumbing ---------------------------------------------------------------

    def _env(self, index_file: Path | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env.update(_git_isolation(self.git_dir))
        if index_file is not None:
            env["GIT_INDEX_FILE"] = str(index_file)
        return env

    def _git(
        self,
        *args: str,
        stdin: bytes | None = None,
        git_dir: bool = True,
        index_file: Path | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> str:
        env = {**self._env(index_file), **(extra_env or {})}
        if not git_dir:
            env.pop("GIT_DIR")
        try:
            done = subprocess.run(
                ["git", *self._forced_config(), *args],
                input=stdin,
                capture_output=True,
                env=env,
                cwd=self.root,
                check=False,
                umask=0o077,
            )
        except FileNotFoundError:
            raise StoreError("git is not installed", hint="Install git 2.32 or newer.") from None
        if done.returncode != 0:
            detail = done.stderr.decode(errors="replace").strip().splitlines()
            raise StoreError(
                f"git {args[0]} failed in the store {self.root}: "
                f"{detail[-1] if detail else 'exit ' + str(done.returncode)}",
                hint="Run 'git fsck' on the store, or start a new one with --store.",
            )
        return done.stdout.decode("utf-8", errors="surrogateescape")

    def _forced_config(self) -> list[str]:
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

    @property
    def repo(self) -> git.Repo:
        """GitPython's view of the repository, for reading objects and history."""
        if self._repo is None:
            try:
                import git
            except ImportError as exc:
                raise StoreError(f"git cannot be used: {exc}", hint="Install git.") from None
            self._repo = git.Repo(self.git_dir)
            self._repo.git.update_environment(**_git_isolation(self.git_dir))
        return self._repo

    def journal_path(self, home: Path) -> Path:
        """Where an operation on ``home`` keeps its write-ahead journal."""
        from codexsnap.journal import journal_path

        return journal_path(self.root, home_id(home))

    def _ref(self, home: Path) -> str:
        return f"refs/codexsnap/homes/{home_id(home)}"

    def _head(self, home: Path) -> str | None:
        ref = self.git_dir / self._ref(home)
        if ref.exists():
            return ref.read_text().strip()
        out = self._git("for-each-ref", "--format=%(objectname)", self._ref(home))
        return out.strip() or None

    # ----- reading --------------------------------------------------------------------

    @_reads_store
    def history(self, home: Path, limit: int | None = None) -> list[Snapshot]:
        """Snapshots of this home, newest first."""
        head = self._head(home)
        if head is None:
            return []
        return self._log(head, limit)

    def _log(self, head: str, limit: int | None) -> list[Snapshot]:
        # One `git log` for the whole list: reading commits one by one through GitPython
        # cost 0.3 s per 1,000 snapshots (docs/performance.md).
        args = ["log", "--format=%H%x00%P%x00%cI%x00%B%x1e"]
        if limit:
            args.append(f"-n{limit}")
        out = self._git(*args, head, "--")
        snapshots = []
        for record in out.split("\x1e"):
            record = record.strip("\n")
            if not record:
                continue
            commit_id, parents, date, message = record.split("\x00", 3)
            snapshots.append(
                _snapshot_from_message(
                    commit_id, parents.split(), datetime.fromisoformat(date), message
                )
            )
        return snapshots

    def latest(self, home: Path) -> Snapshot | None:
        """The newest snapshot of this home, if any."""
        found = self.history(home, limit=1)
        return found[0] if found else None

    @_reads_store
    def resolve(self, home: Path, snapshot_id: str) -> Snapshot:
        """Find this home's snapshot by a unique id prefix of 4 or more hex characters."""
        wanted = snapshot_id.strip().lower()
        if not _HEX_ID.match(wanted):
            raise SnapshotNotFoundError(
                f"{snapshot_id!r} is not a snapshot id (4 to 40 hex characters)",
                hint="Run 'codexsnap history' to see the ids.",
            )
        head = self._head(home)
        ids = self._git("rev-list", head).split() if head else []
        matches = [i for i in ids if i.startswith(wanted)]
        if not matches:
            # Snapshots rewritten by `prune --gc` keep answering to their old ids.
            aliases = load_marks(self.root, ALIASES)
            matches = sorted({aliases[old] for old in aliases if old.startswith(wanted)} & set(ids))
        if not matches:
            raise SnapshotNotFoundError(
                f"no snapshot {snapshot_id} for the Codex home {home}",
                hint="Run 'codexsnap history' to see the ids.",
            )
        if len(matches) > 1:
            raise AmbiguousSnapshotIdError(
                f"the id {snapshot_id} matches {len(matches)} snapshots",
                hint="Give more characters of the id.",
            )
        reason = self.quarantined().get(matches[0])
        if reason is not None:
            raise TamperedSnapshotError(
                f"snapshot {matches[0][:10]} is quarantined: {reason}",
                hint="Choose another snapshot; see 'codexsnap check'.",
            )
        return _snapshot_from_commit(self.repo.commit(matches[0]))

    @_reads_store
    def records(self, snapshot: Snapshot) -> dict[str, FileRecord]:
        """The files of a snapshot, checked against its tree: a mismatch means tampering."""
        commit = self.repo.commit(snapshot.id)
        try:
            manifest_blob = commit.tree / MANIFEST_NAME
        except KeyError:
            raise TamperedSnapshotError(
                f"snapshot {snapshot.short_id} has no manifest", hint="Use another snapshot."
            ) from None
        records = load_manifest(manifest_blob.data_stream.read())
        tree_entries: dict[str, tuple[str, int]] = {}
        try:
            files_tree = commit.tree / FILES_PREFIX.rstrip("/")
        except KeyError:
            files_tree = None
        if files_tree is not None:
            items: Iterator[Any] = files_tree.traverse()
            for item in items:
                if item.type == "tree":
                    continue
                relpath = item.path[len(FILES_PREFIX) :]
                check_relpath(relpath)
                tree_entries[relpath] = (item.hexsha, item.mode)
        expected = {p: (r.blob, int(r.git_mode, 8)) for p, r in records.items()}
        if tree_entries != expected:
            raise TamperedSnapshotError(
                f"snapshot {snapshot.short_id}: its files do not match its manifest",
                hint="The store may have been tampered with; use another snapshot.",
            )
        return records

    @_reads_store
    def read_blob(self, blob: str) -> bytes:
        """The bytes of one stored file."""
        data: bytes = self.repo.odb.stream(bytes.fromhex(blob)).read()
        return data

    # ----- checking -------------------------------------------------------------------

    def home_heads(self) -> dict[str, str]:
        """Every home's ref and the commit it points at."""
        out = self._git(
            "for-each-ref", "--format=%(refname) %(objectname)", "refs/codexsnap/homes/"
        )
        return dict(line.split(" ", 1) for line in out.splitlines() if line)

    @_reads_store
    def history_from(self, head: str) -> list[Snapshot]:
        """The snapshots reachable from one commit, newest first."""
        return self._log(head, None)

    def fsck(self) -> list[str]:
        """git's own verdict on the repository: every problem it prints."""
        done = subprocess.run(
            ["git", "fsck", "--full", "--no-dangling", "--no-progress"],
            capture_output=True,
            env=self._env(),
            cwd=self.root,
            check=False,
        )
        lines = (done.stdout + done.stderr).decode(errors="replace").splitlines()
        # "notice:" lines (an unborn HEAD in a bare store) are not damage.
        problems = [line for line in lines if line.strip() and not line.startswith("notice:")]
        if done.returncode != 0 and not problems:
            problems = [f"git fsck exited with {done.returncode}"]
        return problems

    def object_sizes(self, blobs: list[str]) -> dict[str, int | None]:
        """Size of each object, None when the store lacks it."""
        if not blobs:
            return {}
        out = self._git(
            "cat-file", "--batch-check", stdin="".join(f"{b}\n" for b in blobs).encode()
        )
        sizes: dict[str, int | None] = {}
        for blob, line in zip(blobs, out.splitlines(), strict=False):
            parts = line.split()
            sizes[blob] = int(parts[2]) if len(parts) == 3 and parts[1] == "blob" else None
        return sizes

    def quarantined(self) -> dict[str, str]:
        """Snapshots ``codexsnap check`` found damaged: id -> reason. They are kept, not used."""
        try:
            data = json.loads((self.root / "quarantine.json").read_text())
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def quarantine(self, snapshot_id: str, reason: str) -> None:
        """Set a damaged snapshot aside: a ref keeps its objects, rollback refuses it."""
        from codexsnap.atomic_io import atomic_write

        self._git("update-ref", f"refs/codexsnap/quarantine/{snapshot_id}", snapshot_id)
        found = {**self.quarantined(), snapshot_id: reason}
        atomic_write(self.root / "quarantine.json", json.dumps(found, indent=1).encode(), 0o600)

    # ----- pruning --------------------------------------------------------------------

    def rewrite_without(self, home: Path, dropped: set[str]) -> dict[str, str]:
        """Rebuild this home's chain without ``dropped`` commits; old id -> new id of the rest.

        Commits older than the first dropped one keep their ids. Dates, messages and trees
        are kept, so a rewritten snapshot differs only in its parent.
        """
        head = self._head(home)
        if head is None:
            return {}
        chain = self._git("rev-list", "--reverse", head).split()
        renamed: dict[str, str] = {}
        parent: str | None = None
        rewriting = False
        for commit_id in chain:
            if commit_id in dropped:
                rewriting = True
                continue
            if not rewriting:
                parent = commit_id
                continue
            fields = self._git("show", "-s", "--format=%T%n%aI%n%cI", commit_id).splitlines()
            message = self._git("show", "-s", "--format=%B", commit_id)
            env_dates = {"GIT_AUTHOR_DATE": fields[1], "GIT_COMMITTER_DATE": fields[2]}
            args = ["commit-tree", fields[0]] + (["-p", parent] if parent else [])
            new_id = self._git(*args, stdin=message.encode(), extra_env=env_dates).strip()
            renamed[commit_id] = new_id
            parent = new_id
        if parent is None:
            raise StoreError("refusing to prune every snapshot of a home", hint="Keep one.")
        self._git("update-ref", "-m", "prune", self._ref(home), parent, head)
        return renamed

    def collect_garbage(self) -> None:
        """Really delete what no snapshot references any more (prune --gc)."""
        self._git("reflog", "expire", "--expire=now", "--all")
        self._git("gc", "--prune=now", "--quiet")
        # The stat cache may name blobs that just went away: start it afresh.
        for cache in (self.root / "cache").glob("*.json"):
            cache.unlink()

    def forget_quarantined(self, snapshot_ids: set[str]) -> None:
        """Remove ids from the quarantine list (pruned, or rewritten under a new id)."""
        from codexsnap.atomic_io import atomic_write

        kept = {k: v for k, v in self.quarantined().items() if k not in snapshot_ids}
        atomic_write(self.root / "quarantine.json", json.dumps(kept, indent=1).encode(), 0o600)

    def drop_quarantine_ref(self, snapshot_id: str) -> None:
        """Forget the quarantine ref of a snapshot that was pruned."""
        self._git("update-ref", "-d", f"refs/codexsnap/quarantine/{snapshot_id}")

    # ----- writing --------------------------------------------------------------------

    def scan_home(self, home: Path, scope: Scope, write: bool = True) -> dict[str, FileRecord]:
        """Hash every file in scope, re-reading only files whose stat changed.

        With ``write`` False nothing in the store changes (dry runs): blobs are hashed but not
        stored and the stat cache is not updated.
        """
        cache_path = self.root / "cache" / f"{home_id(home)}.json"
        cache = _load_cache(cache_path)
        new_cache: dict[str, list[Any]] = {}
        records: dict[str, FileRecord] = {}
        to_hash: list[tuple[str, Path, int, int, str, list[Any]]] = []
        scratch = Path(tempfile.mkdtemp(prefix="codexsnap-"))
        now_ns = _now_ns()
        try:
            for count, entry in enumerate(walk_scope(home, scope), start=1):
                if count % 1000 == 0:
                    report_progress(count, 0, "Scanning the Codex home")
                basic: list[Any] = [
                    entry.size,
                    entry.mtime_ns,
                    entry.inode,
                    entry.ctime_ns,
                    entry.mode,
                ]
                cached = cache.get(entry.relpath)
                if cached and cached[:5] == basic and cached[5] in _KINDS:
                    # Known file: its kind is in the cache, no need to open it to find out.
                    kind = cached[5]
                else:
                    kind = "symlink" if entry.is_symlink else "file"
                    if kind == "file" and is_sqlite_file(entry.path):
                        kind = "sqlite"
                key: list[Any] = [*basic, kind]
                if kind == "sqlite":
                    key += _sidecar_key(entry.path)
                if cached and cached[:-2] == key:
                    # The stored size, not the file's: a database is stored as its copy.
                    size, blob = cached[-2], cached[-1]
                    records[entry.relpath] = FileRecord(entry.relpath, blob, entry.mode, size, kind)
                    new_cache[entry.relpath] = cached
                    continue
                source = entry.path
                if kind == "symlink":
                    source = scratch / f"link-{len(to_hash)}"
                    source.write_bytes(os.fsencode(os.readlink(entry.path)))
                elif kind == "sqlite":
                    source = scratch / f"db-{len(to_hash)}.sqlite"
                    if not _backup_or_fail(entry.path, source):
                        # Damaged beyond SQLite's reading: keep its bytes as they are, so a
                        # rollback (the likely cure) is not blocked by the damage itself.
                        kind, source = "file", entry.path
                        key = [*basic, kind]
                to_hash.append((entry.relpath, source, entry.mode, entry.size, kind, key))
            report_progress(len(records), len(records) + len(to_hash), "Reading changed files")
            blobs = self._hash_files([item[1] for item in to_hash], write)
            total = len(records) + len(to_hash)
            report_progress(total, total, "Reading changed files")
            for (relpath, source, mode, size, kind, key), blob in zip(to_hash, blobs, strict=True):
                if blob is None:
                    continue  # gone since the walk: it is not part of this snapshot
                if kind == "sqlite":
                    size = source.stat().st_size
                records[relpath] = FileRecord(relpath, blob, mode, size, kind)
                if now_ns - key[1] > _RACY_WINDOW_NS:
                    new_cache[relpath] = [*key, size, blob]
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        if write and (new_cache != cache or not cache_path.exists()):
            _save_cache(cache_path, new_cache)
        return records

    def _hash_files(self, paths: list[Path], write: bool) -> list[str | None]:
        """Blob ids, in order; None for a file that vanished before it could be read."""
        if not paths:
            return []
        # --stdin-paths reads lines and strips a trailing CR: such names go one by one.
        plain = [p for p in paths if "\n" not in str(p) and "\r" not in str(p)]
        blobs: dict[Path, str | None] = {}
        store_flag = ["-w"] if write else []
        if plain:
            try:
                out = self._git(
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
        except FileNotFoundError:
            return None
        except PermissionError:
            from codexsnap.errors import StateFileInvalidError

            raise StateFileInvalidError(
                f"{path} cannot be read (permission denied), so it cannot be snapshotted",
                hint="Run codexsnap as the owner of the Codex home, or exclude that path in "
                "the store's scope.toml.",
            ) from None
        return self._git("hash-object", *store_flag, "--no-filters", "--stdin", stdin=data).strip()

    def commit_records(
        self,
        home: Path,
        records: dict[str, FileRecord],
        summary: str,
        trailers: dict[str, str],
        message: str = "",
        allow_unchanged: bool = False,
        extras: dict[str, bytes] | None = None,
    ) -> SnapshotResult:
        """Commit ``records`` as the next snapshot of ``home`` (skipped when nothing changed).

        ``extras`` are notes kept beside the files (``outside.json``, ``auth-fingerprint.json``):
        they never make a snapshot on their own.
        """
        head = self._head(home)
        parent = _snapshot_from_commit(self.repo.commit(head)) if head else None
        parent_manifest = self._manifest_bytes(head) if head else None
        if parent is not None and not allow_unchanged and parent_manifest == dump_manifest(records):
            return SnapshotResult(parent, created=False)  # the manifest says it all
        try:
            parent_records = load_manifest(parent_manifest) if parent_manifest else {}
        except TamperedSnapshotError:
            # A damaged latest snapshot must not stop new ones: compare against nothing.
            parent_records = {}
        changed = _count_changes(parent_records, records)
        if parent is not None and changed == 0 and not allow_unchanged:
            return SnapshotResult(parent, created=False)
        tree = self._write_tree(records, extras or {})
        all_trailers = {
            **trailers,
            "Files-Changed": str(changed),
            "Version": __version__,
            "Home": str(home),
        }
        # A note line shaped like a trailer must stay part of the note.
        note = "\n".join(
            f"> {line}" if _TRAILER.match(line) else line for line in message.strip().splitlines()
        )
        body = f"{summary}\n\n" + (f"{note}\n\n" if note else "")
        body += "".join(f"Codexsnap-{k}: {v}\n" for k, v in all_trailers.items())
        args = ["commit-tree", tree] + (["-p", head] if head else [])
        commit = self._git(*args, stdin=body.encode("utf-8")).strip()
        fault_point("before-update-ref")
        # Compare-and-swap on the ref: a concurrent writer can never silently lose a snapshot.
        self._git("update-ref", "-m", summary, self._ref(home), commit, head or "0" * 40)
        return SnapshotResult(_snapshot_from_commit(self.repo.commit(commit)), created=True)

    def _write_tree(self, records: dict[str, FileRecord], extras: dict[str, bytes]) -> str:
        lines = []
        for name, data in sorted({**extras, MANIFEST_NAME: dump_manifest(records)}.items()):
            blob = self._git("hash-object", "-w", "--stdin", stdin=data).strip()
            lines.append(f"100644 {blob}\t{name}")
        lines += [f"{r.git_mode} {r.blob}\t{FILES_PREFIX}{p}" for p, r in sorted(records.items())]
        index = self.root / "tmp" / f"index-{os.getpid()}-{os.urandom(4).hex()}"
        try:
            self._git(
                "update-index",
                "-z",
                "--add",
                "--index-info",
                index_file=index,
                stdin="".join(f"{line}\0" for line in lines).encode("utf-8", "surrogateescape"),
            )
            listed = self._git("ls-files", "-z", index_file=index).split("\0")
            stored = {name[len(FILES_PREFIX) :] for name in listed if name.startswith(FILES_PREFIX)}
            refused = sorted(records.keys() - stored)
            if refused:
                # git refuses some names (".GIT", "git~1"...) without failing: a snapshot that
                # silently lacked them would restore a home without them.
                raise StoreError(
                    f"git cannot store these file names: {', '.join(refused[:5])}",
                    hint="Rename them, or exclude them in the store's scope.toml.",
                )
            return self._git("write-tree", index_file=index).strip()
        finally:
            with contextlib.suppress(FileNotFoundError):
                index.unlink()

    def take_snapshot(
        self,
        home: Path,
        scope: Scope,
        summary: str,
        trailers: dict[str, str],
        message: str = "",
        allow_unchanged: bool = False,
    ) -> SnapshotResult:
        """Scan the home and commit it; unchanged homes give back the latest snapshot."""
        records = self.scan_home(home, scope)
        if not self._blobs_present(home, records):
            # The stat cache named content the store lost (a crash before git's objects
            # reached the disk, a pruned blob): forget it and read every file again.
            (self.root / "cache" / f"{home_id(home)}.json").unlink(missing_ok=True)
            records = self.scan_home(home, scope)
        extras = {
            OUTSIDE_NAME: json.dumps(scan_outside(home, scope)).encode(),
            SCOPE_NAME: json.dumps(scope.to_config(), sort_keys=True).encode(),
        }
        fingerprint = auth_fingerprint(home)
        if fingerprint is not None:
            extras[AUTH_NAME] = json.dumps(fingerprint, sort_keys=True).encode()
        return self.commit_records(
            home, records, summary, trailers, message, allow_unchanged, extras
        )

    def scope_of(self, snapshot: Snapshot) -> Scope | None:
        """The scope a snapshot was taken with (None for snapshots that did not record it)."""
        raw = self.extra(snapshot, SCOPE_NAME)
        if raw is None:
            return None
        try:
            config = json.loads(raw)
        except ValueError:
            return None
        return Scope.from_config(config) if isinstance(config, dict) else None

    def _manifest_bytes(self, commit_id: str) -> bytes | None:
        """A snapshot's manifest as stored (checked against the tree only when restoring)."""
        try:
            data: bytes = (self.repo.commit(commit_id).tree / MANIFEST_NAME).data_stream.read()
        except Exception:  # a damaged snapshot: the next one compares against nothing
            return None
        return data

    def _blobs_present(self, home: Path, records: dict[str, FileRecord]) -> bool:
        """True when the store holds every blob; those the latest snapshot names are known."""
        head = self._head(home)
        manifest = self._manifest_bytes(head) if head else None
        known: set[str] = set()
        if manifest:
            try:
                known = {r.blob for r in load_manifest(manifest).values()}
            except TamperedSnapshotError:
                known = set()
        sizes = self.object_sizes(sorted({r.blob for r in records.values()} - known))
        return all(size is not None for size in sizes.values())

    @_reads_store
    def extra(self, snapshot: Snapshot, name: str) -> bytes | None:
        """A note kept beside a snapshot's files (None when that snapshot has none)."""
        try:
            data: bytes = (self.repo.commit(snapshot.id).tree / name).data_stream.read()
        except KeyError:
            return None
        return data


_OWN_ENTRIES = ("repo.git", "cache", "tmp", "no-hooks", "empty-template")


def _foreign_entries(root: Path) -> list[str]:
    """Entries of ``root`` that a half-created store would not hold."""
    try:
        names = [entry.name for entry in os.scandir(root)]
    except FileNotFoundError:
        return []
    own = (*_OWN_ENTRIES, "codexsnap.lock", "scope.toml")
    return [n for n in names if n not in own and not n.endswith(".codexsnap-tmp")]


def _git_isolation(git_dir: Path) -> dict[str, str]:
    name, email = _IDENTITY
    return {
        "GIT_DIR": str(git_dir),
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


def _check_git_version() -> None:
    try:
        out = subprocess.run(
            ["git", "version"],
            capture_output=True,
            text=True,
            check=True,
            env={k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
        )
    except (OSError, subprocess.CalledProcessError):
        raise StoreError("git is not installed", hint="Install git 2.32 or newer.") from None
    found = re.search(r"(\d+)\.(\d+)", out.stdout)
    if found is None or (int(found[1]), int(found[2])) < _MIN_GIT:
        raise StoreError(
            f"{out.stdout.strip()} is too old to be isolated from your git configuration",
            hint="Install git 2.32 or newer.",
        )


def _snapshot_from_commit(commit: Any) -> Snapshot:
    message: str = (
        commit.message
        if isinstance(commit.message, str)
        else commit.message.decode("utf-8", "replace")
    )
    return _snapshot_from_message(
        commit.hexsha, [p.hexsha for p in commit.parents], commit.committed_datetime, message
    )


def _snapshot_from_message(
    commit_id: str, parents: list[str], created_at: datetime, message: str
) -> Snapshot:
    lines = message.strip().splitlines()
    trailers: dict[str, str] = {}
    body: list[str] = []
    for line in lines[1:]:
        found = _TRAILER.match(line)
        if found:
            trailers[found[1]] = found[2]
        elif line.strip():
            body.append(line)
    return Snapshot(
        id=commit_id,
        created_at=created_at,
        summary=lines[0] if lines else "",
        message="\n".join(body),
        trailers=trailers,
        parent=parents[0] if parents else None,
    )


def _count_changes(old: dict[str, FileRecord], new: dict[str, FileRecord]) -> int:
    paths = old.keys() | new.keys()
    return sum(1 for p in paths if p not in old or p not in new or not old[p].same_content(new[p]))


def _sidecar_key(path: Path) -> list[int]:
    key: list[int] = []
    for sidecar in sidecars(path)[:1]:
        try:
            st = sidecar.stat()
            key += [st.st_size, st.st_mtime_ns]
        except FileNotFoundError:
            key += [-1, -1]
    return key


def _backup_or_fail(source: Path, destination: Path) -> bool:
    """Back up a database; False when it is too damaged to read (a busy one is an error)."""
    import sqlite3

    try:
        backup_database(source, destination)
        return True
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            return False
        from codexsnap.errors import StateFileInvalidError

        raise StateFileInvalidError(
            f"cannot copy the SQLite database {source}: {exc}",
            hint="If Codex is writing to it, quit Codex and try again.",
        ) from None
    except sqlite3.DatabaseError:
        return False


def _now_ns() -> int:
    import time

    return time.time_ns()


def _load_cache(path: Path) -> dict[str, list[Any]]:
    try:
        data = json.loads(path.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _save_cache(path: Path, cache: dict[str, list[Any]]) -> None:
    from codexsnap.atomic_io import atomic_write

    try:
        atomic_write(path, json.dumps(cache, separators=(",", ":")).encode(), mode=0o600)
    except OSError:
        # Only a speed-up: without it the next snapshot re-reads every file. A stale cache
        # would be worse than none, so drop it.
        with contextlib.suppress(OSError):
            path.unlink()
