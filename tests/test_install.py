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
    # A plain venv: `--system-site-packages` inside a venv sees the *base* interpreter, which
    # lacks the dependencies when the suite itself runs in a venv (as the README's commands do).
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
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
    # The dependencies come from this interpreter, offline: a path file naming its
    # site-packages folders. Path files *inside* those folders are not read from there, so the
    # outer editable install of codexsnap stays invisible and the package comes from the wheel.
    site_packages = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    outer = [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
    (Path(site_packages) / "outer-deps.pth").write_text("".join(f"{p}\n" for p in outer))
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
