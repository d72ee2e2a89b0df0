"""docs/usage.md's tutorial, replayed: its marked blocks run in order on a test home.

A block after a ``<!-- tutorial -->`` line holds ``$ command`` lines, each followed by
what it printed. ``replay`` runs them in a fresh home (``~/.codex``, logs copied into
``~/Downloads/codex-logs``, the store in the user data folder) and returns, block by block,
what they print now. Snapshot ids, times and hashes differ from run to run: ``normalized``
names ids by their order of appearance and blanks times, so a comparison sees the rest.

``python -m tests.tutorial`` rewrites the blocks of docs/usage.md from a real run.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

USAGE = Path(__file__).parent.parent / "docs" / "usage.md"
MARK = "<!-- tutorial -->"
_ID = re.compile(r"\b[0-9a-f]{40}\b|\b[0-9a-f]{10}\b")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[+-]\d{2}:\d{2}|Z)?")
_HASH = re.compile(r"sha256 [0-9a-f]{12}")
# Sizes of files Codex and git write with times inside (databases, the logs): not compared.
_SIZE = re.compile(r"\d+(?:\.\d)? (?:B|KB|MB)\b|\b\d+ bytes\b")


@dataclass(frozen=True)
class Step:
    command: str
    expected: str


def blocks(text: str) -> list[list[Step]]:
    """The marked blocks of the tutorial, as steps."""
    found: list[list[Step]] = []
    lines = text.splitlines()
    for at, line in enumerate(lines):
        if line.strip() != MARK:
            continue
        start = at + 2  # the fence follows the mark
        assert lines[at + 1].startswith("```"), f"line {at + 2}: a fence must follow the mark"
        end = next(i for i in range(start, len(lines)) if lines[i].startswith("```"))
        steps: list[Step] = []
        for body in lines[start:end]:
            if body.startswith("$ "):
                steps.append(Step(body[2:], ""))
            elif steps:
                last = steps[-1]
                steps[-1] = Step(last.command, last.expected + body + "\n")
        found.append(steps)
    return found


class Ids:
    """Snapshot ids by order of first appearance, for one side of a comparison."""

    def __init__(self) -> None:
        self.order: dict[str, int] = {}

    def name(self, found: re.Match[str]) -> str:
        short = found[0][:10]
        number = self.order.setdefault(short, len(self.order))
        return f"<id{number}>"


def normalized(text: str, ids: Ids) -> str:
    text = _TIME.sub("<time>", text)
    text = _HASH.sub("sha256 <hash>", text)
    text = _SIZE.sub("<size>", text)
    text = _ID.sub(ids.name, text)
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


@contextmanager
def sandbox() -> Iterator[Path]:
    """A user home with a broken ``~/.codex`` and the desktop logs in ~/Downloads."""
    from codexsnap.demo_home import CodexHomeBuilder, write_revocation_log

    with tempfile.TemporaryDirectory(prefix="codexsnap-tutorial-") as tmp:
        user = Path(tmp) / "ana"
        user.mkdir()
        builder = CodexHomeBuilder(user / ".codex")
        builder.build()
        builder.close()  # Codex is quit
        write_revocation_log(user / "Downloads" / "codex-logs")
        yield user


def run_step(command: str, user: Path, env: dict[str, str]) -> str:
    """One ``$`` line: codexsnap in-process, anything else through the shell."""
    words = [os.path.expanduser(w) if w.startswith("~") else w for w in shlex.split(command)]
    if words[0] != "codexsnap":
        subprocess.run(command, shell=True, check=True, env=env, cwd=user)
        return ""
    from codexsnap.cli.app import app

    result = CliRunner().invoke(app, words[1:], env=env)
    out = result.stdout + result.stderr
    return out.replace(str(user), "~")


def replay(text: str) -> Iterator[tuple[Step, str, str]]:
    """Each step, what it prints now, and the command as run (its ids this run's)."""
    doc_ids, run_ids = Ids(), Ids()
    with sandbox() as user:
        env = {"HOME": str(user), "NO_COLOR": "1", "CODEX_HOME": "", "CODEXSNAP_STORE": ""}
        env["XDG_DATA_HOME"] = str(user / ".local" / "share")
        env["XDG_CONFIG_HOME"] = str(user / ".config")
        env["CODEXSNAP_TEST_PROCESS_ROOT"] = str(os.getpid())  # no real Codex counts
        old = {k: os.environ.get(k) for k in env}
        os.environ.update(env)  # ~ in the shell steps, Path.home() in codexsnap
        try:
            for steps in blocks(text):
                for step in steps:
                    normalized(step.expected, doc_ids)
                    command = _ID.sub(lambda m: _translate(m[0], doc_ids, run_ids), step.command)
                    printed = run_step(command, user, {**os.environ})
                    normalized(printed, run_ids)
                    yield step, printed, command
        finally:
            for key, value in old.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def _translate(doc_id: str, doc_ids: Ids, run_ids: Ids) -> str:
    number = doc_ids.order.get(doc_id[:10])
    by_number = {n: i for i, n in run_ids.order.items()}
    return by_number.get(number, doc_id) if number is not None else doc_id


def regenerate() -> None:
    """Rewrite each marked block of docs/usage.md with what its commands print now."""
    text = USAGE.read_text()
    runs = iter(list(replay(text)))
    lines = text.splitlines()
    out: list[str] = []
    at = 0
    while at < len(lines):
        line = lines[at]
        out.append(line)
        if line.strip() == MARK:
            out.append(lines[at + 1])
            end = next(i for i in range(at + 2, len(lines)) if lines[i].startswith("```"))
            commands = sum(1 for body in lines[at + 2 : end] if body.startswith("$ "))
            for number in range(commands):
                _, printed, command = next(runs)
                if number:
                    out.append("")
                out.append(f"$ {command}")
                out += [row.rstrip() for row in printed.rstrip("\n").splitlines()]
            out.append(lines[end])
            at = end
        at += 1
    USAGE.write_text("\n".join(out) + "\n")


if __name__ == "__main__":
    regenerate()
