"""The terminal: colour and tables for a person, plain text when piped or with NO_COLOR, prompts.

`echo` and `style` write what click's would (same escapes, colour stripped when the stream is
no terminal) without importing typer: `history` and `snapshot` start without it (cli/start.py).
Only a prompt loads typer, for its `confirm`.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codexsnap.cli.json_output import dump_json
from codexsnap.cli.report_text import (
    describe,
    entry_details,
    entry_line,
    files_text,
    report_text,
    snapshot_marks,
)
from codexsnap.cli.text import PENDING_WARNING, Text, fit
from codexsnap.errors import NotConfirmedError
from codexsnap.home import color_allowed, is_interactive

if TYPE_CHECKING:
    from codexsnap.commands import Confirm
    from codexsnap.commands.history import HistoryEntry
    from codexsnap.diff_report import DiffReport

_COLOR_CODES = {"red": 31, "green": 32, "yellow": 33, "blue": 34}
_ANSI = re.compile(r"\033\[[;?0-9]*[a-zA-Z]")


def style(text: str, fg: str | None = None, bold: bool | None = None) -> str:
    """``text`` in colour ``fg`` and/or bold (False: explicitly not bold), then a reset."""
    codes = ""
    if fg is not None:
        codes += f"\033[{_COLOR_CODES[fg]}m"
    if bold is not None:
        codes += f"\033[{1 if bold else 22}m"
    return f"{codes}{text}\033[0m"


def echo(message: str = "", err: bool = False, nl: bool = True) -> None:
    """``message`` on stdout (stderr with ``err``), flushed; colour stripped off a terminal."""
    stream = sys.stderr if err else sys.stdout
    if stream is None:  # pythonw, or a closed stream: nowhere to write, as click
        return
    if message and not stream.isatty():
        message = _ANSI.sub("", message)
    stream.write(f"{message}\n" if nl else message)
    stream.flush()


_LINE_COLORS = {"  + ": "green", "  - ": "red", "  ~ ": "yellow"}
_STATUS_COLORS = {"ok": "green", "warning": "yellow", "problem": "red", "skipped": "blue"}


def paint_report_line(line: str) -> str:
    """A report line coloured by what it says: added, removed, changed, or a file header."""
    for prefix, color in _LINE_COLORS.items():
        if line.startswith(prefix):
            return style(line, fg=color)
    if line and not line.startswith(" "):
        return style(line, bold=True)
    return line


def paint_status(status: str) -> str:
    """ok / warning / problem / skipped, padded, in green / yellow / red / blue."""
    return style(f"{status:<7}", fg=_STATUS_COLORS.get(status), bold=status == "problem")


def history_table(entries: Iterable[HistoryEntry], paired: bool) -> None:
    """History as a Rich table (only imported on a terminal: it costs start-up time)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("id", "when", "what", "files", "note"):
        table.add_column(column, overflow="fold")
    for entry in entries:
        snap = entry.snapshot
        when = snap.created_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        marks = " ".join(m.strip() for m in snapshot_marks(snap))
        note = " ".join(filter(None, (marks, entry_details(entry).strip()[1:-1])))
        if snap.damaged:
            note = f"[unreadable] {snap.damaged}"
        files = "runtime files only" if entry.runtime_only else files_text(snap)
        table.add_row(
            snap.short_id,
            when,
            describe(snap, paired=paired and entry.before is not None),
            files,
            note,
            style="dim" if snap.pruned else None,
        )
    Console(file=sys.stdout, highlight=False, markup=False).print(table)


def plain_history(entries: Iterable[HistoryEntry], paired: bool) -> None:
    """History as plain lines, for pipes and scripts."""
    # One write, not one write and flush per line: 1,000 lines took 1,000 system calls.
    lines = [entry_line(entry, paired) for entry in entries]
    if lines:
        echo("\n".join(lines))


class Progress:
    """A one-line counter on stderr while a big home is scanned or restored."""

    def __init__(self) -> None:
        self._shown = False

    def __call__(self, done: int, total: int, what: str) -> None:
        if not sys.stderr.isatty() or (done < 1000 and not self._shown):
            return
        count = f"{done}/{total}" if total else str(done)
        sys.stderr.write(f"\r{what}: {count} files ")
        if total and done >= total:
            sys.stderr.write("\n")
            self._shown = False
        else:
            self._shown = True
        sys.stderr.flush()


def asked(yes: bool, json_output: bool) -> bool:
    """True when the confirmation prompt (which shows the report) was put to a person."""
    return not yes and not json_output and is_interactive()


def confirmer(yes: bool, json_output: bool, home: Path | None = None, flags: str = "") -> Confirm:
    """Ask before writing: what is about to be done, to which home, and how to undo it.

    ``flags``: the --codex-home/--store flags the undo command needs.
    """

    def confirm(report: DiffReport) -> bool:
        if yes:
            return True
        if json_output and is_interactive():
            raise NotConfirmedError(
                "not asking for confirmation with --json: the question and the report would "
                "mix with the JSON document a script reads",
                hint="Add --yes to go ahead, or --dry-run to only see the report.",
            )
        if json_output or not is_interactive():
            raise NotConfirmedError(
                "not changing anything without confirmation (no terminal to ask on)",
                hint="Add --yes to go ahead, or --dry-run to only see the report.",
            )
        where = f" to the Codex home {home}" if home is not None else ""
        echo(f"About to apply '{report.subject or 'these changes'}'{where}:", err=True)
        for line in report_text(report):
            echo(line, err=True)
        echo(
            f"A snapshot of the home is taken first; to undo afterwards: codexsnap undo{flags}",
            err=True,
        )
        import typer  # a prompt is the only thing here that needs it

        return typer.confirm("Apply these changes?", default=False, err=True)

    return confirm


def echo_report(report: DiffReport) -> None:
    colored = color_allowed()
    for line in report_text(report):
        echo(paint_report_line(line) if colored else line)


def _terminal_width() -> int:
    import shutil  # with its archive modules: only for a terminal

    return shutil.get_terminal_size((80, 24)).columns


def echo_text(lines: Text) -> None:
    """What text.py made, on stdout: on a terminal, reports coloured and long lines cut at
    its width between words (pipes get every line whole)."""
    width = _terminal_width() if sys.stdout.isatty() else None
    from codexsnap.diff_report import DiffReport  # light: dataclasses only

    for line in lines:
        if isinstance(line, DiffReport):
            echo_report(line)
        elif width is None:
            echo(line)
        else:
            echo("\n".join(fit(part, width) for part in line.split("\n")))


def echo_json(value: Any) -> None:
    echo(dump_json(value), nl=False)


def echo_pending(pending: bool) -> None:
    """On stderr: a dry run found an interrupted run and left its recovery for later.

    A recovery that was done is told when it happens (``locate.announce_recovery``).
    """
    if pending:
        echo(PENDING_WARNING, err=True)


def echo_warnings(warnings: Sequence[str]) -> None:
    """On stderr, so --json output stays one document: the risks --force went past."""
    for warning in warnings:
        echo(f"Warning: {warning}", err=True)


def status_painter() -> Callable[[str], str]:
    """The doctor's status column: coloured on a terminal, else padded plain text."""
    return paint_status if color_allowed() else lambda status: f"{status:<7}"


def echo_history(entries: Sequence[HistoryEntry], paired: bool) -> None:
    """``paired``: each entry is an operation (else one snapshot each, ``history --all``)."""
    if color_allowed():
        history_table(entries, paired)
    else:
        plain_history(entries, paired)
