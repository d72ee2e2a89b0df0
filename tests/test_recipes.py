"""Every recipe of the catalogue on realistic homes, through the commands layer and the CLI."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codexsnap.commands.fix import FixResult, fix
from codexsnap.commands.rollback import rollback
from codexsnap.commands.snapshot import snapshot
from codexsnap.demo_data import MIGRATIONS
from codexsnap.errors import RecipeRefusedError
from codexsnap.recipes import RecipeOptions, all_recipes
from tests.helpers import apply_recipe as apply
from tests.helpers import file_states, run
from tests.homebuilder import THREADS, CodexHomeBuilder
from tests.storetools import yes

GLOBAL = ".codex-global-state.json"
BAK = ".codex-global-state.json.bak"


def undo(home: Path, store: Path, result: FixResult) -> None:
    assert result.snapshot_before is not None
    rollback(
        home,
        store,
        result.snapshot_before.id,
        dry_run=False,
        force=False,
        show_secrets=False,
        confirm=yes,
    )


def enrollment_rows(db_path: Path) -> int:
    db = sqlite3.connect(db_path)
    try:
        return int(db.execute("SELECT count(*) FROM remote_control_enrollments").fetchone()[0])
    finally:
        db.close()


def test_pairing_reset_removes_host_keys_and_with_db_clears_rows(
    builder: CodexHomeBuilder, store_root: Path
) -> None:
    home = builder.build()
    builder.close()  # Codex is quit: nobody holds the database
    original = file_states(home)
    result = apply(home, store_root, "pairing-reset", with_db=True)
    state = json.loads((home / GLOBAL).read_bytes())
    for key in (
        "codex-mobile-has-connected-device",
        "electron-local-remote-control-environment-id",
        "electron-local-remote-control-installation-id",
        "electron-remote-control-client-enrollments",
        "added-remote-control-env-ids",
    ):
        assert key not in state
    assert state["local-projects"]  # the user's projects stay
    assert (home / BAK).read_bytes() == (home / GLOBAL).read_bytes()
    live = home / builder.state_db  # the desktop app's: sqlite/state_5.sqlite
    assert enrollment_rows(live) == 0
    db = sqlite3.connect(live)
    assert db.execute("SELECT count(*) FROM threads").fetchone()[0] == len(THREADS)
    assert db.execute("SELECT count(*) FROM _sqlx_migrations").fetchone()[0] == len(MIGRATIONS)
    db.close()
    undo(home, store_root, result)
    assert enrollment_rows(live) == 1
    restored = file_states(home)
    assert {k: v for k, v in restored.items() if k != builder.state_db} == {
        k: v for k, v in original.items() if k != builder.state_db
    }


def test_pairing_reset_without_db_leaves_the_database(codex_home: Path, store_root: Path) -> None:
    before = (codex_home / "sqlite" / "state_5.sqlite").read_bytes()
    apply(codex_home, store_root, "pairing-reset")
    assert (codex_home / "sqlite" / "state_5.sqlite").read_bytes() == before


def test_new_installation_id_moves_it_aside(codex_home: Path, store_root: Path) -> None:
    old = (codex_home / "installation_id").read_bytes()
    result = apply(codex_home, store_root, "new-installation-id")
    assert not (codex_home / "installation_id").exists()
    assert (codex_home / "installation_id.codexsnap-old").read_bytes() == old
    assert any("pair" in step for step in result.next_steps)
    undo(codex_home, store_root, result)
    assert (codex_home / "installation_id").read_bytes() == old
    assert not (codex_home / "installation_id.codexsnap-old").exists()


def test_new_installation_id_refuses_without_one(codex_home: Path, store_root: Path) -> None:
    (codex_home / "installation_id").unlink()
    with pytest.raises(RecipeRefusedError):
        apply(codex_home, store_root, "new-installation-id")


def test_app_server_stale_removes_leftovers_of_a_dead_server(
    codex_home: Path, store_root: Path
) -> None:
    sock = codex_home / "app-server-control" / "app-server-control.sock"
    assert sock.is_socket()
    apply(codex_home, store_root, "app-server-stale")
    assert not sock.exists()
    assert not (codex_home / "app-server-control" / "app-server-startup.lock").exists()
    assert not (codex_home / "app-server-daemon" / "app-server.pid").exists()
    assert not (codex_home / "app-server-daemon" / "app-server.pid.lock").exists()
    assert (codex_home / "app-server-daemon" / "settings.json").exists()


def test_app_server_stale_keeps_the_pid_file_of_a_live_process(
    codex_home: Path, store_root: Path
) -> None:
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        pid_file = codex_home / "app-server-daemon" / "app-server.pid"
        pid_file.write_text(f"{sleeper.pid}\n")
        apply(codex_home, store_root, "app-server-stale")
        assert pid_file.exists()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_app_server_stale_refuses_while_an_app_server_runs(
    codex_home: Path, store_root: Path, tmp_path: Path
) -> None:
    fake = tmp_path / "codex"
    fake.write_bytes(Path("/bin/sh").read_bytes())
    fake.chmod(0o755)
    server = subprocess.Popen([str(fake), "-c", "sleep 30", "app-server"])
    try:
        with pytest.raises(RecipeRefusedError, match=str(server.pid)):
            apply(codex_home, store_root, "app-server-stale")
        assert (codex_home / "app-server-control" / "app-server-startup.lock").exists()
    finally:
        server.kill()
        server.wait()


def test_restore_global_state_brings_back_projects_from_a_snapshot(
    codex_home: Path, store_root: Path
) -> None:
    good = (codex_home / GLOBAL).read_bytes()
    snapshot(codex_home, store_root, "all good")
    # The app started from empty state and mirrored it into .bak (#38757).
    empty = b'{"local-projects":{},"settings":{}}'
    (codex_home / GLOBAL).write_bytes(b"\x00" * 2048)
    (codex_home / BAK).write_bytes(empty)
    snapshot(codex_home, store_root, "broken")
    apply(codex_home, store_root, "restore-global-state")
    assert (codex_home / GLOBAL).read_bytes() == good
    assert (codex_home / BAK).read_bytes() == good
    assert not (codex_home / "..codex-global-state.json.tmp-1a2b3c").exists()


def test_restore_global_state_refuses_without_a_good_snapshot(
    codex_home: Path, store_root: Path
) -> None:
    (codex_home / GLOBAL).write_bytes(b"\x00" * 100)
    with pytest.raises(RecipeRefusedError, match="no snapshot"):
        apply(codex_home, store_root, "restore-global-state")
    assert (codex_home / GLOBAL).read_bytes() == b"\x00" * 100


def test_recipes_command_lists_the_catalogue(cli: CliRunner) -> None:
    code, out, _ = run(cli, "recipes")
    assert code == 0
    for name in all_recipes():
        assert name in out
    listed = json.loads(run(cli, "recipes", "--json")[1])
    assert {r["name"] for r in listed} == set(all_recipes())
    assert all(r["cites"] for r in listed)


def test_options_that_do_not_apply_are_refused(cli: CliRunner, codex_home: Path) -> None:
    code, _, err = run(cli, "fix", "new-installation-id", "--with-db", "--yes")
    assert code == 2 and "--with-db" in err


def write_desktop_log(folder: Path, *client_ids: str) -> None:
    """Desktop-format lines: a refresh naming the local client, then its revocation."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, client in enumerate(client_ids):
        lines.append(
            f"2026-09-21T07:42:2{i}.100Z info [remote-control] POST "
            "https://chatgpt.com/backend-api/codex/remote/control/client/refresh/start "
            f"hasExistingEnrollment=true localEnrollmentClientId={client}"
        )
        lines.append(
            f"2026-09-21T07:42:2{i}.769Z error [remote-control] Remote-control client has "
            "been revoked"
        )
    (folder / "main.log").write_text("\n".join(lines) + "\n")


