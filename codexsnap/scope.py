"""Which files of the Codex home a snapshot holds, and why the others are left out."""

from __future__ import annotations

import fnmatch
import functools
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from codexsnap.errors import ConfigError
from codexsnap.faults import race_point
from codexsnap.roots import SQLITE_PREFIX, SQLITE_ROOT, in_sqlite_root
from codexsnap.scope_match import NameTest, compiled, translated

SCOPE_FILE_NAME = "scope.toml"


@dataclass(frozen=True)
class Rule:
    """One exclusion: a pattern, its category and the reason a person can read."""

    pattern: str
    category: str  # "bulky", "cache", "runtime", "secret" or "user"
    reason: str

    def matches(self, relpath: str) -> bool:
        """Match a folder pattern ("log/"), a path pattern ("a/b*") or a name pattern ("*.pid")."""
        if self.pattern.endswith("/"):
            return relpath == self.pattern[:-1] or relpath.startswith(self.pattern)
        if "/" in self.pattern:
            return fnmatch.fnmatchcase(relpath, self.pattern)
        return fnmatch.fnmatchcase(relpath.rsplit("/", 1)[-1], self.pattern)


_BULKY = "bulky or append-only: large, and restoring it would drop newer transcripts and logs"
_CACHE = "cache or bundled runtime: Codex downloads or rebuilds it"
_RUNTIME = "runtime file of a live process: restoring it would break the next start"
_SECRET = "secret: credentials are never copied into the store"
_RESERVED = (
    "reserved: snapshots keep the databases of a SQLite home outside the Codex home under "
    "this name; it is not in scope when no such SQLite home is set"
)
_RECOVERY = (
    "Codex's own copy of a database from its automatic recovery or its repair prompt: often "
    "as large as the database, and the last good copy (doctor lists it as a restore source)"
)

DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("sessions/", "bulky", _BULKY),
    Rule("archived_sessions/", "bulky", _BULKY),
    Rule("log/", "bulky", _BULKY),
    # codex-rs/state/src/runtime/recovery.rs names them <file>.codex-recovery-<ts>.<n>.bak
    # (one per database, -wal and -shm); the CLI's repair prompt uses codex-repair (#26859).
    Rule("*.codex-recovery-*.bak", "bulky", _RECOVERY),
    Rule("*.codex-repair-*.bak", "bulky", _RECOVERY),
    Rule("logs_*.sqlite*", "bulky", _BULKY),
    Rule("backups_state/", "bulky", "another tool's backups: hundreds of MB (381 MB reported)"),
    Rule("cache/", "cache", _CACHE),
    Rule(".tmp/", "cache", _CACHE),
    Rule("tmp/", "cache", _CACHE),
    Rule("packages/", "cache", _CACHE),
    Rule("bin/", "cache", _CACHE),
    Rule("plugins/", "cache", _CACHE),
    Rule("vendor_imports/", "cache", _CACHE),
    Rule("shell_snapshots/", "cache", _CACHE),
    Rule("models_cache.json", "cache", _CACHE),
    Rule("version.json", "cache", _CACHE),
    Rule("app-server-control/", "runtime", _RUNTIME),
    Rule("thread-writer-locks/", "runtime", _RUNTIME),  # flocked by a thread's live writer
    # Recovery's work files: the database being rebuilt, replaced or deleted when it ends.
    Rule("*.codex-recovery-*.recovered", "runtime", _RUNTIME),
    Rule("*.codex-recovery-normalized.*", "runtime", _RUNTIME),
    Rule("*.codex-recovery-schema-check.*", "runtime", _RUNTIME),
    Rule("*.pid", "runtime", _RUNTIME),
    Rule("*.lock", "runtime", _RUNTIME),
    Rule("*.sock", "runtime", _RUNTIME),
    Rule("..codex-global-state.json.tmp-*", "runtime", _RUNTIME),
    Rule("*-wal", "runtime", "SQLite write-ahead log: its rows are captured through the database"),
    Rule("*-shm", "runtime", "SQLite shared memory: rebuilt by SQLite"),
    Rule("*-journal", "runtime", "SQLite rollback journal of a live transaction"),
    Rule("*.codexsnap-tmp", "runtime", "codexsnap's own unfinished atomic write"),
    Rule(".git", "runtime", "a git repository of your own: codexsnap does not copy it"),
    Rule(SQLITE_PREFIX, "runtime", _RESERVED),  # roots.py: the second root's manifest prefix
    Rule("auth.json", "secret", _SECRET),
    Rule(".credentials.json", "secret", _SECRET),  # MCP OAuth tokens without a keyring
    Rule(".sandbox-secrets/", "secret", _SECRET),
)

