"""codexsnap doctor on realistic homes and real desktop logs, through the commands layer."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from codexsnap.cli.json_output import check_json
from codexsnap.commands.doctor import DoctorResult, doctor
from codexsnap.commands.snapshot import snapshot
from codexsnap.doctor import Check, Cure, render_cure
from codexsnap.doctor.databases import inspect_database
from codexsnap.home import CodexHome
from codexsnap.redact import mask
from tests.helpers import file_states
from tests.homebuilder import ENROLLMENT_KEY, REVOKED_CLIENT_ID, CodexHomeBuilder, enrollments

GLOBAL = ".codex-global-state.json"
BAK = ".codex-global-state.json.bak"
ENROLL = "electron-remote-control-client-enrollments"
OTHER_CLIENT = "cli_7a6b5c4d3e2f1a0b9c8d7e6f"


def desktop_log(lines: Sequence[str], name: str = "codex-desktop-1.log") -> Path:
    """A log file where the macOS app writes them, under the test's HOME."""
    folder = Path.home() / "Library" / "Logs" / "com.openai.codex" / "2026" / "09" / "21"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def refresh(client: str, second: int = 23) -> str:
    return (
        f"2026-09-21T07:42:{second:02d}.700Z info [remote-control] POST "
        "https://chatgpt.com/backend-api/codex/remote/control/client/refresh/start "
        f"hasExistingEnrollment=true localEnrollmentClientId={client}"
    )


def revoked(second: int = 23) -> str:
    return (
        f"2026-09-21T07:42:{second:02d}.769Z error [remote-control] "
        "Remote-control client has been revoked status=403"
    )


def run_doctor(home: Path, store: Path, extra: Sequence[Path] = ()) -> DoctorResult:
    return doctor(CodexHome(home, "CODEX_HOME"), store, extra)


def by_name(result: DoctorResult) -> dict[str, Check]:
    return {check.name: check for check in result.checks}


def listing(root: Path) -> dict[str, tuple[int, int, int]]:
    """Every entry under ``root`` (sockets too): mode, size and modification time."""
    found: dict[str, tuple[int, int, int]] = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        found[path.relative_to(root).as_posix()] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return found


def test_a_broken_home_gets_each_problem_with_its_cure(codex_home: Path, store_root: Path) -> None:
    desktop_log(["2026-09-21T07:42:20.001Z info [app] starting", refresh(REVOKED_CLIENT_ID)])
    desktop_log([refresh(REVOKED_CLIENT_ID), revoked()], name="codex-desktop-2.log")
    result = run_doctor(codex_home, store_root)
    checks = by_name(result)
    assert not result.healthy and result.problems >= 3
    revocation = checks["remote-control-revoked"]
    assert revocation.status == "problem"
    assert revocation.cure == "codexsnap fix remote-control"
    assert mask(REVOKED_CLIENT_ID) in revocation.evidence
    assert (
        "Codex Desktop" in revocation.evidence
        and mask("user_AbC1dEf2GhI3jKl4") in revocation.evidence
    )
    assert "codex-desktop-2.log:2" in revocation.evidence
    assert checks["app-server-socket"].status == "problem"
    assert checks["app-server-socket"].cure == "codexsnap fix app-server-stale"
    assert checks["daemon-pid-files"].status == "problem"
    assert "999999" in checks["daemon-pid-files"].evidence
    assert checks["global-state-leftovers"].status == "warning"
    assert checks["global-state-leftovers"].cure == "codexsnap fix restore-global-state"
    assert checks["store"].status == "warning" and checks["store"].cure == "codexsnap snapshot"
    for name in ("global-state", "global-state-bak", "codex-running", "threads", "sqlite-home"):
        assert checks[name].status == "ok", checks[name]
    assert checks["sqlite:sqlite/state_5.sqlite"].status == "ok"
    assert checks["sqlite:sqlite/codex-dev.db"].status == "ok"
    assert all(
        set(check_json(c, c.cure)) == {"name", "status", "evidence", "cure", "to_run"}
        for c in result.checks
    )


