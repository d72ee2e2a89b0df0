"""Doctor and the recipes on the real shapes of a late-2026 home (issue 11): databases in
sqlite/, both layouts, the start lock in app-server-control/, a name index of renamed threads
only, the app server's own log table, Codex's recovery copies, Windows without a controller."""

from __future__ import annotations

import shutil
import socket
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codexsnap.commands.doctor import DoctorResult, doctor
from codexsnap.commands.snapshot import snapshot
from codexsnap.doctor import Check, checks_for, gather_context
from codexsnap.errors import RecipeRefusedError, UnknownRecipeError
from codexsnap.home import CodexHome, default_log_folders
from codexsnap.recipes import Evidence, RecipeOptions, get_recipe
from tests.helpers import apply_recipe as apply
from tests.helpers import run
from tests.homebuilder import REVOKED_CLIENT_ID, THREADS, CodexHomeBuilder, insert_thread, thread_id
from tests.test_doctor import by_name, desktop_log, listing, refresh, revoked
from tests.test_recipes import enrollment_rows

SOCKET = "app-server-control/app-server-control.sock"
START_LOCK = "app-server-control/app-server-startup.lock"


def run_doctor(home: Path, store: Path) -> DoctorResult:
    return doctor(CodexHome(home, "CODEX_HOME"), store, [])


@contextmanager
def listening_socket(target: Path) -> Iterator[None]:
    """A server listening on ``target``: bound in a short folder (AF_UNIX paths are cut near
    104 bytes, and pytest's tmp_path is longer), then moved into the home."""
    with tempfile.TemporaryDirectory(prefix="s", dir="/tmp") as short:
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(f"{short}/s.sock")
        server.listen(4)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
        shutil.move(f"{short}/s.sock", target)
        try:
            yield
        finally:
            server.close()


def quiet_home(builder: CodexHomeBuilder) -> Path:
    """A healthy desktop home: no runtime leftovers, but the start lock every exit leaves."""
    builder.with_runtime = False
    home = builder.build().resolve()
    (home / START_LOCK).parent.mkdir(parents=True, exist_ok=True)
    (home / START_LOCK).write_bytes(b"")
    return home


def corrupt(path: Path) -> None:
    """Scribble over the b-tree pages and drop the sidecars, keeping SQLite's header."""
    for sidecar in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        sidecar.unlink(missing_ok=True)
    data = path.read_bytes()
    path.write_bytes(data[:100] + b"\xa5" * max(len(data) - 100, 8192))


# ----- a healthy desktop home ----------------------------------------------------------


def test_a_healthy_desktop_home_is_healthy(builder: CodexHomeBuilder, store_root: Path) -> None:
    home = quiet_home(builder)
    named = (home / "session_index.jsonl").read_text().splitlines()
    assert len(named) == len([t for t in THREADS if t.name]) < len(THREADS)  # renamed only
    snapshot(home, store_root, "baseline")
    result = run_doctor(home, store_root)
    checks = by_name(result)
    assert result.healthy and not result.warnings, [c for c in result.checks if c.status != "ok"]
    assert "start lock" in checks["app-server-socket"].evidence
    assert checks["threads"].evidence.endswith("they agree")
    assert "sqlite:sqlite/state_5.sqlite" in checks


# ----- databases in every layout -------------------------------------------------------


def test_a_corrupt_desktop_state_database_fails_doctor_naming_it(
    builder: CodexHomeBuilder, store_root: Path, cli: CliRunner
) -> None:
    home = quiet_home(builder)
    builder.close()
    corrupt(home / "sqlite" / "state_5.sqlite")
    check = by_name(run_doctor(home, store_root))["sqlite:sqlite/state_5.sqlite"]
    assert check.status == "problem"
    code, out, _ = run(cli, "doctor")
    assert code == 1 and "sqlite:sqlite/state_5.sqlite" in out
    assert not (home / "sqlite" / "state_5.sqlite-wal").exists()