# Runtime files and secrets stay out whatever the configuration says: restoring the first
# breaks Codex, copying the second would put credentials in a second place.
_FIXED_CATEGORIES = frozenset({"runtime", "secret"})
# What snapshots list without storing (outside.py): caches and runtime files churn without
# meaning anything to a person; secrets are not listed.
LISTED_CATEGORIES = frozenset({"bulky", "user"})


@dataclass(frozen=True)
class Scope:
    """The exclusion rules in force for one store."""

    rules: tuple[Rule, ...] = DEFAULT_RULES
    widened: tuple[str, ...] = field(default=())
    # The SQLite home when it lies outside the Codex home (roots.py): its databases are in
    # scope too, as ``@sqlite/<name>``, under the same rules as the home's.
    sqlite_home: Path | None = None

    def with_sqlite_home(self, sqlite_home: Path | None) -> Scope:
        """This scope, also holding the databases of an outside SQLite home."""
        return Scope(self.rules, self.widened, sqlite_home)

    @functools.cached_property
    def _matchers(self) -> tuple[re.Pattern[str], NameTest]:
        # The rules on the whole path (folders and paths) as one regular expression, those on
        # the name apart: a home has tens of thousands of paths. One expression with
        # "(?:.*/)?" before each name pattern backtracked through every slash of every path
        # (43 us a path, most of a no-change snapshot of 10,000 files; now under 2 us).
        on_path: list[str] = []
        for rule in self.rules:
            if rule.pattern.endswith("/"):
                on_path.append(f"{re.escape(rule.pattern[:-1])}(?:/.*)?")
            elif "/" in rule.pattern:
                on_path.append(translated(rule.pattern))
        names = [r.pattern for r in self.rules if "/" not in r.pattern]
        return compiled(on_path), NameTest(names)

    def excluded_by(self, relpath: str) -> Rule | None:
        """The rule that keeps this path out of snapshots, or None when it is in scope."""
        if in_sqlite_root(relpath) and self.sqlite_home is not None:
            return self.excluded_by(relpath[len(SQLITE_PREFIX) :])
        on_path, on_name = self._matchers
        if not on_name.matches(relpath.rsplit("/", 1)[-1]) and not on_path.match(relpath):
            return None
        for rule in self.rules:
            if rule.matches(relpath):
                return rule
        return None

    def includes(self, relpath: str) -> bool:
        """True when the path belongs in a snapshot."""
        return self.excluded_by(relpath) is None

    def to_config(self) -> dict[str, list[str]]:
        """The user's choices, kept with each snapshot so a rollback knows what it covered."""
        config = {
            "include": list(self.widened),
            "exclude": [r.pattern for r in self.rules if r.category == "user"],
        }
        if self.sqlite_home is not None:
            # A snapshot that held the second root: a rollback to it removes databases
            # created there since, as it does in the home. Older snapshots lack the key and
            # keep them.
            config[SQLITE_ROOT] = [str(self.sqlite_home)]
        return config

    @classmethod
    def from_config(cls, config: dict[str, list[str]]) -> Scope:
        """The scope a snapshot was taken with (see ``to_config``)."""
        include = [p for p in config.get("include", []) if isinstance(p, str)]
        exclude = [p for p in config.get("exclude", []) if isinstance(p, str)]
        rules = [r for r in DEFAULT_RULES if r.pattern not in include]
        rules += [Rule(p, "user", "excluded when that snapshot was taken") for p in exclude]
        held = [p for p in config.get(SQLITE_ROOT, []) if isinstance(p, str)]
        return cls(tuple(rules), tuple(include), Path(held[0]) if held else None)


def load_scope(store_path: Path) -> Scope:
    """Read ``scope.toml`` from the store: ``include`` widens, ``exclude`` narrows."""
    config_path = store_path / SCOPE_FILE_NAME
    if not config_path.exists():
        return Scope()
    import tomllib  # only with a scope.toml: start-up time

    try:
        data = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            f"cannot read {config_path}: {exc}", hint="Fix or delete that file."
        ) from None
    include = _string_list(data, "include", config_path)
    exclude = _string_list(data, "exclude", config_path)
    fixed = [r.pattern for r in DEFAULT_RULES if r.category in _FIXED_CATEGORIES]
    refused = [p for p in include if p in fixed]
    if refused:
        raise ConfigError(
            f"{config_path}: {', '.join(refused)} cannot be included (runtime files and secrets "
            "are never snapshotted)",
            hint="Remove those patterns from 'include'.",
        )
    widenable = [r.pattern for r in DEFAULT_RULES if r.category not in _FIXED_CATEGORIES]
    unknown = [p for p in include if p not in widenable]
    if unknown:
        raise ConfigError(
            f"{config_path}: 'include' takes default exclusions only; {', '.join(unknown)} "
            "is not one",
            hint=f"Use one of: {', '.join(widenable)}.",
        )
    rules = [r for r in DEFAULT_RULES if r.pattern not in include]
    rules += [Rule(p, "user", f"excluded by {config_path}") for p in exclude]
    return Scope(rules=tuple(rules), widened=tuple(include))