def test_no_id_or_token_is_shown_in_full(codex_home: Path, store_root: Path) -> None:
    desktop_log([refresh(REVOKED_CLIENT_ID), revoked(), refresh(OTHER_CLIENT, 30), revoked(31)])
    text = json.dumps([check_json(c, c.cure) for c in run_doctor(codex_home, store_root).checks])
    for secret in (REVOKED_CLIENT_ID, OTHER_CLIENT, "user_AbC1dEf2GhI3jKl4", "acct_0123456789"):
        assert secret not in text
    assert "ghp_" not in text and "eyJ" not in text


def test_doctor_changes_nothing_in_the_home_and_creates_no_store(
    codex_home: Path, store_root: Path
) -> None:
    desktop_log([refresh(REVOKED_CLIENT_ID), revoked()])
    before = file_states(codex_home, include_excluded=True)
    entries = listing(codex_home)
    run_doctor(codex_home, store_root)
    assert file_states(codex_home, include_excluded=True) == before
    assert listing(codex_home) == entries  # no -wal/-shm beside logs_2.sqlite or codex-dev.db
    assert not (codex_home / "sqlite" / "codex.db-wal").exists()
    assert not store_root.exists()


def test_a_healthy_home_has_no_problem(builder: CodexHomeBuilder, store_root: Path) -> None:
    builder.with_runtime = False
    home = builder.build().resolve()
    snapshot(home, store_root, "baseline")
    desktop_log(["2026-09-21T07:42:20.001Z info [app] starting", refresh(REVOKED_CLIENT_ID)])
    result = run_doctor(home, store_root)
    checks = by_name(result)
    assert result.healthy, [c for c in result.checks if c.status != "ok"]
    assert checks["store"].status == "ok" and "latest snapshot" in checks["store"].evidence
    assert "no revocation in 1 log file" in checks["remote-control-revoked"].evidence


def test_logs_show_a_client_the_state_no_longer_holds(
    builder: CodexHomeBuilder, store_root: Path
) -> None:
    del builder.state[ENROLL]
    home = builder.build().resolve()
    desktop_log([refresh(REVOKED_CLIENT_ID), revoked()])
    check = by_name(run_doctor(home, store_root))["remote-control-revoked"]
    assert check.status == "ok" and "already fixed" in check.evidence
    assert mask(REVOKED_CLIENT_ID) in check.evidence


def test_only_the_revoked_one_among_several_enrollments(
    builder: CodexHomeBuilder, store_root: Path
) -> None:
    other = dict(enrollments()[ENROLLMENT_KEY], clientId=OTHER_CLIENT)
    builder.state[ENROLL] = {**enrollments(), ENROLLMENT_KEY.replace("user_", "user_Zz"): other}
    home = builder.build().resolve()
    # Both clients appear in the log; only the first one's refresh ends in a revocation.
    desktop_log([refresh(REVOKED_CLIENT_ID, 1), revoked(2), refresh(OTHER_CLIENT, 3)])
    check = by_name(run_doctor(home, store_root))["remote-control-revoked"]
    assert check.status == "problem"
    assert check.cure == "codexsnap fix remote-control --only-revoked"
    assert "1 other enrollment would be kept" in check.evidence


def test_a_revocation_that_names_no_client_still_flags_held_enrollments(
    codex_home: Path, store_root: Path
) -> None:
    desktop_log([revoked()])
    check = by_name(run_doctor(codex_home, store_root))["remote-control-revoked"]
    assert check.status == "problem" and check.cure == "codexsnap fix remote-control"
    assert "without a client" in check.evidence