def test_only_revoked_keeps_the_other_enrollments(
    builder: CodexHomeBuilder, store_root: Path, tmp_path: Path
) -> None:
    from tests.homebuilder import REVOKED_CLIENT_ID, enrollments

    other = {
        "accountUserId": "user_Other",
        "clientId": "cli_still_good_0001",
        "keyId": "k2",
        "algorithm": "ecdsa_p256_sha256",
        "protectionClass": "hardware_only",
        "publicKeySpkiDerBase64": "AAAA",
    }
    builder.state["electron-remote-control-client-enrollments"] = {
        **enrollments(),
        "Codex Desktop\nother-device": other,
    }
    home = builder.build()
    logs = tmp_path / "logs"
    write_desktop_log(logs, REVOKED_CLIENT_ID)
    fix(
        home,
        store_root,
        "remote-control",
        RecipeOptions(only_revoked=True),
        dry_run=False,
        force=False,
        show_secrets=False,
        confirm=yes,
        log_folders=[logs],
    )
    state = json.loads((home / GLOBAL).read_bytes())
    kept = state["electron-remote-control-client-enrollments"]
    assert list(kept.values()) == [other]
    assert (home / BAK).read_bytes() == (home / GLOBAL).read_bytes()


def test_only_revoked_refuses_without_log_evidence(
    codex_home: Path, store_root: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "no-logs"
    empty.mkdir()
    before = file_states(codex_home)
    with pytest.raises(RecipeRefusedError, match="needs log evidence"):
        fix(
            codex_home,
            store_root,
            "remote-control",
            RecipeOptions(only_revoked=True),
            dry_run=False,
            force=False,
            show_secrets=False,
            confirm=yes,
            log_folders=[empty],
        )
    assert file_states(codex_home) == before


def test_only_revoked_when_the_state_no_longer_holds_the_client(
    codex_home: Path, store_root: Path, tmp_path: Path
) -> None:
    logs = tmp_path / "logs"
    write_desktop_log(logs, "cli_some_other_client_77")
    result = fix(
        codex_home,
        store_root,
        "remote-control",
        RecipeOptions(only_revoked=True),
        dry_run=False,
        force=False,
        show_secrets=False,
        confirm=yes,
        log_folders=[logs],
    )
    assert result.report.empty and not result.changed


def test_only_revoked_through_the_cli_reads_logs(
    cli: CliRunner, codex_home: Path, tmp_path: Path
) -> None:
    from tests.homebuilder import REVOKED_CLIENT_ID

    logs = tmp_path / "logs"
    write_desktop_log(logs, REVOKED_CLIENT_ID)
    code, out, err = run(cli, "fix", "--only-revoked", "--logs", str(logs), "--dry-run")
    assert code == 0, err
    assert "electron-remote-control-client-enrollments" in out
    assert f"--only-revoked --logs {logs}" in out
    code, _, err = run(cli, "fix", "--logs", str(logs), "--dry-run")
    assert code == 2 and "--only-revoked" in err


def test_restoring_a_database_a_writer_holds_is_refused(
    builder: CodexHomeBuilder, store_root: Path
) -> None:
    home = builder.build()
    builder.close()
    writer = sqlite3.connect(home / builder.state_db, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        before = (home / builder.state_db).read_bytes()
        from codexsnap.errors import HomeWriteError

        with pytest.raises(HomeWriteError, match="in use"):
            apply(home, store_root, "pairing-reset", with_db=True)
        assert (home / builder.state_db).read_bytes() == before
        assert json.loads((home / GLOBAL).read_bytes())["codex-mobile-has-connected-device"]
    finally:
        writer.execute("ROLLBACK")
        writer.close()
