"""Scanning desktop logs: revocations tied to their client, bounds, rotation, unreadable files."""

from __future__ import annotations

import gzip
import os
import time
from pathlib import Path

import pytest

from codexsnap.home import default_log_folders
from codexsnap.logs import scan_logs

CLIENT_A = "cli_0a1b2c3d4e5f6a7b8c9d0e1f"
CLIENT_B = "cli_1b2c3d4e5f6a7b8c9d0e1f2a"
CLIENT_C = "cli_2c3d4e5f6a7b8c9d0e1f2a3b"
CLIENT_D = "cli_3d4e5f6a7b8c9d0e1f2a3b4c"


def stamp(second: int) -> str:
    return f"2026-09-21T07:42:{second:02d}.769Z"


def refresh(second: int, client: str) -> str:
    return (
        f"{stamp(second)} info [remote-control] POST "
        "https://chatgpt.com/backend-api/codex/remote/control/client/refresh/start "
        f"status=403 durationMs=182 hasExistingEnrollment=true localEnrollmentClientId={client}"
    )


def revoked(second: int, extra: str = "") -> str:
    return (
        f"{stamp(second)} error [remote-control] Remote-control client has been revoked "
        f"errorCode=client_revoked{extra}"
    )


def noise(second: int) -> str:
    return f"{stamp(second)} warning [global-state] persisted atom state bytes=183204 keys=43"


