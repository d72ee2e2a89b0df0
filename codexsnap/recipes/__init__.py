"""The catalogue of repairs: each recipe is a pure function from file contents to new ones."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from codexsnap.errors import UnknownRecipeError

# What a recipe reads: relative path -> bytes (None when the file is absent).
Contents = Mapping[str, bytes | None]
# What it returns: relative path -> new bytes (None removes the file). Unlisted files stay.
Changes = dict[str, bytes | None]


@dataclass(frozen=True)
class RecipeOptions:
    """Switches a recipe may honour."""

    clean: bool = False
    reset: bool = False


@dataclass(frozen=True)
class Recipe:
    """A named repair, the files it may touch, and the pure function that plans it."""

    name: str
    summary: str
    files: tuple[str, ...]
    plan: Callable[[Contents, RecipeOptions], Changes]
    next_steps: tuple[str, ...]
    cites: tuple[str, ...]


def all_recipes() -> dict[str, Recipe]:
    """Every recipe by name."""
    from codexsnap.recipes import remote_control

    return {r.name: r for r in (remote_control.RECIPE,)}


def get_recipe(name: str) -> Recipe:
    """The recipe called ``name``, or a clear error listing the known ones."""
    recipes = all_recipes()
    if name not in recipes:
        raise UnknownRecipeError(
            f"no recipe called {name!r}", hint=f"Known recipes: {', '.join(sorted(recipes))}."
        )
    return recipes[name]
