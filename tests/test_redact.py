"""Masking in every report: the secrets a careful reader would find, and linear time."""

from __future__ import annotations

import json
import signal
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from codexsnap.diff_report import FileDiff
from codexsnap.redact import redact_line, redact_value
from codexsnap.report import diff_file

SK = "sk-proj-AbCdEf1234567890XyZ_abcdEFGH"
GHP = "ghp_1234567890abcdefABCDEF1234567890abcd"


def _printed(found: FileDiff) -> str:
    return json.dumps([repr(c) for c in found.changes]) + "\n".join(found.notes)


@pytest.mark.parametrize(
    ("value", "secret"),
    [
        ({"url": "https://bob:hunter2pass@example.com/mcp"}, "hunter2pass"),
        ({"url": "https://api.example.com/v1?key=AIzaSyA1234567890abcdef&x=1"}, "AIzaSyA1234567"),
        ({"url": "https://h.example/x?a=1&sig=0f0e0d0c0b0a0908&b=2"}, "0f0e0d0c0b0a0908"),
        ({"deviceKey": "0123456789abcdef0123456789abcdef"}, "0123456789abcdef0123"),
        ({"other": "0123456789abcdef0123456789abcdef"}, "0123456789abcdef0123"),
        ({SK: {"note": "a secret used as a key"}}, SK),
        ({"draft": f"please use {SK} in the script"}, SK),
        ({"draft": f"export GITHUB={GHP}"}, GHP),
        ({"text": "write to bob.smith@example.com today"}, "bob.smith@example.com"),
    ],
)
def test_secret_is_masked(value: dict[str, object], secret: str) -> None:
    assert secret not in json.dumps(redact_value(value))


def test_plain_values_stay_readable() -> None:
    text = "see https://example.com/x?page=2 and ratio=3, model: gpt-5"
    assert redact_line(text) == text
    key = "electron-remote-control-client-enrollments"
    assert redact_value({key: 1}) == {key: 1}


def test_free_text_tokens_are_masked_in_text_and_jsonl_reports() -> None:
    agents = diff_file("AGENTS.md", b"# Agents\n", f"# Agents\nUse {SK} and {GHP}\n".encode())
    history = diff_file(
        "history.jsonl", b"", json.dumps({"session_id": "a", "text": f"key {SK}"}).encode()
    )
    for found in (agents, history):
        assert SK not in _printed(found) and GHP not in _printed(found)


def test_toml_url_password_and_query_key_are_masked() -> None:
    config = (
        b'[mcp_servers.a]\nurl = "https://bob:hunter2pass@example.com/mcp?key=AIzaSyA1234567&x=1"\n'
    )
    printed = _printed(diff_file("config.toml", b"", config))
    assert "hunter2pass" not in printed and "AIzaSyA1234567" not in printed
    assert "example.com" in printed


def test_oauth_table_values_are_masked(tmp_path: Path) -> None:
    def database(rows: list[tuple[str, str]]) -> bytes:
        path = tmp_path / f"db-{len(rows)}.sqlite"
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE oauth (name TEXT PRIMARY KEY, value TEXT)")
            db.executemany("INSERT INTO oauth VALUES (?, ?)", rows)
        return path.read_bytes()

    old = database([])
    new = database([("github", "gho_short"), ("slack", "plain-looking-secret-value")])
    printed = _printed(diff_file("state.sqlite", old, new, kind="sqlite"))
    assert "oauth" in printed
    assert "gho_short" not in printed and "plain-looking-secret-value" not in printed


@contextmanager
def _at_most(seconds: int) -> Iterator[None]:
    def stop(*_: object) -> None:
        raise TimeoutError(f"redaction took over {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("word", ["a" * 20_000, "token" * 4_000, "x-token_key.sig" * 1_400])
def test_a_long_word_is_redacted_without_backtracking(word: str) -> None:
    # A guard against catastrophic backtracking, not a speed goal: the old assignment pattern
    # took 45 s on 20,000 plain characters and minutes on "token" repeated; linear takes ms.
    with _at_most(10):
        lines = diff_file("notes.txt", b"start\n", f"start\n{word}\n".encode()).notes
    assert lines
