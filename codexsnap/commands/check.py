"""codexsnap check: verify the store, and set damaged snapshots aside (never delete them)."""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from codexsnap.commands import open_existing_store
from codexsnap.errors import StoreError, TamperedSnapshotError
from codexsnap.scope import load_scope
from codexsnap.scratch import scratch_folder
from codexsnap.store import Snapshot, SnapshotStore
from codexsnap.store.index import is_object_id
from codexsnap.store.manifest import FileRecord


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

    @property
    def damaged(self) -> bool:
        """True when anything is damaged (warnings alone are not damage)."""
        return any(f.severity == "damage" for f in self.findings)


def _check_records(
    store: SnapshotStore, snapshot: Snapshot, records: dict[str, FileRecord]
) -> tuple[list[str], list[str]]:
    """(damage, warnings) of a snapshot's files."""
    problems: list[str] = []
    warnings: list[str] = []
    sizes = store.object_sizes(sorted({r.blob for r in records.values()}))
    for path, record in sorted(records.items()):
        size = sizes.get(record.blob)
        if size is None:
            problems.append(f"{path}: its content is missing from the store")
        elif record.kind != "symlink" and size != record.size:
            # Older snapshots took the size from the walk's stat and the bytes from a read
            # later: a file Codex appended to in between (history.jsonl) differs, yet its
            # bytes are what the blob id names. Only bytes that do not verify are damage.
            if _verifies(store, record.blob):
                warnings.append(
                    f"{path}: the manifest says {record.size} bytes, the stored file (intact) "
                    f"has {size}: it changed while it was snapshotted"
                )
            else:
                problems.append(f"{path}: its stored bytes do not match their id")
    return problems, warnings


def _verifies(store: SnapshotStore, blob: str) -> bool:
    try:
        data = store.read_blob(blob)
    except StoreError:
        return False
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest() == blob


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
        live = store.scan_home(home, load_scope(store_root), write=False)
        files = {r.blob: r for r in live.values() if r.kind == "file"}
        sizes = store.object_sizes(sorted(files))
        for blob, record in sorted(files.items(), key=lambda item: item[1].relpath):
            if sizes.get(blob) is not None and _verifies(store, blob):
                continue
            if store.git.write_back(blob, home / record.relpath):
                healed.append(record.relpath)
    return healed


def check(store_root: Path, *, quarantine: bool = True) -> CheckResult:
    """git fsck, manifests against blobs, stored databases, before/after pairs."""
    findings: list[Finding] = []
    checked_dbs: set[str] = set()
    newly_quarantined: list[str] = []
    released: list[str] = []
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
                try:
                    if snapshot.damaged:
                        raise TamperedSnapshotError(f"cannot be read: {snapshot.damaged}")
                    records = store.records(snapshot)
                    problems, warnings = _check_records(store, snapshot, records)
                    findings += [Finding("warning", snapshot.id, w) for w in warnings]
                    for record in records.values():
                        if record.kind == "sqlite" and record.blob not in checked_dbs:
                            checked_dbs.add(record.blob)
                            verdict = _database_ok(store.read_blob(record.blob))
                            if verdict:
                                problems.append(f"{record.relpath}: integrity_check: {verdict}")
                except TamperedSnapshotError as exc:
                    problems = [exc.message]
                except Exception as exc:  # a corrupt object: git reports it, we must go on
                    problems = [f"cannot be read: {type(exc).__name__}: {exc}"]
                for problem in problems:
                    findings.append(Finding("damage", snapshot.id, problem))
                if problems and quarantine and snapshot.id not in already:
                    with store.locked():
                        store.quarantine(snapshot.id, problems[0])
                    newly_quarantined.append(snapshot.id)
                elif not problems and quarantine and snapshot.id in already:
                    # Verified afresh and found whole (a false alarm, or healed): usable again.
                    with store.locked():
                        store.release(snapshot.id)
                    released.append(snapshot.id)
    return CheckResult(
        count, len(checked_dbs), tuple(findings), tuple(newly_quarantined), tuple(released)
    )