def test_both_layouts_are_checked_and_the_split_names_the_live_one(
    builder: CodexHomeBuilder, store_root: Path
) -> None:
    builder.layout = "both"
    home = builder.build().resolve()
    checks = by_name(run_doctor(home, store_root))
    split = checks["sqlite-home"]
    assert split.status == "warning"
    assert f"{home / 'sqlite'} is in use" in split.evidence
    assert split.cure is not None and f"CODEX_SQLITE_HOME={home / 'sqlite'}" in split.cure
    for name in ("sqlite:state_5.sqlite", "sqlite:sqlite/state_5.sqlite", "sqlite:logs_2.sqlite"):
        assert checks[name].status == "ok", checks[name]


def test_a_corrupt_database_of_the_other_layout_is_a_problem_too(
    builder: CodexHomeBuilder, store_root: Path
) -> None:
    builder.layout = "both"
    home = builder.build().resolve()
    corrupt(home / "state_5.sqlite")  # the CLI's, not the live one
    assert by_name(run_doctor(home, store_root))["sqlite:state_5.sqlite"].status == "problem"


def test_codex_recovery_copies_are_named_as_restore_sources(
    builder: CodexHomeBuilder, store_root: Path
) -> None:
    home = quiet_home(builder)
    builder.close()
    folder = home / "sqlite"
    shutil.copyfile(
        folder / "state_5.sqlite", folder / "state_5.sqlite.codex-recovery-1763000000.0.bak"
    )
    shutil.copyfile(
        folder / "state_5.sqlite", folder / "state_5.sqlite.codex-repair-1764000000.0.bak"
    )
    (folder / "state_5.sqlite-wal.codex-repair-1764000000.0.bak").write_bytes(b"")
    corrupt(folder / "state_5.sqlite")
    check = by_name(run_doctor(home, store_root))["sqlite:sqlite/state_5.sqlite"]
    assert check.status == "problem"
    assert "state_5.sqlite.codex-repair-1764000000.0.bak" in check.evidence
    assert "(+1 older)" in check.evidence  # the -wal's copy is not a copy of the database
    assert check.cure == "codexsnap fix quarantine-db state_5 --from recovery-copy"


def test_log_databases_of_every_layout_are_sized(
    builder: CodexHomeBuilder, store_root: Path
) -> None:
    import os

    builder.layout = "both"
    home = builder.build().resolve()
    os.truncate(home / "sqlite" / "logs_2.sqlite", 2 << 30)
    os.truncate(home / "logs_2.sqlite", 3 << 30)
    sizes = by_name(run_doctor(home, store_root))["log-size"]
    assert "sqlite/logs_2.sqlite is 2.0 GB" in sizes.evidence
    assert "logs_2.sqlite is 3.0 GB" in sizes.evidence.split("; ")


def test_pairing_reset_with_db_clears_the_live_database_only(
    builder: CodexHomeBuilder, store_root: Path
) -> None:
    builder.layout = "both"
    home = builder.build()
    builder.close()
    apply(home, store_root, "pairing-reset", with_db=True)
    assert enrollment_rows(home / "sqlite" / "state_5.sqlite") == 0  # the app's, in use
    assert enrollment_rows(home / "state_5.sqlite") == 1  # the CLI's other layout, left alone


def test_pairing_reset_with_db_on_a_cli_only_home(tmp_path: Path, store_root: Path) -> None:
    builder = CodexHomeBuilder.cli_only(tmp_path / "codex-home")
    home = builder.build()
    builder.close()
    apply(home, store_root, "pairing-reset", with_db=True)
    assert enrollment_rows(home / "state_5.sqlite") == 0


# ----- the app server's runtime files --------------------------------------------------


def test_a_listening_socket_is_never_stale(builder: CodexHomeBuilder, store_root: Path) -> None:
    home = builder.build().resolve()
    with listening_socket(home / SOCKET):
        check = by_name(run_doctor(home, store_root))["app-server-socket"]
        assert check.status == "ok" and "answers" in check.evidence
        with pytest.raises(RecipeRefusedError, match="answers"):
            apply(home, store_root, "app-server-stale")
        assert (home / SOCKET).is_socket() and (home / START_LOCK).exists()


