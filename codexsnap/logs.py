"""Reading the desktop app's logs for remote-control failures, within a bound on bytes read.

Lines look like ``2026-09-21T07:42:23.769Z error [remote-control] message key=value``. A
revocation line rarely names the client: the ``localEnrollmentClientId=cli_...`` of the
refresh request logged just before it does (openai/codex #28379, #25532, #23865).
"""

from __future__ import annotations

import gzip
import os
import re
import stat
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

_LOG_NAME = re.compile(r"\.(log|txt)(\.\d+)?$|\.gz$", re.IGNORECASE)
_TIMESTAMP = re.compile(
    r"^\s*(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)"
)
_REVOKED = re.compile(r"remote[- ]control client has been revoked", re.IGNORECASE)
# Only the id the app sends for its *own* stored enrollment: ``responseClientId`` and the
# like name a new client that the server just issued, not the revoked one.
_LOCAL_CLIENT = re.compile(
    r"""\blocalEnrollmentClientId["']?\s*[=:]\s*["']?(cli_[A-Za-z0-9_-]+|null)\b"""
)
_CLIENT_ON_REVOCATION = re.compile(
    r"""\b(?:localEnrollmentClientId|clientId|client_id)["']?\s*[=:]\s*["']?(cli_[A-Za-z0-9_-]+)"""
)
_FINDINGS = (
    # HTTP 403 {"detail":"Multi-factor authentication required"} on enrollment (#27167).
    ("mfa-required", re.compile(r"multi-factor authentication required|\bmfa[_ ]required\b", re.I)),
    # remote_control_client_enrollment_start_account_mismatch (#22804).
    (
        "account-mismatch",
        re.compile(r"enrollment_start_account_mismatch|does not match current account", re.I),
    ),
)
_LOOKAHEAD = 5  # lines after a revocation that may still carry the client id
_MAX_PER_KEY = 50  # evidence kept per client id (or finding kind): a retry loop logs thousands
_MAX_LISTED = 100_000  # directory entries looked at, whatever the folders hold
_CHUNK = 1 << 20

_T = TypeVar("_T")


@dataclass(frozen=True)
class RevocationEvidence:
    """One "client has been revoked" line and the client it concerns, when the log says."""

    path: Path
    line_number: int  # 1-based, counted from the first line read (see LogScan.truncated)
    timestamp: str | None
    client_id: str | None


@dataclass(frozen=True)
class LogFinding:
    """A server-side refusal that no local edit cures."""

    kind: str  # "mfa-required" or "account-mismatch"
    path: Path
    line_number: int
    timestamp: str | None


@dataclass(frozen=True)
class LogScan:
    """What the logs say, how much of them was read, and what could not be read."""

    folders: tuple[Path, ...]
    files_read: int
    bytes_read: int
    truncated: bool  # a bound stopped the scan: older files or the head of a big one unread
    revoked: tuple[RevocationEvidence, ...]  # newest file first, newest line first
    findings: tuple[LogFinding, ...]  # in the same order
    unreadable: tuple[Path, ...]

    @property
    def revoked_client_ids(self) -> frozenset[str]:
        """Every client id a revocation was tied to."""
        return frozenset(e.client_id for e in self.revoked if e.client_id is not None)


@dataclass
class _Scan:
    files_read: int = 0
    bytes_read: int = 0
    truncated: bool = False


def scan_logs(
    folders: Sequence[Path], max_bytes: int = 64 * 1024 * 1024, max_files: int = 500
) -> LogScan:
    """Scan log files under ``folders``, newest first, reading at most ``max_bytes`` of text.

    A big file is read from its end (the recent lines); a compressed one from its start, as
    far as the bound allows. Folders that do not exist are skipped; files that cannot be
    read are listed, never fatal.
    """
    existing = tuple(dict.fromkeys(f for f in folders if f.is_dir()))
    unreadable: list[Path] = []
    candidates, listing_cut = _candidates(existing, unreadable)
    progress = _Scan(truncated=listing_cut or len(candidates) > max_files)
    revoked: list[RevocationEvidence] = []
    findings: list[LogFinding] = []
    per_client: dict[object, int] = {}
    per_kind: dict[object, int] = {}
    for path, size in candidates[:max_files]:
        budget = max_bytes - progress.bytes_read
        if budget <= 0:
            progress.truncated = True
            break
        try:
            data, consumed, cut = _read(path, size, budget)
        except (OSError, EOFError, zlib.error):
            unreadable.append(path)
            continue
        progress.files_read += 1
        progress.bytes_read += consumed
        progress.truncated |= cut
        file_revoked, file_findings = _scan_text(path, data.decode("utf-8", "replace"))
        revoked += _bounded(reversed(file_revoked), per_client, lambda e: e.client_id)
        findings += _bounded(reversed(file_findings), per_kind, lambda f: f.kind)
    return LogScan(
        folders=existing,
        files_read=progress.files_read,
        bytes_read=progress.bytes_read,
        truncated=progress.truncated,
        revoked=tuple(revoked),
        findings=tuple(findings),
        unreadable=tuple(unreadable),
    )


