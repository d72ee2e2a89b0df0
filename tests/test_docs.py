"""Every command, option, recipe and exit code is documented, and docs/cli.md is current."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer.core
import typer.main

from codexsnap import errors
from codexsnap.cli.app import app
from codexsnap.recipes import all_recipes

DOCS = Path(__file__).resolve().parent.parent / "docs"
REFERENCE = DOCS / "reference.md"
CLI_MD = DOCS / "cli.md"
RECIPES_MD = DOCS / "recipes.md"
REGENERATE = "typer codexsnap.cli.app utils docs --name codexsnap --output docs/cli.md"


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


def _commands() -> dict[str, typer.core.TyperCommand]:
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup) and group.commands
    return {
        name: cmd
        for name, cmd in group.commands.items()
        if isinstance(cmd, typer.core.TyperCommand)
    }


def _sections(text: str, level: int) -> dict[str, str]:
    """Each heading of this level and the text below it, up to the next of its level or above."""
    heads = list(re.finditer(rf"^#{{{level}}}[ \t]+(.+?)[ \t]*$", text, re.MULTILINE))
    found: dict[str, str] = {}
    for head in heads:
        rest = text[head.end() :]
        end = re.search(rf"^#{{1,{level}}}[ \t]", rest, re.MULTILINE)
        found[head.group(1)] = rest[: end.start()] if end else rest
    return found


def _command_sections(text: str) -> dict[str, str]:
    """`## codexsnap pin and unpin` gives the same section to pin and to unpin."""
    by_command: dict[str, str] = {}
    for title, body in _sections(text, 2).items():
        title = title.strip("`")
        if title.startswith("codexsnap "):
            for name in re.split(r",\s*|\s+and\s+", title.removeprefix("codexsnap ")):
                by_command[name.strip("` ")] = body
    return by_command


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


@pytest.mark.parametrize("name", sorted(_long_options()))
def test_every_option_is_in_its_own_commands_section(name: str) -> None:
    sections = _command_sections(_reference())
    assert name in sections, f"docs/reference.md has no '## codexsnap {name}' section"
    # Outside the synopsis block: an option listed in the usage line but never explained fails.
    explained = re.sub(r"```.*?```", "", sections[name], flags=re.DOTALL)
    missing = [o for o in _long_options()[name] if o != "--help" and o not in explained]
    assert not missing, (
        f"options of 'codexsnap {name}' missing from its section of docs/reference.md: {missing}"
    )


@pytest.mark.parametrize("name", sorted(all_recipes()))
def test_every_recipe_has_its_section(name: str) -> None:
    sections = _sections(RECIPES_MD.read_text(encoding="utf-8"), 2)
    assert name in {title.strip("`") for title in sections}, (
        f"docs/recipes.md has no '## {name}' section"
    )


def test_cli_md_is_generated_from_the_app_and_up_to_date(tmp_path: Path) -> None:
    """The file the documented command writes today is the one committed."""
    fresh = tmp_path / "cli.md"
    subprocess.run(
        [sys.executable, "-m", *REGENERATE.split()[:-1], str(fresh)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert _untyped(CLI_MD.read_text(encoding="utf-8")) == _untyped(
        fresh.read_text(encoding="utf-8")
    ), f"docs/cli.md is stale: run {REGENERATE}"


def _untyped(text: str) -> str:
    """typer 0.29 adds the type to each argument (`ID <str>`), earlier ones do not: the
    pinned typer and an environment made before the pin both pass."""
    return re.sub(r"^(\* `[^`<]+?) <[^`>]+>`", r"\1`", text, flags=re.MULTILINE)


def _option_lines(section: str) -> list[tuple[list[str], str]]:
    """``* `-y, --yes`: Do not ask...`` as (["-y", "--yes"], "Do not ask...")."""
    return [
        (re.split(r"[ ,]+", match.group(1)), match.group(2))
        for match in re.finditer(r"^\* `([^`]+)`: (.*)$", section, re.MULTILINE)
    ]


@pytest.mark.parametrize("name", sorted(_commands()))
def test_cli_md_documents_each_command_its_help_and_its_options(name: str) -> None:
    """Checked against the app itself, so a generator that lost the commands fails too."""
    command = _commands()[name]
    sections = _sections(CLI_MD.read_text(encoding="utf-8"), 2)
    section = sections.get(f"`codexsnap {name}`")
    assert section is not None, f"docs/cli.md has no section for {name}: run {REGENERATE}"
    assert command.help and command.help.split("\n")[0] in section, (
        f"the help of 'codexsnap {name}' is not in docs/cli.md: run {REGENERATE}"
    )
    for param in command.params:
        if isinstance(param, typer.core.TyperOption):
            line = next((ln for ln in _option_lines(section) if param.opts[0] in ln[0]), None)
            assert line is not None, (
                f"{param.opts[0]} of 'codexsnap {name}' is not in docs/cli.md: run {REGENERATE}"
            )
            assert param.help is None or param.help in line[1], (
                f"the help of {param.opts[0]} of 'codexsnap {name}' is stale in docs/cli.md: "
                f"run {REGENERATE}"
            )
