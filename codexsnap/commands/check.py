"""codexsnap check: verify the store, and set damaged snapshots aside (never delete them)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from codexsnap.commands import open_existing_store
from codexsnap.errors import TamperedSnapshotError
from codexsnap.scope import load_scope
from codexsnap.scratch import scratch_folder
from codexsnap.store import Snapshot, SnapshotStore
from codexsnap.store.index import is_object_id
from codexsnap.store.manifest import FileRecord
from codexsnap.store.tables import Quarantine


@dataclass(frozen=True)
class Finding:
    """One thing ``check`` found: damage (exit 1) or a warning."""

    severity: str  # "damage" or "warning"
    snapshot: str | None
    message: str


@dataclass(frozen=True)
class CheckResult:
    """The verdict on the store."""

    snapshots_checked: int
    databases_checked: int
    findings: tuple[Finding, ...]
    quarantined: tuple[str, ...]
    released: tuple[str, ...] = ()
    # Snapshots only some files of which are damaged: id -> those paths (the rest restore).
    damaged_files: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def damaged(self) -> bool:
        """True when anything is damaged (warnings alone are not damage)."""
        return any(f.severity == "damage" for f in self.findings)


def _check_records(
    store: SnapshotStore, records: dict[str, FileRecord], verified: dict[str, str]
) -> tuple[dict[str, str], list[str]]:
    """(damaged path -> why, warnings) of a snapshot's files; ``verified`` caches each
    blob's verdict across snapshots ("" whole, "missing", "corrupt"), so a blob shared by
    all of them is read once."""
    problems: dict[str, str] = {}
    warnings: list[str] = []
    sizes = store.object_sizes(sorted({r.blob for r in records.values()} - verified.keys()))
    for path, record in sorted(records.items()):
        if record.blob not in verified:
            size = sizes.get(record.blob)
            verified[record.blob] = (
                "missing" if size is None else "" if _verifies(store, record.blob) else "corrupt"
            )
            intact = not verified[record.blob]
            if intact and record.kind != "symlink" and size != record.size:
                # Older snapshots took the size from the walk's stat and the bytes from a
                # read later: a file Codex appended to in between (history.jsonl) differs,
                # yet its bytes are what the blob id names. Only bytes that do not verify
                # are damage.
                warnings.append(
                    f"{path}: the manifest says {record.size} bytes, the stored file (intact) "
                    f"has {sizes[record.blob]}: it changed while it was snapshotted"
                )
        if verified[record.blob] == "missing":
            problems[path] = f"{path}: its content is missing from the store"
        elif verified[record.blob]:
            problems[path] = f"{path}: its stored bytes do not match their id"
    return problems, warnings


def _verifies(store: SnapshotStore, blob: str) -> bool:
    return store.read_verified(blob) is not None


def _database_ok(data: bytes) -> str | None:
    with scratch_folder("check-") as scratch:
        path = scratch / "db.sqlite"
        path.write_bytes(data)
        try:
            db = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)
            try:
                verdict = db.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                db.close()
        except sqlite3.DatabaseError as exc:
            return str(exc)
    return None if verdict == "ok" else str(verdict)


def _unpaired(history: list[Snapshot]) -> list[Finding]:
    """A "before" that no "after" (or recovery) names: a run stopped between the two."""
    closed = {s.trailers["Before"] for s in history if "Before" in s.trailers}
    return [
        Finding(
            "warning",
            snapshot.id,
            f"'{snapshot.summary}' has no matching after-snapshot: that run stopped early",
        )
        for snapshot in history
        if snapshot.operation.startswith("before-") and snapshot.id not in closed
    ]


def repair(store_root: Path, home: Path) -> list[str]:
    """Write back every stored file that is missing or corrupt while the live home still
    holds the same bytes (same blob id): the paths healed."""
    healed: list[str] = []
    with open_existing_store(store_root) as store, store.locked():
        scope = load_scope(store_root)
        live = store.scan_home(home, scope, write=False)
        files = {r.blob: r for r in live.values() if r.kind == "file"}
        sizes = store.object_sizes(sorted(files))
        for blob, record in sorted(files.items(), key=lambda item: item[1].relpath):
            if sizes.get(blob) is not None and _verifies(store, blob):
                continue
            healed += store.heal_from_home(
                home, scope, {record.relpath: record}, {blob}, release=False
            )
    return healed


def check(store_root: Path, *, quarantine: bool = True) -> CheckResult:
    """git fsck, manifests against blobs, stored databases, before/after pairs."""
    findings: list[Finding] = []
    checked_dbs: dict[str, str | None] = {}
    verified: dict[str, str] = {}
    newly_quarantined: list[str] = []
    released: list[str] = []
    damaged_files: dict[str, tuple[str, ...]] = {}
    count = 0
    with open_existing_store(store_root) as store:
        findings += [Finding("damage", None, f"git fsck: {line}") for line in store.fsck()]
        already = store.quarantined()
        seen: set[str] = set()
        for home, head in sorted(store.home_heads().items()):
            if head is not None and not is_object_id(head):
                findings.append(Finding("damage", None, f"the ref of home {home} is damaged"))
            history = store.snapshots_of(home, head)
            findings += _unpaired([s for s in history if not s.damaged])
            for snapshot in history:
                if snapshot.id in seen:
                    continue
                seen.add(snapshot.id)
                count += 1
                entry, problems, warnings = _check_snapshot(store, snapshot, verified, checked_dbs)
                findings += [Finding("warning", snapshot.id, w) for w in warnings]
                findings += [Finding("damage", snapshot.id, p) for p in problems]
                if entry is not None and entry.files:
                    damaged_files[snapshot.id] = tuple(sorted(entry.files))
                old = already.get(snapshot.id)
                if not quarantine or entry == old:
                    continue
                with store.locked():
                    if entry is None:
                        # Verified afresh and found whole (a false alarm, or healed).
                        store.release(snapshot.id)
                        released.append(snapshot.id)
                    else:
                        # New, or narrowed to some files (an entry of the older format
                        # set the whole snapshot aside), or other files damaged now.
                        store.quarantine(snapshot.id, entry)
                        if old is None:
                            newly_quarantined.append(snapshot.id)
    return CheckResult(
        count,
        len(checked_dbs),
        tuple(findings),
        tuple(newly_quarantined),
        tuple(released),
        damaged_files,
    )


def _check_snapshot(
    store: SnapshotStore,
    snapshot: Snapshot,
    verified: dict[str, str],
    checked_dbs: dict[str, str | None],
) -> tuple[Quarantine | None, list[str], list[str]]:
    """(the quarantine entry it needs, damage, warnings) of one snapshot.

    Damage to the commit, tree or manifest sets the whole snapshot aside; damaged files
    only those files, so the others still restore.
    """
    try:
        if snapshot.damaged:
            raise TamperedSnapshotError(f"cannot be read: {snapshot.damaged}")
        records = store.records(snapshot)
    except TamperedSnapshotError as exc:
        return Quarantine(exc.message), [exc.message], []
    except Exception as exc:  # a corrupt object: git reports it, we must go on
        problem = f"cannot be read: {type(exc).__name__}: {exc}"
        return Quarantine(problem), [problem], []
    damaged, warnings = _check_records(store, records, verified)
    for path, record in sorted(records.items()):
        if record.kind != "sqlite" or path in damaged:
            continue
        if record.blob not in checked_dbs:
            data = store.read_verified(record.blob)
            try:
                checked_dbs[record.blob] = _database_ok(data) if data is not None else None
            except OSError as exc:  # no room for the scratch copy: say so, go on
                checked_dbs[record.blob] = f"could not be checked ({exc.strerror or exc})"
        verdict = checked_dbs[record.blob]
        if verdict:
            damaged[path] = f"{path}: integrity_check: {verdict}"
    if not damaged:
        return None, [], warnings
    problems = [damaged[p] for p in sorted(damaged)]
    files = {p: records[p].blob for p in sorted(damaged)}
    return Quarantine(problems[0], files), problems, warnings