def _candidates(
    folders: tuple[Path, ...], unreadable: list[Path]
) -> tuple[list[tuple[Path, int]], bool]:
    """Log-named regular files under the folders, newest first, each once; and a cut flag."""
    seen: set[tuple[int, int]] = set()
    found: list[tuple[float, str, Path, int]] = []
    listed = 0
    for folder in folders:
        walker = os.walk(folder, onerror=lambda error: _note(error, unreadable))
        for base, dirs, files in walker:
            dirs.sort()
            listed += len(files) + len(dirs)
            if listed > _MAX_LISTED:
                return _newest_first(found), True
            for name in sorted(files):
                if not _LOG_NAME.search(name):
                    continue
                path = Path(base, name)
                try:
                    st = path.stat()  # follows a link: a rotated log may be one
                except OSError:
                    unreadable.append(path)  # a broken or looping link
                    continue
                if not stat.S_ISREG(st.st_mode):
                    unreadable.append(path)  # a fifo would block the reader forever
                    continue
                if (st.st_dev, st.st_ino) in seen:
                    continue  # the same folder given twice, or a link to a file already seen
                seen.add((st.st_dev, st.st_ino))
                found.append((st.st_mtime, str(path), path, st.st_size))
    return _newest_first(found), False


def _newest_first(found: list[tuple[float, str, Path, int]]) -> list[tuple[Path, int]]:
    found.sort(key=lambda item: (-item[0], item[1]))
    return [(path, size) for _, _, path, size in found]


def _note(error: OSError, unreadable: list[Path]) -> None:
    if error.filename:
        unreadable.append(Path(error.filename))


def _read(path: Path, size: int, budget: int) -> tuple[bytes, int, bool]:
    """Whole lines of text, the bytes of the budget spent, and whether some were left unread."""
    if path.name.lower().endswith(".gz"):
        return _read_gzip(path, budget)
    with path.open("rb") as handle:
        if size <= budget:
            data = handle.read(budget)
            return data, len(data), False
        handle.seek(size - budget)
        data = handle.read(budget)
    newline = data.find(b"\n")
    return (data[newline + 1 :] if newline >= 0 else b""), len(data), True  # cut line dropped


def _read_gzip(path: Path, budget: int) -> tuple[bytes, int, bool]:
    # A gzip stream cannot be read from its end without inflating all of it: read its head.
    parts: list[bytes] = []
    total = 0
    with gzip.open(path, "rb") as handle:
        try:
            while total < budget:
                chunk = handle.read(min(_CHUNK, budget - total))
                if not chunk:
                    return b"".join(parts), total, False
                parts.append(chunk)
                total += len(chunk)
            more = bool(handle.read(1))
        except (EOFError, zlib.error, gzip.BadGzipFile):
            if not parts:
                raise
            return b"".join(parts), total, False  # a rotated file cut short: keep what inflated
    data = b"".join(parts)
    if more:
        newline = data.rfind(b"\n")
        data = data[: newline + 1] if newline >= 0 else b""
    return data, total, more


def _scan_text(path: Path, text: str) -> tuple[list[RevocationEvidence], list[LogFinding]]:
    revoked: list[RevocationEvidence] = []
    findings: list[LogFinding] = []
    last_client: str | None = None
    last_timestamp: str | None = None
    waiting: list[int] = []  # indexes into ``revoked`` still without a client id
    for number, line in enumerate(text.splitlines(), start=1):
        stamped = _TIMESTAMP.match(line)
        if stamped:
            last_timestamp = stamped[1]
        # Continuation lines (a response body, a stack) belong to the last stamped line.
        timestamp = last_timestamp
        local = _LOCAL_CLIENT.search(line)
        local_id = None if local is None or local[1] == "null" else local[1]
        if _REVOKED.search(line):
            on_line = _CLIENT_ON_REVOCATION.search(line)
            client = on_line[1] if on_line else last_client
            if client is None:
                waiting.append(len(revoked))
            revoked.append(RevocationEvidence(path, number, timestamp, client))
        elif local_id is not None and waiting:
            for index in waiting:
                if number - revoked[index].line_number <= _LOOKAHEAD:
                    revoked[index] = replace(revoked[index], client_id=local_id)
            waiting.clear()
        if local is not None:
            last_client = local_id  # "=null": the app had no enrollment at that point
        for kind, pattern in _FINDINGS:
            if pattern.search(line):
                findings.append(LogFinding(kind, path, number, timestamp))
    return revoked, findings


def _bounded(new: Iterable[_T], counts: dict[object, int], key: Callable[[_T], object]) -> list[_T]:
    """The items of ``new`` to keep: at most ``_MAX_PER_KEY`` per key over the whole scan."""
    taken: list[_T] = []
    for item in new:
        k = key(item)
        if counts.get(k, 0) < _MAX_PER_KEY:
            counts[k] = counts.get(k, 0) + 1
            taken.append(item)
    return taken