def test_logs_given_with_logs_dir_rotated_and_unreadable(
    codex_home: Path, store_root: Path, tmp_path: Path
) -> None:
    import gzip

    extra = tmp_path / "copied-logs"
    extra.mkdir()
    (extra / "main.log.1.gz").write_bytes(
        gzip.compress(f"{refresh(REVOKED_CLIENT_ID)}\n{revoked()}\n".encode())
    )
    (extra / "main.log").write_text("2026-09-21T08:00:00.000Z info [app] starting\n")
    (extra / "main.log.2.gz").write_bytes(b"truncated download")
    result = run_doctor(codex_home, store_root, [extra, tmp_path / "typo"])
    check = by_name(result)["remote-control-revoked"]
    assert check.status == "problem" and "main.log.1.gz:2" in check.evidence
    assert "1 unreadable" in check.evidence and "not found: " in check.evidence


def test_server_side_breakages_name_the_issue_to_follow(codex_home: Path, store_root: Path) -> None:
    desktop_log(
        [
            "2026-09-21T07:40:00.000Z error [remote-control] remote control server enrollment "
            "failed: HTTP 403 Forbidden",
            'body: {"detail":"Multi-factor authentication required"}',
            "2026-09-21T07:41:00.000Z info [remote-control-websocket] "
            "remote_control_client_enrollment_start_account_mismatch",
        ]
    )
    checks = by_name(run_doctor(codex_home, store_root))
    mfa, account = checks["remote-control-mfa"], checks["remote-control-account"]
    assert mfa.status == account.status == "warning"
    assert mfa.cure is not None and "no local cure" in mfa.cure and "issues/27167" in mfa.cure
    assert account.cure is not None and "issues/22804" in account.cure
    assert "2026-09-21T07:40:00.000Z" in mfa.evidence


def test_a_running_desktop_app_is_named_and_cures_wait_for_it(
    codex_home: Path, store_root: Path, tmp_path: Path
) -> None:
    fake = tmp_path / "Codex"
    shutil.copy("/bin/sleep", fake)
    desktop_log([refresh(REVOKED_CLIENT_ID), revoked()])
    app = subprocess.Popen([str(fake), "30"])
    try:
        checks = by_name(run_doctor(codex_home, store_root))
    finally:
        app.kill()
        app.wait()
    running = checks["codex-running"]
    assert running.status == "warning" and f"pid {app.pid}" in running.evidence
    assert running.cure == "quit Codex"
    assert checks["app-server-socket"].status == "warning"  # not stale for sure: the app runs
    assert checks["remote-control-revoked"].cure == "quit Codex, then codexsnap fix remote-control"
    assert checks["sqlite:sqlite/state_5.sqlite"].status == "ok"  # read in place, through locks
    assert not (codex_home / "sqlite" / "codex.db-wal").exists()


def test_a_torn_global_state_is_a_problem_and_bak_is_no_backup(
    codex_home: Path, store_root: Path
) -> None:
    (codex_home / GLOBAL).write_bytes(b"\x00" * 4096)
    checks = by_name(run_doctor(codex_home, store_root))
    assert checks["global-state"].status == "problem"
    assert "NUL" in checks["global-state"].evidence
    assert checks["global-state"].cure == "codexsnap fix restore-global-state"
    assert checks["global-state-bak"].status == "warning"
    assert checks["remote-control-revoked"].status == "skipped"  # no log: nothing to compare


def test_a_bak_edited_apart_is_a_warning(codex_home: Path, store_root: Path) -> None:
    state = json.loads((codex_home / BAK).read_bytes())
    del state[ENROLL]
    (codex_home / BAK).write_text(json.dumps(state))
    check = by_name(run_doctor(codex_home, store_root))["global-state-bak"]
    assert check.status == "warning" and ENROLL in check.evidence


def test_a_global_state_without_projects_is_a_warning(
    builder: CodexHomeBuilder, store_root: Path
) -> None:
    builder.state["local-projects"] = {}  # an emptied registry, as the app writes it
    home = builder.build().resolve()
    check = by_name(run_doctor(home, store_root))["global-state"]
    assert check.status == "warning" and check.cure == "codexsnap fix restore-global-state"


