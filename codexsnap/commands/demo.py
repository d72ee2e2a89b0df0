"""codexsnap demo: a realistic broken Codex home in a temporary folder, to try everything on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from codexsnap.demo_home import CodexHomeBuilder, write_revocation_log


@dataclass(frozen=True)
class DemoPlace:
    """Where the demo's home, store and desktop logs are."""

    home: Path
    store: Path
    logs: Path


def prepare_demo(root: Path) -> DemoPlace:
    """Build the broken home (revoked remote-control client, stale app-server files)."""
    builder = CodexHomeBuilder(root / "codex-home")
    builder.build()
    builder.close()  # the demo's Codex is "quit": nothing holds its databases
    logs = root / "logs"
    write_revocation_log(logs)
    return DemoPlace(builder.root.resolve(), (root / "store").resolve(), logs.resolve())


# The walk-through: a title, then the codexsnap arguments of that step.
STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Diagnose: what is wrong, read from the state and the desktop logs", ("doctor",)),
    ("Repair: snapshot, remove the revoked enrollment, snapshot again", ("fix", "--yes")),
    ("History: every change has a before and an after", ("history",)),
    ("Undo: the fix is rolled back, and the undo could be undone too", ("undo", "--yes")),
    ("History again", ("history",)),
)