def write(path: Path, lines: list[str], age: float = 0.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    when = time.time() - age
    os.utime(path, (when, when))
    return path


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    folder = Path.home() / "Library" / "Logs" / "com.openai.codex"
    folder.mkdir(parents=True)
    return folder


def test_revocation_takes_the_client_of_the_closest_refresh_before_it(logs: Path) -> None:
    path = write(
        logs / "2026/09/21/codex-desktop.log",
        [
            noise(1),
            refresh(2, CLIENT_A),
            revoked(3),
            refresh(4, CLIENT_B),  # B refreshed fine: never revoked
            noise(5),
            refresh(6, CLIENT_A),
            refresh(7, CLIENT_C),
            noise(8),
            revoked(9),
        ],
    )
    scan = scan_logs([logs])
    assert scan.revoked_client_ids == {CLIENT_A, CLIENT_C}
    assert [(e.line_number, e.client_id) for e in scan.revoked] == [(9, CLIENT_C), (3, CLIENT_A)]
    assert scan.revoked[0].timestamp == stamp(9)
    assert scan.revoked[0].path == path
    assert scan.files_read == 1 and not scan.truncated and not scan.unreadable


def test_a_client_on_the_revocation_line_wins(logs: Path) -> None:
    write(logs / "main.log", [refresh(1, CLIENT_A), revoked(2, f" clientId={CLIENT_D}")])
    assert scan_logs([logs]).revoked_client_ids == {CLIENT_D}


def test_a_client_in_the_next_few_lines_is_taken_when_none_came_before(logs: Path) -> None:
    write(
        logs / "main.log",
        [revoked(1), noise(2), refresh(3, CLIENT_B)]
        + [revoked(10)]
        + [noise(11 + i) for i in range(6)]
        + [refresh(20, CLIENT_C)],
    )
    scan = scan_logs([logs])
    assert [(e.line_number, e.client_id) for e in scan.revoked] == [(4, CLIENT_B), (1, CLIENT_B)]


def test_a_null_local_enrollment_forgets_the_earlier_client(logs: Path) -> None:
    write(
        logs / "main.log",
        [refresh(1, CLIENT_A), refresh(2, "null"), revoked(3)],
    )
    scan = scan_logs([logs])
    assert [e.client_id for e in scan.revoked] == [None]
    assert scan.revoked_client_ids == frozenset()


def test_rotated_and_compressed_logs_are_read_newest_first(logs: Path) -> None:
    write(logs / "main.log", [refresh(1, CLIENT_A), revoked(2)], age=0)
    write(logs / "main.log.1", [refresh(1, CLIENT_B), revoked(2)], age=3600)
    old = logs / "main.log.2.gz"
    old.write_bytes(gzip.compress(f"{refresh(1, CLIENT_C)}\n{revoked(2)}\n".encode()))
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    write(logs / "state.json", [revoked(1, f" clientId={CLIENT_D}")])  # not a log file
    write(logs / "notes.txt", [noise(1)], age=60)
    scan = scan_logs([logs])
    assert [e.client_id for e in scan.revoked] == [CLIENT_A, CLIENT_B, CLIENT_C]
    assert [e.path.name for e in scan.revoked] == ["main.log", "main.log.1", "main.log.2.gz"]
    assert scan.files_read == 4


def test_default_log_folders_are_found_under_home_and_only_when_present(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("APPDATA", raising=False)
    monkeypatch.delenv("LOCALAPPDATA", raising=False)
    assert default_log_folders() == []
    mac = Path.home() / "Library" / "Logs" / "com.openai.codex"
    linux = Path.home() / ".config" / "Codex" / "logs"
    appdata = tmp_path / "AppData" / "Roaming"
    (appdata / "Codex" / "logs").mkdir(parents=True)
    mac.mkdir(parents=True)
    linux.mkdir(parents=True)
    monkeypatch.setenv("APPDATA", str(appdata))
    assert default_log_folders() == [mac, linux, appdata / "Codex" / "logs"]


def test_the_bound_reads_the_tail_of_a_big_file_and_says_so(logs: Path) -> None:
    lines = [refresh(1, CLIENT_A), revoked(2)] + [noise(3)] * 5000
    lines += [refresh(4, CLIENT_B), revoked(5)]
    write(logs / "main.log", lines)
    scan = scan_logs([logs], max_bytes=4096)
    assert scan.revoked_client_ids == {CLIENT_B}  # the old revocation of A lies in the unread head
    assert scan.truncated and scan.bytes_read <= 4096


def test_a_huge_sparse_log_is_read_from_its_end_only(logs: Path) -> None:
    path = logs / "main.log"
    with path.open("wb") as handle:
        handle.truncate(3 << 30)  # 3 GB of holes: nothing is written
        handle.seek(3 << 30)
        handle.write(f"\n{refresh(1, CLIENT_D)}\n{revoked(2)}\n".encode())
    started = time.monotonic()
    scan = scan_logs([logs], max_bytes=1 << 20)
    assert time.monotonic() - started < 5
    assert scan.revoked_client_ids == {CLIENT_D}
    assert scan.truncated and scan.bytes_read <= 1 << 20


def test_the_byte_bound_leaves_older_files_unread(logs: Path) -> None:
    write(logs / "new.log", [noise(i % 60) for i in range(400)], age=0)
    write(logs / "old.log", [refresh(1, CLIENT_A), revoked(2)], age=3600)
    scan = scan_logs([logs], max_bytes=8 * 1024)
    assert scan.files_read == 1 and scan.truncated
    assert not scan.revoked


def test_the_file_bound_leaves_older_files_unread(logs: Path) -> None:
    for number in range(5):
        write(logs / f"part-{number}.log", [refresh(1, CLIENT_A), revoked(2)], age=number * 60)
    scan = scan_logs([logs], max_files=2)
    assert scan.files_read == 2 and scan.truncated
    assert {e.path.name for e in scan.revoked} == {"part-0.log", "part-1.log"}


def test_a_big_compressed_log_is_read_from_its_head_within_the_bound(logs: Path) -> None:
    text = "\n".join([refresh(1, CLIENT_C), revoked(2)] + [noise(3)] * 20000) + "\n"
    (logs / "main.log.3.gz").write_bytes(gzip.compress(text.encode()))
    scan = scan_logs([logs], max_bytes=16 * 1024)
    assert scan.revoked_client_ids == {CLIENT_C}
    assert scan.truncated and scan.bytes_read <= 16 * 1024


def test_unreadable_files_are_listed_and_the_others_still_read(logs: Path) -> None:
    write(logs / "good.log", [refresh(1, CLIENT_A), revoked(2)])
    (logs / "broken.log.1.gz").write_bytes(b"not gzip at all\n")
    (logs / "gone.log").symlink_to(logs / "deleted.log")
    os.mkfifo(logs / "pipe.log")  # opening it would block forever
    locked = write(logs / "locked.log", [refresh(1, CLIENT_B), revoked(2)])
    locked.chmod(0o000)
    try:
        scan = scan_logs([logs])
    finally:
        locked.chmod(0o644)
    unreadable = {p.name for p in scan.unreadable}
    assert {"broken.log.1.gz", "gone.log", "pipe.log"} <= unreadable
    assert CLIENT_A in scan.revoked_client_ids
    if os.geteuid() != 0:  # root reads a 000 file anyway
        assert "locked.log" in unreadable
        assert CLIENT_B not in scan.revoked_client_ids


def test_server_side_refusals_are_found_with_their_time(logs: Path) -> None:
    write(
        logs / "main.log",
        [
            f"{stamp(1)} info [remote-control] GET /backend-api/wham/remote/control/"
            "mfa_requirement status=200",
            f"{stamp(2)} error [remote-control] remote control server enrollment failed at "
            "https://chatgpt.com/backend-api/wham/remote/control/server/enroll: HTTP 403 Forbidden",
            'body: {"detail":"Multi-factor authentication required"}',
            f"{stamp(3)} info [remote-control-websocket] "
            "remote_control_client_enrollment_start_account_mismatch "
            "responseAccountUserId=user-AbC1dEf2 tokenAccountUserId=user-XyZ9__acct",
        ],
    )
    scan = scan_logs([logs])
    found = [(f.kind, f.line_number, f.timestamp) for f in scan.findings]
    assert found == [("account-mismatch", 4, stamp(3)), ("mfa-required", 3, stamp(2))]


def test_missing_folders_are_skipped_and_a_folder_given_twice_is_read_once(
    logs: Path, tmp_path: Path
) -> None:
    write(logs / "main.log", [refresh(1, CLIENT_A), revoked(2)])
    scan = scan_logs([tmp_path / "nowhere", logs, logs])
    assert scan.folders == (logs,)
    assert scan.files_read == 1 and len(scan.revoked) == 1


def test_a_retry_loop_keeps_a_bounded_number_of_lines(logs: Path) -> None:
    lines: list[str] = []
    for second in range(300):
        lines += [refresh(second % 60, CLIENT_A), revoked(second % 60)]
    write(logs / "main.log", lines)
    scan = scan_logs([logs])
    assert 0 < len(scan.revoked) <= 50
    assert scan.revoked[0].line_number == len(lines)  # the newest line is kept