def test_a_damaged_database_is_a_problem_checked_on_a_copy(
    codex_home: Path, store_root: Path
) -> None:
    path = codex_home / "goals_1.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE goals (id INTEGER PRIMARY KEY, text TEXT)")
    db.executemany("INSERT INTO goals VALUES (?, ?)", [(i, "goal " * 40) for i in range(400)])
    db.commit()
    db.close()
    with path.open("r+b") as handle:  # scribble over b-tree pages, keep the header
        handle.seek(4096 * 3)
        handle.write(b"\xa5" * 4096 * 4)
    check = by_name(run_doctor(codex_home, store_root))["sqlite:goals_1.sqlite"]
    assert check.status == "problem"
    assert check.cure == "codexsnap fix quarantine-db goals_1.sqlite"  # not the live layout
    assert not (codex_home / "goals_1.sqlite-wal").exists()
    assert not (codex_home / "goals_1.sqlite-shm").exists()


def test_a_wal_far_larger_than_its_database_is_a_warning(
    codex_home: Path, store_root: Path
) -> None:
    wal = codex_home / "sqlite" / "state_5.sqlite-wal"
    os.truncate(wal, 300 << 20)  # sparse: SQLite ignores the bytes past its last frame
    check = by_name(run_doctor(codex_home, store_root))["sqlite:sqlite/state_5.sqlite"]
    assert check.status == "warning" and "-wal is 300.0 MB" in check.evidence
    assert check.cure is not None and check.cure.startswith("quit Codex")


def test_a_database_that_is_no_database(tmp_path: Path) -> None:
    path = tmp_path / "state_5.sqlite"
    path.write_bytes(b"SQLite format 3\x00" + b"\x07" * 8000)
    check = inspect_database(tmp_path, path)
    assert check.status == "problem"


def test_oversized_logs_are_reported(codex_home: Path, store_root: Path) -> None:
    os.truncate(codex_home / "log" / "codex-tui.log", 3 << 30)  # sparse, nothing written
    os.truncate(codex_home / "sqlite" / "logs_2.sqlite", 2 << 30)
    checks = by_name(run_doctor(codex_home, store_root))
    sizes = checks["log-size"]
    assert sizes.status == "warning"
    assert "log/codex-tui.log is 3.0 GB" in sizes.evidence
    assert "sqlite/logs_2.sqlite is 2.0 GB" in sizes.evidence
    assert sizes.cure is not None and sizes.cure.startswith("quit Codex, then empty it")
    assert "quick_check skipped" in checks["sqlite:sqlite/logs_2.sqlite"].evidence


def test_a_pid_file_of_a_live_process_is_fine(codex_home: Path, store_root: Path) -> None:
    (codex_home / "app-server-daemon" / "app-server.pid").write_text(f"{os.getpid()}\n")
    check = by_name(run_doctor(codex_home, store_root))["daemon-pid-files"]
    assert check.status == "ok"


def test_a_store_folder_that_is_no_store_is_a_problem_left_alone(
    codex_home: Path, store_root: Path
) -> None:
    store_root.mkdir()
    (store_root / "notes.txt").write_text("mine\n")
    check = by_name(run_doctor(codex_home, store_root))["store"]
    assert check.status == "problem"
    assert sorted(p.name for p in store_root.iterdir()) == ["notes.txt"]


def test_a_store_folder_holding_only_its_scope_is_an_empty_store(
    codex_home: Path, store_root: Path
) -> None:
    # As for snapshot, which takes its first snapshot there (a scope is written before it).
    store_root.mkdir()
    (store_root / "scope.toml").write_text('exclude = ["cache/"]\n')
    check = by_name(run_doctor(codex_home, store_root))["store"]
    assert check.status == "warning" and check.evidence.startswith("no store yet")
    assert check.cure == "codexsnap snapshot"
    assert sorted(p.name for p in store_root.iterdir()) == ["scope.toml"]


