"""The one shape every doctor check returns, its cure as data, and how a cure reads."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

# "skipped": the check could not run (no log folder, no logs_2.sqlite, a database too big or
# busy): never "ok", which would claim a health nobody looked at.
Status = Literal["ok", "warning", "problem", "skipped"]


@dataclass(frozen=True)
class Cure:
    """What cures a check, as data: a ``codexsnap`` command, what to do first, or advice.

    ``Cure("remote-control", ("--only-revoked",))`` is ``codexsnap fix remote-control
    --only-revoked``. Another command (``snapshot``, ``history``) has no recipe; a cure no
    command performs is ``advice`` alone (``command=""``). The CLI renders it once, adding the
    run's ``--codex-home``/``--store`` flags (and ``--logs`` when the command reads logs).
    """

    recipe: str | None = None  # the `codexsnap fix` recipe
    options: tuple[str, ...] = ()  # the switches it needs, as typed
    command: str = "fix"  # the codexsnap command; "" when only advice cures
    advice: str = ""  # said before the command, or the whole cure when there is none
    quit_first: bool = False  # Codex runs and would undo the cure when it quits
    reads_logs: bool = False  # the command reads the desktop logs: the run's --logs go along

    @classmethod
    def fix(cls, recipe: str, *options: str, reads_logs: bool = False) -> Cure:
        """``codexsnap fix RECIPE [OPTIONS]``."""
        return cls(recipe, options, reads_logs=reads_logs)

    @classmethod
    def run(cls, command: str, advice: str = "") -> Cure:
        """A codexsnap command that takes no recipe, after ``advice`` when given."""
        return cls(command=command, advice=advice)

    @classmethod
    def say(cls, advice: str) -> Cure:
        """A cure that no codexsnap command performs."""
        return cls(command="", advice=advice)

    def after_quit(self, running: bool = True) -> Cure:
        """This cure, preceded by quitting Codex when ``running``."""
        return dataclasses.replace(self, quit_first=running)


def render_cure(cure: Cure, location: str = "", logs: str = "") -> str:
    """The cure as a person types it: ``location`` follows the command, ``logs`` its options.

    ``location`` and ``logs`` are this run's flags, ready to append (" --codex-home /h"); the
    doctor's results carry cures without them, and the CLI renders them with.
    """
    text = cure.advice
    if cure.command:
        line = f"codexsnap {cure.command}{location}"
        if cure.recipe is not None:
            line += f" {cure.recipe}"
        line += "".join(f" {option}" for option in cure.options)
        if cure.reads_logs:
            line += logs
        text = f"{cure.advice} {line}" if cure.advice else line
    return f"quit Codex, then {text}" if cure.quit_first else text


@dataclass(frozen=True)
class Check:
    """One verdict: what was looked at, what it showed, and how to cure it."""

    name: str
    status: Status
    evidence: str
    remedy: Cure | None = None
    to_run: str = ""  # for a skipped check: what lets it run ("give the logs with --logs DIR")

    @classmethod
    def skipped(cls, name: str, why: str, to_run: str) -> Check:
        """A check that could not run: ``why`` as its evidence, ``to_run`` how to run it."""
        return cls(name, "skipped", f"not checked: {why}", to_run=to_run)

    @property
    def cure(self) -> str | None:
        """The cure as text, without the run's location flags (the CLI adds them)."""
        return None if self.remedy is None else render_cure(self.remedy)


# ----- small helpers the checks share ---------------------------------------------------

RECOVER = Cure.run("recover", "put back what the interrupted run half-wrote:")


def interrupted_run(operation: str) -> str:
    """The interrupted run as a sentence names it: "a codexsnap fix remote-control"."""
    return f"a codexsnap {operation}" if operation else "a codexsnap run"


def read_regular(path: Path) -> bytes | None:
    """The bytes of a regular file, or None (absent, unreadable, or not a regular file)."""
    try:
        if not path.is_file():
            return None  # a FIFO would block the read forever
        return path.read_bytes()
    except OSError:
        return None


def shown_path(home: Path, path: Path) -> str:
    """A path as doctor names it: relative to the home inside it, else in full."""
    try:
        return path.relative_to(home).as_posix()
    except ValueError:
        return str(path)  # a SQLite home outside the Codex home (WSL, CODEX_SQLITE_HOME)


def stat_size(path: Path) -> int:
    """The size of ``path``, 0 when it cannot be read."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def human_size(count: int) -> str:
    """A byte count as people read it: 512 B, 2.4 KB, 300.0 MB, 3.0 GB."""
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
