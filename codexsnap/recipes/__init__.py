"""The catalogue of repairs: each recipe is a pure function from file contents to new ones.

The command layer does all the reading (files, logs, processes, snapshots) and hands the
recipe plain data; the recipe answers with the new content of each file it changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from codexsnap.errors import RecipeRefusedError, UnknownRecipeError

# What a recipe reads: relative path -> bytes (None when the file is absent).
Contents = Mapping[str, bytes | None]
# What it returns: relative path -> new bytes (None removes the file). Unlisted files stay.
Changes = dict[str, bytes | None]


@dataclass(frozen=True)
class RecipeOptions:
    """Switches a recipe may honour (the CLI refuses those a recipe does not take)."""

    clean: bool = False
    reset: bool = False
    only_revoked: bool = False
    with_db: bool = False


@dataclass(frozen=True)
class Evidence:
    """Facts the command layer gathered for the recipe: nothing here is read by recipes."""

    home_files: tuple[str, ...] = ()
    revoked_client_ids: frozenset[str] = frozenset()
    logs_searched: tuple[str, ...] = ()
    app_server_pids: tuple[int, ...] = ()
    live_pids: frozenset[int] = frozenset()
    restore_candidate: tuple[str, bytes] | None = None  # (snapshot id, global state bytes)


@dataclass(frozen=True)
class Recipe:
    """A named repair, what it reads, and the pure function that plans it."""

    name: str
    summary: str
    inputs: Callable[[Evidence], tuple[str, ...]]
    plan: Callable[[Contents, RecipeOptions, Evidence], Changes]
    next_steps: tuple[str, ...]
    cites: tuple[str, ...]
    options: frozenset[str] = frozenset()
    # What the command layer must gather: "listing", "logs", "processes", "snapshots".
    needs: frozenset[str] = frozenset()
    # Files it may remove although snapshots leave them out (runtime files: never restored).
    runtime_removals: bool = False
    # Inputs under these folders are read up to their first line only (rollout headers).
    head_only: tuple[str, ...] = field(default=())


def refuse(message: str, hint: str) -> RecipeRefusedError:
    """The error a recipe raises when it does not apply to this home."""
    return RecipeRefusedError(message, hint=hint)


def all_recipes() -> dict[str, Recipe]:
    """Every recipe by name, in the order ``codexsnap recipes`` lists them."""
    from codexsnap.recipes import (
        app_server_stale,
        new_installation_id,
        pairing_reset,
        remote_control,
        restore_global_state,
        session_index,
    )

    modules = (
        remote_control,
        pairing_reset,
        new_installation_id,
        app_server_stale,
        session_index,
        restore_global_state,
    )
    return {m.RECIPE.name: m.RECIPE for m in modules}


def get_recipe(name: str) -> Recipe:
    """The recipe called ``name``, or a clear error listing the known ones."""
    recipes = all_recipes()
    if name not in recipes:
        raise UnknownRecipeError(
            f"no recipe called {name!r}", hint=f"Known recipes: {', '.join(recipes)}."
        )
    return recipes[name]


def check_options(recipe: Recipe, options: RecipeOptions) -> None:
    """Refuse a switch the recipe does not take: silently ignoring it would mislead."""
    for name, on in vars(options).items():
        if on and name not in recipe.options:
            raise UnknownRecipeError(
                f"--{name.replace('_', '-')} does not apply to the {recipe.name} recipe",
                hint="Run 'codexsnap recipes' to see each recipe's options.",
            )
