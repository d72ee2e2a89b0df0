"""The package installs as a tool: build the wheel, install it in a fresh venv, run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_wheel_installs_and_its_console_script_runs(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(wheels),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("codexsnap-*.whl")
    venv = tmp_path / "venv"
    # The dependencies come from this interpreter; the package itself from the wheel only.
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120
    )
    python = venv / "bin" / "python"
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--force-reinstall",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    where = subprocess.run(
        [str(python), "-c", "import codexsnap; print(codexsnap.__file__)"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout
    assert str(venv) in where, where
    script = venv / "bin" / "codexsnap"
    version = subprocess.run(
        [str(script), "--version"], check=True, capture_output=True, text=True, cwd=tmp_path
    ).stdout
    assert version.startswith("codexsnap ")
    demo = subprocess.run(
        [str(script), "demo"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
        timeout=120,
    )
    assert demo.returncode == 0, demo.stderr
    assert "Your own Codex home was not touched" in demo.stdout
