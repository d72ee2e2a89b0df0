"""Every command, option and exit code is documented in docs/reference.md."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
import typer.core
import typer.main

from codexsnap import errors
from codexsnap.cli import app

REFERENCE = Path(__file__).resolve().parent.parent / "docs" / "reference.md"


def _reference() -> str:
    assert REFERENCE.is_file(), f"{REFERENCE} is missing: it documents every command"
    return REFERENCE.read_text(encoding="utf-8")


def _long_options() -> dict[str, list[str]]:
    """Every registered command and its long options (``--json``...)."""
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup) and group.commands
    return {
        name: [
            opt
            for param in command.params
            if isinstance(param, typer.core.TyperOption)
            for opt in param.opts
            if opt.startswith("--")
        ]
        for name, command in group.commands.items()
    }


def _exit_codes_section(text: str) -> str:
    """The "Exit codes" section: from its heading to the next heading of its level or above."""
    match = re.search(r"^(#+)[ \t]+Exit codes\b.*$", text, re.MULTILINE | re.IGNORECASE)
    assert match, "docs/reference.md has no 'Exit codes' heading"
    level = len(match.group(1))
    rest = text[match.end() :]
    end = re.search(rf"^#{{1,{level}}}[ \t]", rest, re.MULTILINE)
    return rest[: end.start()] if end else rest


def _error_classes() -> list[type[errors.CodexsnapError]]:
    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.CodexsnapError) and cls is not errors.CodexsnapError
    ]


@pytest.mark.parametrize("name", sorted(_long_options()))
def test_command_and_its_options_are_documented(name: str) -> None:
    text = _reference()
    assert f"codexsnap {name}" in text, f"'codexsnap {name}' is not in docs/reference.md"
    missing = [opt for opt in _long_options()[name] if opt not in text]
    assert not missing, f"options of 'codexsnap {name}' missing from docs/reference.md: {missing}"


def test_global_options_are_documented() -> None:
    assert "--version" in _reference()


@pytest.mark.parametrize("error", _error_classes(), ids=lambda cls: cls.__name__)
def test_exit_code_is_documented(error: type[errors.CodexsnapError]) -> None:
    section = _exit_codes_section(_reference())
    assert re.search(rf"(?<![\d.]){error.exit_code}(?![\d.])", section), (
        f"exit code {error.exit_code} ({error.__name__}) is not in the Exit codes section"
    )


@pytest.mark.parametrize(
    "code", [errors.EXIT_OK, errors.EXIT_DIFFERENT, errors.EXIT_INTERNAL, errors.EXIT_INTERRUPTED]
)
def test_exit_codes_of_the_cli_itself_are_documented(code: int) -> None:
    section = _exit_codes_section(_reference())
    assert re.search(rf"(?<![\d.]){code}(?![\d.])", section), f"exit code {code} not documented"
