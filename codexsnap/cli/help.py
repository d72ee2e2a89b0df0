"""How --help reads and what the shell completes: plain argument names, the terminal's
whole width, recipe names and snapshot ids offered on Tab."""

from __future__ import annotations

import shutil
from typing import Any

import typer
import typer._click._textwrap as _textwrap
import typer.core

# click caps help at 80 columns and cuts each command's summary to fit: at 200 columns
# the list read "Repair the Codex home with a recipe (default:...". Use the terminal.
HELP_WIDTH = max(80, shutil.get_terminal_size((80, 24)).columns)


class _WholeWords(_textwrap.TextWrapper):
    """click's wrapper, told never to cut a word: it broke "local-projects" and
    "restore-global-state" at their hyphens, and an example so cut no longer pastes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.update(break_on_hyphens=False, break_long_words=False)
        super().__init__(*args, **kwargs)


# click's wrap_text imports the wrapper from its module at each call: this one is used.
if not issubclass(_textwrap.TextWrapper, _WholeWords):
    _textwrap.TextWrapper = _WholeWords  # type: ignore[misc]


class PlainArgument(typer.core.TyperArgument):
    """An argument shown by its name alone: ``ID``, not ``ID <str>`` nor ``{ID}``."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def make_metavar(self, ctx: Any, *, usage: bool = False) -> str:
        # typer 0.28 (pinned: 0.29 imports pydantic at every start) writes a required
        # argument as {ID} in the usage line; the user types ID.
        var: str = super().make_metavar(ctx)
        return f"[{var}]" if usage and not self.required else var


def _recipe_names() -> str:
    from codexsnap.recipes import all_recipes

    return "Recipes: " + ", ".join(all_recipes()) + " (codexsnap recipes describes them)."


# A paragraph added to a command's help when it is shown: read then, not at every start.
_EXTRA_HELP = {"fix": _recipe_names}


class HelpfulCommand(typer.core.TyperCommand):
    """A command whose arguments read as the user types them (see PlainArgument)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if type(param) is typer.core.TyperArgument:
                param.__class__ = PlainArgument

    def format_help_text(self, ctx: Any, formatter: Any) -> None:
        super().format_help_text(ctx, formatter)
        extra = _EXTRA_HELP.get(self.name or "")
        if extra is not None:
            formatter.write_paragraph()
            with formatter.indentation():
                formatter.write_text(extra())


def complete_recipe(incomplete: str) -> list[tuple[str, str]]:
    """The recipe names that start with what was typed, each with its summary."""
    from codexsnap.recipes import all_recipes

    return [(r.name, r.summary) for r in all_recipes().values() if r.name.startswith(incomplete)]


def complete_snapshot_id(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """This home's snapshot ids (newest first) that start with what was typed."""
    from codexsnap.commands.history import history
    from codexsnap.home import find_codex_home, find_store_location

    try:
        home = find_codex_home(ctx.params.get("codex_home"))
        store = find_store_location(ctx.params.get("store"), home)
        found = history(home.path, store.path, 200)
    except Exception:  # completion must never print an error into the shell
        return []
    wanted = incomplete.lower()
    return [(s.short_id, s.summary) for s in found if s.id.startswith(wanted) and not s.damaged]
