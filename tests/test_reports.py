"""Reports for every kind of file the home holds, redaction, and the diff command."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from codexsnap.cli.json_output import change_json, file_json
from codexsnap.report import diff_file
from codexsnap.sqlite_diff import diff_databases
from tests.helpers import git_in_store, run
from tests.homebuilder import ACCESS_TOKEN, MCP_TOKEN, PUBLIC_KEY, REVOKED_CLIENT_ID

OPENAI_KEY = "sk-proj-SECRETopenaiKEY0123456789abcdefghij"
PLANTED = "eyJwbGFudGVk.PLANTED-TOKEN-in-state-files.sig"  # in scope: stored, never printed
SECRETS = (
    ACCESS_TOKEN,
    MCP_TOKEN,
    PUBLIC_KEY,
    REVOKED_CLIENT_ID,
    OPENAI_KEY,
    PLANTED,
    "user_AbC1dEf2GhI3jKl4",
)


def db_bytes(tmp_path: Path, name: str, statements: list[str]) -> bytes:
    path = tmp_path / name
    db = sqlite3.connect(path)
    db.executescript(";\n".join(statements))
    db.commit()
    db.close()
    return path.read_bytes()


def test_json_report_names_key_paths_and_masks_enrollment_ids() -> None:
    old = json.dumps({"a": {"b": 1}, "clientId": REVOKED_CLIENT_ID, "keep": [1, 2]}).encode()
    new = json.dumps({"a": {"b": 2}, "keep": [1, 2], "c": "new"}).encode()
    found = diff_file("x.json", old, new)
    kinds = {(c.kind, c.path) for c in found.changes}
    assert kinds == {("changed", ("a", "b")), ("removed", ("clientId",)), ("added", ("c",))}
    removed = next(c for c in found.changes if c.kind == "removed")
    assert REVOKED_CLIENT_ID not in json.dumps(change_json(removed))
    assert str(removed.old).startswith("cli_")
    shown = diff_file("x.json", old, new, show_secrets=True)
    assert REVOKED_CLIENT_ID in json.dumps([change_json(c) for c in shown.changes])


def test_toml_report_is_semantic_and_notes_formatting_only_changes() -> None:
    old = b'# comment\nmodel = "a"\n[mcp_servers.gh.env]\nTOKEN = "' + MCP_TOKEN.encode() + b'"\n'
    new = old.replace(b'"a"', b'"b"').replace(MCP_TOKEN.encode(), b"ghp_OTHERtoken0123456789")
    found = diff_file("config.toml", old, new)
    paths = [c.path for c in found.changes]
    assert ("model",) in paths and ("mcp_servers", "gh", "env", "TOKEN") in paths
    assert MCP_TOKEN not in json.dumps(file_json(found))
    cosmetic = diff_file("config.toml", old, old.replace(b"# comment", b"# another comment"))
    assert not cosmetic.changes
    assert any("formatting or comments" in n for n in cosmetic.notes)


def test_jsonl_report_keys_lines_by_id_and_counts_first() -> None:
    old = b'{"id":"t1","thread_name":"A"}\n{"id":"t2","thread_name":"B"}\n'
    new = b'{"id":"t2","thread_name":"B2"}\n{"id":"t3","thread_name":"C"}\n'
    found = diff_file("session_index.jsonl", old, new)
    assert "entries: 1 added, 1 removed, 1 changed" in found.notes
    assert ("changed", ("t2", "thread_name")) in {(c.kind, c.path) for c in found.changes}


def test_sqlite_report_shows_schema_and_rows_by_primary_key(tmp_path: Path) -> None:
    base = [
        "CREATE TABLE t (id TEXT PRIMARY KEY, name TEXT, access_token TEXT)",
        "CREATE TABLE log (msg TEXT)",
        f"INSERT INTO t VALUES ('a', 'A', '{ACCESS_TOKEN}')",
        "INSERT INTO t VALUES ('b', 'B', 'x')",
        "INSERT INTO log VALUES ('one')",
    ]
    old = db_bytes(tmp_path, "old.sqlite", base)
    new = db_bytes(
        tmp_path,
        "new.sqlite",
        [
            *base,
            "DELETE FROM t WHERE id = 'b'",
            "UPDATE t SET name = 'A2' WHERE id = 'a'",
            "INSERT INTO t VALUES ('c', 'C', 'y')",
            "INSERT INTO log VALUES ('two')",
            "CREATE TABLE extra (x INTEGER)",
        ],
    )
    raw = diff_databases(old, new)
    assert raw.schema == ("table extra added",)
    assert raw.counts["t"] == {"added": 1, "removed": 1, "changed": 1}
    assert raw.counts["log"] == {"added": 1, "removed": 0, "changed": 0}  # keyed by rowid
    found = diff_file("state_5.sqlite", old, new, kind="sqlite")
    assert ("changed", ("t", "a", "name")) in {(c.kind, c.path) for c in found.changes}
    assert any("table t: 1 added, 1 removed, 1 changed" in n for n in found.notes)
    assert ACCESS_TOKEN not in json.dumps(file_json(found))


def test_text_and_binary_reports(tmp_path: Path) -> None:
    old = b"line\n" * 100 + b"api_key = old\n"
    new = b"line\n" * 100 + f"api_key = {OPENAI_KEY}\n".encode()
    found = diff_file("AGENTS.md", old, new)
    assert found.format == "text"
    assert any(n.startswith("+api_key = ") for n in found.notes)
    assert OPENAI_KEY not in "\n".join(found.notes)
    long = diff_file("notes.txt", b"", b"\n".join(b"x%d" % i for i in range(500)))
    assert any("more diff lines" in n for n in long.notes)
    binary = diff_file("blob.bin", b"\x00\x01", b"\x00\x02\x03")
    assert (
        binary.format == "binary" and "2 bytes" in binary.notes[0] and "3 bytes" in binary.notes[0]
    )


def plant_secrets(home: Path) -> None:
    """Tokens in every kind of file: JSON, TOML (already), JSONL, SQLite, text."""
    (home / "history.jsonl").write_text(
        json.dumps({"session_id": "s1", "ts": 1, "text": "hi", "token": PLANTED}) + "\n"
    )
    (home / "AGENTS.md").write_text(f"OPENAI_API_KEY={OPENAI_KEY}\n")
    db = sqlite3.connect(home / "sqlite" / "codex-dev.db")
    db.execute("CREATE TABLE creds (id INTEGER PRIMARY KEY, refresh_token TEXT)")
    db.execute("INSERT INTO creds (refresh_token) VALUES (?)", (PLANTED,))
    db.commit()
    db.close()


def test_no_secret_reaches_any_output_or_the_store(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    outputs: list[str] = []

    def call(*args: str) -> str:
        _code, out, err = run(cli, *args)
        outputs.append(out + err)
        assert "Traceback" not in err
        return out

    call("snapshot", "-m", "empty start")
    plant_secrets(codex_home)
    call("diff")
    call("diff", "--json")
    fixed = json.loads(call("fix", "--yes", "--json"))
    for snap in json.loads(call("history", "--json")):
        call("show", snap["id"])
        call("show", snap["id"], "--json")
    call("rollback", fixed["snapshot_before"], "--yes")
    call("rollback", fixed["snapshot_before"], "--dry-run", "--json")
    everything = "\n".join(outputs)
    for secret in SECRETS:
        assert secret not in everything, secret
    # auth.json is never stored; only its fingerprint is.
    objects = subprocess.run(
        ["git", "cat-file", "--batch-all-objects", "--batch"],
        capture_output=True,
        check=True,
        env={"GIT_DIR": str(store_root / "repo.git"), "PATH": "/usr/bin:/bin:/usr/local/bin"},
    ).stdout
    assert ACCESS_TOKEN.encode() not in objects
    assert b"rt_SECRET_refresh" not in objects
    assert git_in_store(store_root, "fsck").returncode == 0


def test_show_secrets_opts_out(cli: CliRunner, codex_home: Path) -> None:
    code, out, _ = run(cli, "fix", "--dry-run", "--show-secrets")
    assert code == 0 and REVOKED_CLIENT_ID in out


def test_diff_exit_codes_stat_and_two_snapshots(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    assert run(cli, "snapshot")[0] == 0
    code, out, _ = run(cli, "diff")
    assert code == 0 and "No difference" in out
    (codex_home / "AGENTS.md").write_text("changed\n")
    code, out, _ = run(cli, "diff", "--stat")
    assert code == 1 and "M  AGENTS.md" in out
    assert run(cli, "snapshot")[0] == 0
    ids = [s["id"] for s in json.loads(run(cli, "history", "--json")[1])]
    code, out, _ = run(cli, "diff", ids[1], ids[0], "--json")
    data = json.loads(out)
    assert code == 1 and data["different"] is True
    assert set(data) == {"old", "new", "different", "changes", "outside", "auth"}
    assert [c["path"] for c in data["changes"]] == ["AGENTS.md"]
    assert run(cli, "diff", ids[0], ids[0])[0] == 0


def test_outside_scope_files_are_noted_not_stored(
    cli: CliRunner, codex_home: Path, store_root: Path
) -> None:
    assert run(cli, "snapshot")[0] == 0
    day = codex_home / "sessions" / "2026" / "11" / "21"
    day.mkdir(parents=True, exist_ok=True)  # the realistic home has rollouts that day too
    for i in range(3):
        (day / f"rollout-{i}.jsonl").write_bytes(b"x" * 1000)
    (codex_home / "AGENTS.md").write_text("new rules\n")
    assert run(cli, "snapshot")[0] == 0
    latest = json.loads(run(cli, "history", "--json", "-n", "1")[1])[0]["id"]
    _code, out, _ = run(cli, "show", latest)
    assert "sessions/: 3 files added" in out
    shown = json.loads(run(cli, "show", latest, "--json")[1])
    assert shown["outside"][0]["group"] == "sessions/" and shown["outside"][0]["added"] == 3
    tree = git_in_store(store_root, "ls-tree", "-r", "--name-only", latest).stdout
    assert "rollout-0" not in tree


def test_auth_changes_are_reported_from_the_fingerprint(cli: CliRunner, codex_home: Path) -> None:
    assert run(cli, "snapshot")[0] == 0
    auth = json.loads((codex_home / "auth.json").read_text())
    auth["last_refresh"] = "2026-11-26T09:00:00Z"
    auth["tokens"]["access_token"] = "eyJnew.token.value"
    (codex_home / "auth.json").write_text(json.dumps(auth))
    code, out, _ = run(cli, "diff")
    assert code == 0  # auth.json is outside the scope: noted, not a difference
    assert "auth.json changed" in out and "2026-11-26T09:00:00Z" in out
    assert "eyJnew" not in out


def test_report_benchmark_smoke() -> None:
    """The benchmark runs and checks its own result; its timings are not asserted here."""
    done = subprocess.run(
        [
            sys.executable,
            "benchmarks/bench_report.py",
            "--repeat",
            "1",
            "--size",
            "100000",
            "--skip-plain",
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parents[1],
    )
    assert done.returncode == 0, done.stderr
    assert "report_over_parse" in done.stdout
