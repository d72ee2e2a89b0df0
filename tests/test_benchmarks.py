"""Smoke run of the benchmark suite, so it never rots: it must finish and write every scenario.

No timing is asserted: the machine running the tests decides those numbers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = {
    ("cold-start --help", ""),
    ("snapshot first", "small"),
    ("snapshot no-change", "small"),
    ("snapshot one-change", "small"),
    ("snapshot first", "medium"),
    ("snapshot no-change", "medium"),
    ("snapshot one-change", "medium"),
    ("fix (remote-control)", "medium"),
    ("show (global state)", "medium"),
    ("rollback", "medium"),
    ("fix first use", "medium"),
    ("snapshot first", "mid"),
    ("snapshot no-change", "mid"),
    ("snapshot no-change vs Python floor", "mid"),
    ("snapshot one-change", "mid"),
    ("snapshot first", "large"),
    ("snapshot no-change", "large"),
    ("snapshot no-change vs Python floor", "large"),
    ("snapshot one-change", "large"),
    ("fix (remote-control)", "large"),
    ("fix, sessions in scope", "large"),
    ("rollback one long session", "large"),
    ("rollback the largest session", "large"),
    ("rollback all sessions", "large"),
    ("history (20 snapshots)", ""),
    ("history vs Python + its git log (20)", ""),
}


def test_quick_benchmark_writes_every_scenario(tmp_path: Path) -> None:
    output = tmp_path / "results" / "quick.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "CODEX"))}
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench.py"),
            "--quick",
            "--json",
            str(output),
            "--work",
            str(tmp_path / "work"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(output.read_text())
    found = {(row["scenario"], row["size"]) for row in results["scenarios"]}
    assert found == SCENARIOS
    for row in results["scenarios"]:
        assert row["codexsnap_median_s"] > 0 and row["baseline_median_s"] > 0, row
        assert row["codexsnap_cpu_median_s"] > 0 and row["baseline_cpu_median_s"] > 0, row
        assert len(row["codexsnap_runs_s"]) >= 1 and len(row["baseline_runs_s"]) >= 1, row
        assert isinstance(row["met"], bool) == (row["target"] is not None), row
    targets = {row["scenario"] for row in results["scenarios"] if row["target"]}
    assert targets == {
        "cold-start --help",
        "snapshot no-change",
        "fix first use",
        "fix (remote-control)",
        "fix, sessions in scope",
        "rollback one long session",
        "rollback the largest session",
        "rollback all sessions",
        "history (20 snapshots)",
    }
    assert set(results["homes"]) == {"small", "medium", "mid", "large"}
    for name, home in results["homes"].items():
        assert home["files_in_scope"] > 0, name
        # The plain repository took the same files, plus each database's -wal.
        assert home["baseline_files"] == home["files_in_scope"] + len(home["wal_files"]), name
    assert set(results["memory"]) == {"small", "medium", "mid", "large"}
    assert results["machine"]["python"] and results["machine"]["git"]
    # The table is printed for people too.
    assert "| scenario" in done.stdout and "snapshot no-change [large]" in done.stdout
    # Nothing was left in the working folder's homes when the run ended.
    assert not (tmp_path / "work" / "large").exists()
