"""Results as plain text: what each command prints, and the command lines it suggests.

Functions return lines; a `DiffReport` among them stands for the report's own lines, which
console.py colours on a terminal. Nothing here prints.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from codexsnap.cli.report_text import human_size, report_text, snapshot_line, stat_lines
from codexsnap.home import CodexHome, StoreLocation
from codexsnap.wording import plural

if TYPE_CHECKING:
    from codexsnap.commands.adopt import AdoptResult
    from codexsnap.commands.check import CheckResult
    from codexsnap.commands.diff import DiffResult
    from codexsnap.commands.doctor import DoctorResult
    from codexsnap.commands.fix import FixResult
    from codexsnap.commands.history import OtherHome
    from codexsnap.commands.prune import PruneResult
    from codexsnap.commands.rollback import RollbackResult
    from codexsnap.commands.show import ShowResult
    from codexsnap.commands.snapshot import SnapshotTaken
    from codexsnap.diff_report import DiffReport
    from codexsnap.doctor import Check
    from codexsnap.recipes import Recipe, RecipeOptions
    from codexsnap.transaction.recovery import Recovery

Text = list["str | DiffReport"]

PENDING_WARNING = (
    "Warning: an interrupted codexsnap run left changes half-done; run "
    "'codexsnap recover' to undo them."
)


def fit(line: str, width: int) -> str:
    """A line cut at spaces to ``width`` columns, never inside a word.

    A command line the user may paste (``codexsnap ...`` not inside quotes) continues with
    `` \\`` at each cut, so the shell still reads it as one command.
    """
    if len(line) <= width:
        return line
    indent = " " * (len(line) - len(line.lstrip()) + 4)
    command = "codexsnap " in line and "'codexsnap " not in line
    import textwrap  # only for a line too long for the terminal

    wrapper = textwrap.TextWrapper(
        width=max(20, width - (2 if command else 0)),
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return (" \\\n" if command else "\n").join(wrapper.wrap(line))


# ----- command lines codexsnap prints for the user to run -----------------------------------


def location_flags(home: CodexHome, store: StoreLocation) -> str:
    """The --codex-home and --store flags an undo or cure command needs to work in any shell."""
    flags = ""
    if home.source != "default":
        flags += f" --codex-home {shlex.quote(str(home.path))}"
    if store.source != "default":
        flags += f" --store {shlex.quote(str(store.path))}"
    return flags


def logs_flags(logs: Sequence[Path]) -> str:
    return "".join(f" --logs {shlex.quote(str(folder))}" for folder in logs)


def fix_undo(result: FixResult, flags: str) -> str | None:
    """Undo what the fix wrote, and only that: Codex may have written other files since."""
    if not (result.snapshot_before and result.restorable):
        return None
    written = "".join(f" --path {shlex.quote(p)}" for p in result.restorable)
    return f"codexsnap rollback {result.snapshot_before.short_id}{written}{flags}"


def rollback_undo(result: RollbackResult, flags: str) -> str | None:
    if result.snapshot_before is None:
        return None
    return f"codexsnap rollback {result.snapshot_before.short_id}{flags}"


def cure_lines(checks: Sequence[Check], location: str, logs: Sequence[Path]) -> list[str | None]:
    """Each check's cure as the user types it: with this run's location flags and --logs."""
    from codexsnap.doctor import render_cure

    flags = logs_flags(logs)
    return [None if c.remedy is None else render_cure(c.remedy, location, flags) for c in checks]


def fix_command(recipe: str, options: RecipeOptions, logs: Sequence[Path], flags: str) -> str:
    """The command that applies what a dry run showed."""
    from codexsnap.recipes import flag

    named = "" if options.database is None else f" {shlex.quote(options.database)}"
    switches = "".join(
        f" {flag(name)}" + ("" if value is True else f" {shlex.quote(str(value))}")
        for name, value in vars(options).items()
        if value and name != "database"
    )
    return f"codexsnap fix {recipe}{named}{switches}{logs_flags(logs)}{flags}"


# ----- what each command prints ------------------------------------------------------------


def recovery_text(done: Recovery) -> str:
    count = len(done.restored)
    text = (
        f"Recovered an interrupted {done.operation}: put back {count} "
        f"file{'s' if count != 1 else ''}"
    )
    if done.left_alone:
        text += f"; left {', '.join(done.left_alone)} alone (changed since)"
    if done.snapshot is not None:
        text += f"; the home now matches snapshot {done.snapshot.short_id}"
    return text + "."


def fix_text(
    result: FixResult,
    home: Path,
    options: RecipeOptions,
    logs: Sequence[Path],
    flags: str,
    report_shown: bool,
) -> Text:
    """``report_shown``: the confirmation prompt printed the report already."""
    if result.report.empty:
        return [f"Nothing to fix: {result.recipe} found nothing to change in {home}."]
    heading = f"{'Would change' if result.dry_run else 'Changed'} ({result.recipe}, {home})"
    out: Text = (
        [f"{heading}: {plural(len(result.report.files), 'file')}."]
        if report_shown and not result.dry_run
        else [heading + ":", result.report]
    )
    if options.reset:
        out.append(
            "\nNote: --reset removes both global-state files; Codex starts with empty state "
            "(no projects, no drafts). Their content is kept in the snapshot before."
        )
    if result.dry_run:
        command = fix_command(result.recipe, options, logs, flags)
        return [*out, f"\nDry run: nothing was written. Run '{command}' to apply."]
    assert result.snapshot_before and result.snapshot_after
    if result.drift:
        out.append(f"\nChanges made outside codexsnap were saved first as {result.drift.short_id}.")
    out.append(f"\nSnapshot before: {result.snapshot_before.short_id}")
    out.append(f"Snapshot after:  {result.snapshot_after.short_id}")
    out.append("\nNext steps:")
    out += [f"  {number}. {step}" for number, step in enumerate(result.next_steps, start=1)]
    undo = fix_undo(result, flags)
    if undo is None:
        out.append(
            "\nOnly runtime files were removed; snapshots never keep them, since Codex "
            "recreates them: there is nothing to undo."
        )
    else:
        out.append(f"\nTo undo: {undo}\n   (same as: codexsnap undo{flags})")
    return out


def rollback_text(result: RollbackResult, flags: str, report_shown: bool) -> Text:
    """``rollback`` and ``undo``."""
    if result.report.empty:
        return [f"Nothing to do: the home already matches {result.target.short_id}."]
    verb = "Would restore" if result.dry_run else "Restored"
    out: Text = [f"{verb} {result.target.short_id} ({result.target.summary}):"]
    if result.dry_run or not report_shown:
        out.append(result.report)
    if result.dry_run:
        return [*out, "\nDry run: nothing was written."]
    if result.drift:
        out.append(f"\nChanges made outside codexsnap were saved first as {result.drift.short_id}.")
    out.append(
        f"\nTo undo this rollback: {rollback_undo(result, flags)}\n"
        f"   (or: codexsnap undo{flags}, which puts back only the files this rollback wrote)"
    )
    return out


def export_text(count: int, snapshot_id: str, to_dir: Path) -> str:
    return f"Wrote {plural(count, 'file')} of {snapshot_id} into {to_dir}."


def doctor_text(
    home: CodexHome,
    result: DoctorResult,
    cures: Sequence[str | None],
    paint: Callable[[str], str],
) -> Text:
    """``paint``: the status column, padded (and coloured on a terminal)."""
    out: Text = [f"Codex home: {home.path} (from {home.source})"]
    width = max(len(check.name) for check in result.checks)
    for check, cure in zip(result.checks, cures, strict=True):
        line = f"{paint(check.status)}  {check.name:<{width}}  {check.evidence}"
        out.append(line + (f"\n{'':<{width + 11}}cure: {cure}" if cure else ""))
    counts = f"{plural(result.problems, 'problem')}, {plural(result.warnings, 'warning')}"
    if result.healthy:
        out.append(f"\nHealthy: {counts}.")
    else:
        out.append(f"\n{counts}: apply the cures above, then run 'codexsnap doctor' again.")
    return out + skipped_lines(result.skipped)


def skipped_lines(skipped: Sequence[Check]) -> Text:
    """How many checks did not run, and what runs each kind (a healthy verdict covers none)."""
    if not skipped:
        return []
    ways: dict[str, list[str]] = {}
    for check in skipped:
        ways.setdefault(check.to_run, []).append(check.name)
    out: Text = [f"{plural(len(skipped), 'check')} skipped, so not covered by this verdict:"]
    out += [f"  {', '.join(names)}: {to_run}" for to_run, names in ways.items()]
    return out


def recipes_text(recipes: Iterable[Recipe]) -> Text:
    from codexsnap.recipes import flag

    out: Text = []
    for r in recipes:
        options = " ".join(sorted(flag(o) for o in r.options))
        out.append(f"{r.name:<22} {r.summary}")
        out.append(f"{'':<22} options: {options or '-'}; cites openai/codex {', '.join(r.cites)}")
    return out


def check_text(result: CheckResult, store: Path) -> Text:
    out: Text = []
    for finding in result.findings:
        where = f"{finding.snapshot[:10]}: " if finding.snapshot else ""
        out.append(f"{finding.severity}: {where}{finding.message}")
    for snapshot_id in result.quarantined:
        files = result.damaged_files.get(snapshot_id)
        if files:
            names = ", ".join(files[:5]) + (f" +{len(files) - 5}" if len(files) > 5 else "")
            out.append(
                f"quarantined {snapshot_id[:10]} (kept; rollback refuses {names}, "
                "its other files still restore)"
            )
        else:
            out.append(f"quarantined {snapshot_id[:10]} (kept; rollback refuses it)")
    out += [f"released {i[:10]} from quarantine (its files verify)" for i in result.released]
    verdict = "DAMAGED" if result.damaged else "ok"
    out.append(
        f"Store {store}: {verdict} ({plural(result.snapshots_checked, 'snapshot')}, "
        f"{plural(result.databases_checked, 'database')} checked)."
    )
    return out


_KIND_NOUNS = {"file": "file", "sqlite": "SQLite database", "symlink": "link"}


def show_text(result: ShowResult) -> Text:
    out: Text = [snapshot_line(result.snapshot)]
    summary = result.summary
    if summary is not None:
        total = summary.total
        out.append(
            f"First snapshot of this home: {plural(total.files, 'file')}, {human_size(total.size)}."
        )
        kinds = ", ".join(
            f"{plural(t.files, _KIND_NOUNS.get(kind, kind))} ({human_size(t.size)})"
            for kind, t in summary.kinds.items()
        )
        out.append(f"  by kind: {kinds}")
        out.append("  by folder:")
        width = max(len(folder or "(top level)") for folder in summary.folders)
        out += [
            f"    {folder or '(top level)':<{width}}  {plural(t.files, 'file')}, "
            f"{human_size(t.size)}"
            for folder, t in summary.folders.items()
        ]
        short = result.snapshot.short_id
        out.append(
            "Every file is new in a first snapshot, so their contents (drafts and prompt "
            f"history among them) are not listed: 'codexsnap show {short} --details' lists them."
        )
        return [*out, result.report]
    if result.report.empty:
        out.append("No file changed.")
    return [*out, result.report]


def diff_text(result: DiffResult, stat: bool) -> Text:
    against = result.new.short_id if result.new else "the live home"
    out: Text = [f"{result.old.short_id} -> {against}:"]
    if result.report.empty:
        out.append("No difference in the snapshot scope.")
    out.extend(stat_lines(result.report) if stat else report_text(result.report))  # uncoloured
    return out


def snapshot_text(taken: SnapshotTaken) -> str:
    snap = taken.snapshot
    if not taken.created:
        return f"Nothing changed since snapshot {snap.short_id}; no new snapshot made."
    count = snap.files_changed
    return f"Snapshot {snap.short_id}: {count} file{'s' if count != 1 else ''} " + (
        "(the first snapshot of this home)."
        if snap.parent is None
        else "changed since the last one."
    )


def prune_text(result: PruneResult, gc: bool, restore: bool) -> Text:
    dry_run = result.dry_run
    if restore:
        verb = "Would bring" if dry_run else "Brought"
        return [f"{verb} back {plural(result.restored, 'pruned snapshot')}."]
    out: Text = [snapshot_line(snap) for snap in result.marked]
    verb = "Would prune" if dry_run else "Pruned"
    if result.marked or not gc:
        out.append(f"{verb} {plural(len(result.marked), 'snapshot')}; {result.kept} kept.")
    if result.collected:
        out.append(f"Deleted {plural(result.collected, 'pruned snapshot')} from disk for good.")
    elif gc:
        out.append("No pruned snapshot to delete.")
    elif result.marked and not dry_run:
        out.append("They stay recoverable until 'codexsnap prune --gc'.")
    return out


def no_history_text(home: Path, store: Path, others: Sequence[OtherHome]) -> Text:
    """An empty history; when the store holds other paths' histories, how to adopt one."""
    out: Text = [f"No snapshots yet for {home} (store: {store})."]
    if not others:
        return out
    out.append(
        "The store holds the history of "
        + ("another Codex home path" if len(others) == 1 else "other Codex home paths")
        + " (a history is kept per path, so a home that moved starts with none):"
    )
    for other in others:
        when = other.latest.created_at.astimezone().strftime("%Y-%m-%d %H:%M")
        out.append(f"  {other.path}  ({plural(other.snapshots, 'snapshot')}, latest {when})")
    first = shlex.quote(others[0].path)
    out.append(
        f"If this home moved from there, take that history over with: codexsnap adopt {first}"
    )
    return out


def adopt_text(result: AdoptResult, home: Path) -> Text:
    count = plural(result.snapshots, "snapshot")
    if result.adopted is None:
        return [
            f"Would adopt the history of {result.old_path} ({count}, latest "
            f"{result.latest.short_id}) for {home}.",
            "Dry run: nothing was written.",
        ]
    return [
        f"Adopted the history of {result.old_path} ({count}, latest {result.latest.short_id}) "
        f"for {home}.",
        f"Snapshot {result.adopted.short_id} records it; the history of {result.old_path} "
        "stays as it was.",
    ]