def test_a_socket_nothing_answers_on_is_stale(codex_home: Path, store_root: Path) -> None:
    check = by_name(run_doctor(codex_home, store_root))["app-server-socket"]
    assert check.status == "problem" and "nothing answers" in check.evidence
    assert check.cure == "codexsnap fix app-server-stale"


def test_a_lone_start_lock_is_no_problem_and_stays(
    builder: CodexHomeBuilder, store_root: Path
) -> None:
    home = quiet_home(builder)
    assert by_name(run_doctor(home, store_root))["app-server-socket"].status == "ok"
    assert apply(home, store_root, "app-server-stale").report.empty
    assert (home / START_LOCK).exists()


def test_a_pid_lock_naming_a_dead_pid_is_stale_and_removed(
    builder: CodexHomeBuilder, store_root: Path
) -> None:
    home = quiet_home(builder)
    lock = home / "app-server-daemon" / "app-server-updater.pid.lock"
    lock.write_text("999998\n")
    check = by_name(run_doctor(home, store_root))["daemon-pid-files"]
    assert check.status == "problem" and "app-server-updater.pid.lock: pid 999998" in check.evidence
    apply(home, store_root, "app-server-stale")
    assert not lock.exists()


# ----- rollouts against threads --------------------------------------------------------


def test_a_rollout_with_no_row_and_a_row_whose_rollout_is_gone_are_counted(
    builder: CodexHomeBuilder, store_root: Path
) -> None:
    home = quiet_home(builder)
    extra = thread_id(77)
    rollout = home / "sessions/2026/11/23" / f"rollout-2026-11-23T08-00-00-{extra}.jsonl"
    rollout.parent.mkdir(parents=True)
    rollout.write_bytes(
        (home / THREADS[0].rollout).read_bytes().replace(THREADS[0].id.encode(), extra.encode())
    )
    (home / THREADS[2].rollout).unlink()
    before = (home / "session_index.jsonl").read_bytes()
    check = by_name(run_doctor(home, store_root))["threads"]
    assert check.status == "warning"
    assert "1 rollout with no row" in check.evidence and extra in check.evidence
    assert "1 row whose rollout is gone" in check.evidence
    assert check.cure is not None and "codexsnap history" in check.cure and "#41614" in check.cure
    assert "no codexsnap cure" in check.cure
    assert (home / "session_index.jsonl").read_bytes() == before  # no name is ever invented


def test_a_thread_never_renamed_is_normal(builder: CodexHomeBuilder, store_root: Path) -> None:
    home = quiet_home(builder)
    (home / "session_index.jsonl").write_bytes(b"")
    assert by_name(run_doctor(home, store_root))["threads"].status == "ok"


def test_rollouts_without_a_state_database_are_built_on_the_next_start(
    builder: CodexHomeBuilder, store_root: Path
) -> None:
    builder.with_sqlite = False
    home = builder.build().resolve()
    check = by_name(run_doctor(home, store_root))["threads"]
    assert check.status == "warning" and check.cure is not None and "start Codex" in check.cure


def test_the_session_index_recipe_is_gone_with_a_reason(cli: CliRunner, codex_home: Path) -> None:
    with pytest.raises(UnknownRecipeError, match="removed"):
        get_recipe("session-index")
    code, _, err = run(cli, "fix", "session-index", "--dry-run")
    assert code == 2 and "renamed threads" in err


# ----- the app server's own log table --------------------------------------------------


def log_lines(home: Path, *bodies: str) -> None:
    db = sqlite3.connect(home / "sqlite" / "logs_2.sqlite")
    db.executemany(
        "INSERT INTO logs (ts, ts_nanos, level, target, feedback_log_body) VALUES (?,0,?,?,?)",
        [
            (1763700000 + n, "WARN", "codex_app_server::remote_control", b)
            for n, b in enumerate(bodies)
        ],
    )
    db.commit()
    db.close()