def test_unreadable_log_files_are_never_fatal(codex_home: Path, store_root: Path) -> None:
    path = desktop_log([refresh(REVOKED_CLIENT_ID), revoked()])
    path.chmod(0)
    try:
        check = by_name(run_doctor(codex_home, store_root))["remote-control-revoked"]
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    if os.geteuid() != 0:
        assert check.status == "ok" and "1 unreadable" in check.evidence
    else:
        assert check.status == "problem"


@pytest.mark.parametrize(
    ("cure", "expected"),
    [
        (Cure.fix("remote-control"), "codexsnap fix --codex-home /h remote-control"),
        (
            Cure.fix("remote-control", "--only-revoked", reads_logs=True).after_quit(),
            "quit Codex, then codexsnap fix --codex-home /h remote-control --only-revoked"
            " --logs /l",
        ),
        (Cure.run("snapshot"), "codexsnap snapshot --codex-home /h"),
        (Cure.say("quit Codex"), "quit Codex"),
    ],
)
def test_cures_carry_the_users_flags(cure: Cure, expected: str) -> None:
    assert render_cure(cure, " --codex-home /h", " --logs /l") == expected


def test_doctor_names_codex_files_through_the_facts_module_not_the_recipes() -> None:
    import codexsnap.doctor

    package = Path(codexsnap.doctor.__file__).parent
    for module in sorted(package.glob("*.py")):
        assert "codexsnap.recipes" not in module.read_text(encoding="utf-8"), module.name


def test_checks_come_in_the_order_a_person_reads_them(codex_home: Path, store_root: Path) -> None:
    names = [check.name for check in run_doctor(codex_home, store_root).checks]
    databases = [n for n in names if n.startswith("sqlite:")]
    assert names == [
        "codex-home",
        "store",
        "protection",
        "codex-running",
        "global-state",
        "global-state-bak",
        "global-state-leftovers",
        "project-registry",
        "project-roots",
        "remote-control-revoked",
        "remote-control-mfa",
        "remote-control-account",
        "remote-control-enrollment",
        "remote-control-409",
        "app-server-socket",
        "daemon-pid-files",
        "desktop-singleton",
        "sqlite-home",
        *databases,
        "backfill",
        "threads",
        "log-size",
    ]
    assert databases and databases[0] == "sqlite:sqlite/state_5.sqlite"


def test_every_fix_a_cure_names_is_a_recipe_with_those_options() -> None:
    import re

    import codexsnap.doctor
    from codexsnap.recipes import all_recipes

    recipes = all_recipes()
    package = Path(codexsnap.doctor.__file__).parent
    source = "".join(m.read_text(encoding="utf-8") for m in sorted(package.glob("*.py")))
    named = re.findall(r'Cure\.fix\(\s*"([^"]+)"((?:,\s*"--[^"]+")*)', source)
    assert len(named) >= 5
    for recipe, options in named:
        assert recipe in recipes, recipe
        for option in re.findall(r'"--([^"]+)"', options):
            assert option.replace("-", "_") in recipes[recipe].options, (recipe, option)


def test_a_check_that_could_not_run_is_skipped_never_ok(codex_home: Path, store_root: Path) -> None:
    # No desktop log folder anywhere: the log checks did not run, and must not claim health.
    os.truncate(codex_home / "sqlite" / "codex-dev.db", 300 << 20)  # sparse: over the bound
    checks = by_name(run_doctor(codex_home, store_root))
    for name in ("remote-control-revoked", "remote-control-account"):
        assert checks[name].status == "skipped", checks[name]
        assert "--logs DIR" in checks[name].to_run
    big = checks["sqlite:sqlite/codex-dev.db"]
    assert big.status == "skipped" and "quick_check skipped" in big.evidence
    # MFA is also read from the app server's table, which was read: that check did run.
    assert checks["remote-control-mfa"].status == "ok"
    assert "no desktop log folder" in checks["remote-control-mfa"].evidence


