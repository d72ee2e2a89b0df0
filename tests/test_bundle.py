"""codexsnap bundle: one redacted file for whoever helps, holding the doctor's findings."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from typer.testing import CliRunner

from codexsnap.demo_home import write_revocation_log
from tests.helpers import SECRETS, fails, file_states, fixed, ok, run
from tests.homebuilder import ACCESS_TOKEN, REVOKED_CLIENT_ID

# What the test home holds besides the masked-id fragments of helpers.SECRETS: the login's
# tokens and account, the user's drafts, prompts and thread titles, an e-mail in a log line.
PRIVATE = (
    *SECRETS,
    ACCESS_TOKEN + "-id",
    "rt_SECRET_refresh_0123456789",
    "acct_0123456789",
    "Draft 0: refactor the parser",
    "Review this diff carefully.",
    "Fix the parser",
    "Why is the build slow?",
    '"fix it"',
    "ana@example.com",
    "SECRETgithubTOKEN",
)


def _logs(codex_home: Path) -> Path:
    folder = codex_home.parent / "logs"
    log = write_revocation_log(folder)
    with log.open("a") as file:
        file.write(
            "2026-09-21T07:42:24.001Z error [remote-control] enrollment failed for "
            "ana@example.com token=ghp_SECRETgithubTOKEN0000\n"
        )
    return folder


def test_bundle_holds_the_doctors_findings_and_no_secret(
    cli: CliRunner, codex_home: Path, tmp_path: Path
) -> None:
    logs = _logs(codex_home)
    fixed(cli, "app-server-stale")
    before = file_states(codex_home, include_excluded=True)
    out = tmp_path / "bundle.md"
    said = ok(cli, "bundle", "--out", str(out), "--logs", str(logs))
    assert f"Wrote {out}" in said and "doctor report" in said and "redacted" in said
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    text = out.read_text()
    leaked = [secret for secret in PRIVATE if secret in text]
    assert not leaked, f"leaked {leaked}"
    assert REVOKED_CLIENT_ID not in text
    doctor = json.loads(run(cli, "doctor", "--json", "--logs", str(logs))[1])
    for check in doctor["checks"]:
        assert f"{check['name']}" in text and check["status"] in text
    problems = [c for c in doctor["checks"] if c["status"] == "problem"]
    assert problems and all(c["evidence"] in text for c in problems)
    for section in ("## Versions", "## Doctor (JSON)", "## History", "## Snapshot scope"):
        assert section in text
    assert "## Store check" in text and "ok (" in text
    assert "Remote-control client has been revoked" in text
    assert "state_5.sqlite" in text and "threads: 3 rows" in text
    assert "fix app-server-stale" in text  # the history entry
    # Read-only: the home is as it was, and nothing else was written.
    assert file_states(codex_home, include_excluded=True) == before


def test_bundle_dry_run_prints_it_and_writes_nothing(
    cli: CliRunner, codex_home: Path, tmp_path: Path
) -> None:
    code, out, err = run(cli, "bundle", "--dry-run", "--out", str(tmp_path / "b.md"))
    assert code == 0, err
    assert out.startswith("# codexsnap bundle") and "Dry run: nothing was written" in err
    assert not (tmp_path / "b.md").exists()
    assert "(no snapshots)" in out and "not checked: no store" in out
    leaked = [secret for secret in PRIVATE if secret in out]
    assert not leaked, leaked


def test_bundle_out_a_folder_is_a_usage_error(
    cli: CliRunner, codex_home: Path, tmp_path: Path
) -> None:
    assert "is a folder" in fails(cli, 2, "bundle", "--out", str(tmp_path))