def test_the_app_servers_log_table_is_read_for_remote_control_evidence(
    builder: CodexHomeBuilder, store_root: Path
) -> None:
    home = quiet_home(builder)
    log_lines(
        home,
        "remote control server enrollment failed at https://chatgpt.com/backend-api/wham/remote"
        '/control/server/enroll: HTTP 403 Forbidden body: {"detail":"Multi-factor '
        'authentication required"}',
        "remote control pairing is unavailable until enrollment completes",
        "remote control websocket failed: 409 Remote app server already online",
    )
    entries = listing(home)
    checks = by_name(run_doctor(home, store_root))
    assert listing(home) == entries  # no -wal or -shm beside logs_2.sqlite
    mfa = checks["remote-control-mfa"]
    assert mfa.status == "warning" and "logs_2.sqlite" in mfa.evidence
    assert mfa.cure is not None and "no local cure" in mfa.cure
    stuck = checks["remote-control-enrollment"]
    assert stuck.status == "warning" and stuck.cure is not None
    assert "no local cure known" in stuck.cure and "issues/46091" in stuck.cure
    online = checks["remote-control-409"]
    assert online.status == "warning" and "#39959" in online.evidence
    assert online.cure is not None and "codexsnap fix new-installation-id" in online.cure


def test_no_persisted_enrollment_is_no_fault(codex_home: Path, store_root: Path) -> None:
    check = by_name(run_doctor(codex_home, store_root))["remote-control-enrollment"]
    assert check.status == "ok" and "holds no enrollment" in check.evidence


# ----- Windows is never a controller ---------------------------------------------------


def doctor_on(home: Path, store: Path, platform: str) -> dict[str, Check]:
    logs = default_log_folders()
    ctx = gather_context(CodexHome(home, "CODEX_HOME"), store, logs, platform=platform)
    return {check.name: check for check in (c(ctx) for c in checks_for(ctx))}


def test_windows_has_no_revoked_controller_cure(codex_home: Path, store_root: Path) -> None:
    desktop_log([refresh(REVOKED_CLIENT_ID), revoked()])
    check = doctor_on(codex_home, store_root, "win32")["remote-control-revoked"]
    assert check.status == "warning" and "does not apply" in check.evidence
    assert check.cure is not None and "codexsnap fix" not in check.cure
    assert doctor_on(codex_home, store_root, "darwin")["remote-control-revoked"].status == "problem"
    recipe = get_recipe("remote-control")
    with pytest.raises(RecipeRefusedError, match="Control other devices"):
        recipe.plan({}, RecipeOptions(), Evidence(platform="win32"))


# ----- what the app shows today --------------------------------------------------------


def test_next_steps_name_the_settings_page_the_app_shows() -> None:
    steps = " ".join(get_recipe("remote-control").next_steps)
    assert "Settings → Connections → Control other devices" in steps
    assert "Control this Mac/PC" in " ".join(get_recipe("pairing-reset").next_steps)
    repo = Path(__file__).resolve().parents[1]
    texts = [*(repo / "codexsnap").rglob("*.py"), *(repo / "docs").glob("*.md")]
    for path in texts:
        if path.name != "design.md":  # the design record is edited by the lead
            assert "Settings > Remote control" not in path.read_text(encoding="utf-8"), path


def test_a_thread_added_to_the_live_database_with_its_rollout_agrees(
    builder: CodexHomeBuilder, store_root: Path
) -> None:
    home = quiet_home(builder)
    extra = thread_id(78)
    rollout = home / "sessions/2026/11/23" / f"rollout-2026-11-23T09-00-00-{extra}.jsonl"
    rollout.parent.mkdir(parents=True)
    rollout.write_text("{}\n")
    db = builder.open_connections[0]
    insert_thread(db, extra, "New", "/Users/ana/src/api", str(rollout))
    db.commit()
    assert by_name(run_doctor(home, store_root))["threads"].status == "ok"