def test_checks_without_the_app_server_log_are_skipped(codex_home: Path, store_root: Path) -> None:
    for name in ("logs_2.sqlite", "logs_2.sqlite-wal", "logs_2.sqlite-shm"):
        (codex_home / "sqlite" / name).unlink(missing_ok=True)
    checks = by_name(run_doctor(codex_home, store_root))
    for name in ("remote-control-enrollment", "remote-control-409", "remote-control-mfa"):
        assert checks[name].status == "skipped", checks[name]
    assert "--codex-sqlite-home" in checks["remote-control-409"].to_run


def test_doctor_says_how_many_checks_were_skipped_and_how_to_run_them(
    builder: CodexHomeBuilder, store_root: Path, tmp_path: Path
) -> None:
    builder.with_runtime = False
    home = builder.build().resolve()
    snapshot(home, store_root, "baseline")
    env = {**os.environ, "CODEX_HOME": str(home), "CODEXSNAP_STORE": str(store_root)}
    cmd = [sys.executable, "-m", "codexsnap", "doctor"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("skipped  remote-control-revoked") for line in lines)
    assert "Healthy: 0 problems" in done.stdout
    assert "2 checks skipped, so not covered by this verdict:" in done.stdout
    assert (
        "remote-control-revoked, remote-control-account: give the desktop app's log "
        "folder with --logs DIR" in done.stdout
    )
    shown = json.loads(
        subprocess.run([*cmd, "--json"], capture_output=True, env=env, check=False).stdout
    )
    assert shown["skipped"] == 2 and shown["healthy"] is True
    skipped = [c for c in shown["checks"] if c["status"] == "skipped"]
    assert [c["name"] for c in skipped] == ["remote-control-revoked", "remote-control-account"]
    assert all(c["to_run"] and c["cure"] is None for c in skipped)
    # With the logs given, every check runs.
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "main.log").write_text("2026-09-21T07:42:20.001Z info [app] starting\n")
    again = subprocess.run(
        [*cmd, "--logs", str(logs)], capture_output=True, text=True, env=env, check=False
    )
    assert "skipped" not in again.stdout, again.stdout


def test_after_an_interrupted_fix_doctor_names_the_run_and_recover_not_the_user(
    codex_home: Path, store_root: Path
) -> None:
    env = {**os.environ, "CODEX_HOME": str(codex_home), "CODEXSNAP_STORE": str(store_root)}
    cmd = [sys.executable, "-m", "codexsnap"]
    subprocess.run([*cmd, "snapshot"], env=env, check=True, capture_output=True)
    killed = subprocess.run(
        [*cmd, "fix", "--yes", "--force"],
        env={**env, "CODEXSNAP_TEST_FAULT": "kill:between-writes"},
        capture_output=True,
        check=False,
    )
    assert killed.returncode == -9, killed  # the primary written, its .bak not yet
    checks = by_name(run_doctor(codex_home, store_root))
    mirror = checks["global-state-bak"]
    assert "edited alone" not in mirror.evidence
    assert "codexsnap fix remote-control was interrupted" in mirror.evidence, mirror
    assert mirror.status == "problem" and mirror.cure is not None
    assert mirror.cure.endswith("codexsnap recover")
    store = checks["store"]
    assert store.status == "problem" and "interrupted" in store.evidence, store
    assert store.cure is not None and store.cure.endswith("codexsnap recover")
    # Once recovered, nothing is left to blame on anyone.
    subprocess.run([*cmd, "recover", "--force"], env=env, check=True, capture_output=True)
    after = by_name(run_doctor(codex_home, store_root))
    assert after["global-state-bak"].status == "ok"
    assert after["store"].status == "ok"