def _string_list(data: dict[str, object], key: str, path: Path) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(
            f"{path}: '{key}' must be a list of patterns", hint='For example: include = ["log/"]'
        )
    return list(value)


class HomeEntry(NamedTuple):
    """A file or symbolic link in scope, with the stat data that decides re-hashing.

    A named tuple, not a frozen dataclass: one is built per file of every walk, and a frozen
    dataclass's ``__init__`` costs eight ``object.__setattr__`` calls.
    """

    relpath: str
    where: str  # the path as a string: one Path per file was a third of a no-change scan
    is_symlink: bool
    mode: int
    size: int
    mtime_ns: int
    inode: int
    ctime_ns: int

    @property
    def path(self) -> Path:
        """Where the entry is."""
        return Path(self.where)


def walk_scope(
    home: Path, scope: Scope, outside: dict[str, list[int]] | None = None, top: str = ""
) -> Iterator[HomeEntry]:
    """Yield every regular file and link in scope, never following links or leaving the home.

    With ``outside``, the same walk also notes path -> [size, mtime_ns] of every file the
    scope leaves out as bulky or by the user's choice (outside.py): one walk of the home per
    snapshot, not two. ``top``: walk only that folder of the home (the caller checked that
    it and its parents are folders in scope).
    """
    base = os.fspath(home)
    stack = [top]
    while stack:
        prefix = stack.pop()
        # Strings, not Paths: a Path joined and converted per folder was a tenth of the walk.
        folder = os.path.join(base, prefix) if prefix else base
        try:
            entries = sorted(os.scandir(folder), key=_name)
        except (FileNotFoundError, NotADirectoryError):
            # Vanished while we walked (Codex deletes its temporary folders), or replaced by
            # a file: either way no folder of that name is there to hold.
            continue
        except PermissionError:
            raise ConfigError(
                f"the folder {folder} cannot be read, so it cannot be snapshotted",
                hint="Run codexsnap as the owner of the Codex home, or exclude it in the "
                "store's scope.toml.",
            ) from None
        for entry in entries:
            relpath = f"{prefix}/{entry.name}" if prefix else entry.name
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # the app's own atomic saves come and go while we walk
            race_point(entry.path)
            if stat.S_ISDIR(st.st_mode):
                rule = scope.excluded_by(relpath) or scope.excluded_by(relpath + "/")
                if rule is None:
                    stack.append(relpath)
                elif outside is not None and rule.category in LISTED_CATEGORIES:
                    _list_all(entry.path, relpath, outside)
                continue
            rule = scope.excluded_by(relpath)
            if rule is not None:
                if (
                    outside is not None
                    and rule.category in LISTED_CATEGORIES
                    and stat.S_ISREG(st.st_mode)
                ):
                    outside[relpath] = [st.st_size, st.st_mtime_ns]
                continue
            if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
                continue  # sockets, fifos, devices: runtime only
            yield HomeEntry(
                relpath=relpath,
                where=entry.path,
                is_symlink=stat.S_ISLNK(st.st_mode),
                mode=stat.S_IMODE(st.st_mode),
                size=st.st_size,
                mtime_ns=st.st_mtime_ns,
                inode=st.st_ino,
                ctime_ns=st.st_ctime_ns,
            )


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


def _list_all(folder: str, prefix: str, outside: dict[str, list[int]]) -> None:
    """Every regular file under a folder the scope leaves out (unreadable parts skipped)."""
    stack = [(folder, prefix)]
    while stack:
        path, relprefix = stack.pop()
        try:
            entries = list(os.scandir(path))
        except OSError:
            continue
        for entry in entries:
            relpath = f"{relprefix}/{entry.name}"
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                stack.append((entry.path, relpath))
            elif stat.S_ISREG(st.st_mode):
                outside[relpath] = [st.st_size, st.st_mtime_ns]
