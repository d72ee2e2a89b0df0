"""The tutorial in docs/usage.md still prints what it shows (tests/tutorial.py replays it)."""

from __future__ import annotations

from tests.tutorial import USAGE, Ids, blocks, normalized, replay


def test_the_tutorial_marks_its_replayed_blocks() -> None:
    found = blocks(USAGE.read_text())
    commands = [step.command for steps in found for step in steps]
    assert len(found) >= 15 and any(c.startswith("undo") or " undo " in c for c in commands)
    assert all(step.expected.strip() for steps in found for step in steps), "an empty output"


def test_the_tutorial_commands_print_what_it_shows() -> None:
    doc_ids, run_ids = Ids(), Ids()
    problems = []
    for step, printed, _ in replay(USAGE.read_text()):
        want, got = normalized(step.expected, doc_ids), normalized(printed, run_ids)
        if want != got:
            problems.append(f"$ {step.command}\n--- docs/usage.md\n{want}\n--- now\n{got}")
    assert not problems, "\n\n".join(problems) + "\n(python -m tests.tutorial rewrites them)"
