"""The bundle as one text file: sections a person reads, every line masked once more."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from codexsnap.cli.json_output import doctor_json, store_check_json
from codexsnap.cli.report_text import entry_line, human_size
from codexsnap.cli.text import check_text, doctor_text
from codexsnap.redact import redact_identities, redact_line
from codexsnap.wording import plural

if TYPE_CHECKING:
    from codexsnap.commands.bundle import BundleFacts
    from codexsnap.home import CodexHome


def bundle_text(facts: BundleFacts, home: CodexHome, cures: Sequence[str | None]) -> str:
    """The whole bundle; ``cures``: the doctor's cures as command lines."""
    out: list[str] = [
        "# codexsnap bundle",
        "",
        "Redacted: no token, key, client or account id, e-mail, prompt or draft is included;",
        "ids are masked (a prefix and a hash, so equal ids still look equal).",
        "",
        "## Versions",
        f"codexsnap {facts.tool_version}; Python {facts.python_version}; {facts.system}",
        f"Codex: {facts.codex_version}",
        "",
        "## Doctor",
        *[str(line) for line in doctor_text(home, facts.doctor, cures, lambda s: f"{s:<7}")],
        "",
        "## Doctor (JSON)",
        json.dumps(
            doctor_json(home, facts.doctor.store_root, facts.doctor, cures),
            indent=2,
            ensure_ascii=False,
        ),
        "",
        f"## History (last {plural(len(facts.history), 'entry')})",
        *([redact_line(entry_line(entry)) for entry in facts.history] or ["(no snapshots)"]),
        "",
        "## Snapshot scope",
        json.dumps(facts.scope, indent=2, sort_keys=True),
        "",
        "## Store check",
    ]
    if facts.store_check is not None:
        out += [str(line) for line in check_text(facts.store_check, facts.doctor.store_root)]
        out.append(json.dumps(store_check_json(facts.store_check), indent=2, ensure_ascii=False))
    else:
        out.append(f"not checked: {facts.store_error}")
    out += ["", "## Remote-control errors in the logs"]
    if not facts.logs:
        searched = ", ".join(str(f) for f in facts.doctor.log_folders) or "no log folder found"
        out.append(f"none found (searched: {searched})")
    for excerpt in facts.logs:
        out.append(f"{excerpt.path}, from line {excerpt.first_line}:")
        out += [f"    {line}" for line in excerpt.lines]
    out += ["", "## Databases (names, sizes, integrity, row counts; never row contents)"]
    for db in facts.databases:
        if db.error:
            out.append(f"{db.path}: cannot be read: {db.error}")
            continue
        verdict = "quick_check ok" if not db.integrity else "; ".join(db.integrity[:3])
        out.append(f"{db.path}: {human_size(db.size)}, {verdict}")
        out += [f"    {name}: {plural(count, 'row')}" for name, count in db.tables.items()]
    if not facts.databases:
        out.append("(none found)")
    # Every section was masked where it was made; this pass is the belt to those braces.
    return "\n".join(redact_identities(line) for line in "\n".join(out).splitlines()) + "\n"


def bundle_summary(facts: BundleFacts) -> str:
    """What the file holds, in one sentence."""
    lines = sum(len(e.lines) for e in facts.logs)
    return (
        f"versions, the doctor report (text and JSON: {plural(facts.doctor.problems, 'problem')}, "
        f"{plural(facts.doctor.warnings, 'warning')}), the last "
        f"{plural(len(facts.history), 'history entry')}, the "
        f"scope, the store check, {plural(lines, 'log line')} around remote-control errors "
        f"and the layout of {plural(len(facts.databases), 'database')}"
    )
