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
    replace_bak: bool = False  # mirror an emptied primary over a .bak that holds projects


@dataclass(frozen=True)
class Evidence:
    """Facts the command layer gathered for the recipe: nothing here is read by recipes."""

    home_files: tuple[str, ...] = ()
    revoked_client_ids: frozenset[str] = frozenset()
    logs_searched: tuple[str, ...] = ()
    app_server_pids: tuple[int, ...] = ()
    live_pids: frozenset[int] = frozenset()
    restore_candidate: tuple[str, bytes] | None = None  # (snapshot id, global state bytes)
    socket_state: str = "absent"  # the app server's socket: absent, listening, stale, unknown
    state_database: str = "state_5.sqlite"  # the live state database, relative to the home
    state_database_outside: str | None = None  # set when the live one is outside the home
    platform: str = ""  # sys.platform of this computer


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
    )

    modules = (
        remote_control,
        pairing_reset,
        new_installation_id,
        app_server_stale,
        restore_global_state,
    )
    return {m.RECIPE.name: m.RECIPE for m in modules}


# Recipes that were removed, and why: someone who learnt the old name is told.
RETIRED = {
    "session-index": "session_index.jsonl only names renamed threads, so a thread missing from "
    "it is normal and invented names make no thread visible (openai/codex "
    "codex-rs/rollout/src/session_index.rs); 'codexsnap doctor' compares the rollouts with the "
    "state database's threads instead (its 'threads' check) and names the cure",
}


def get_recipe(name: str) -> Recipe:
    """The recipe called ``name``, or a clear error listing the known ones."""
    recipes = all_recipes()
    if name not in recipes:
        retired = RETIRED.get(name)
        known = f"Known recipes: {', '.join(recipes)}."
        raise UnknownRecipeError(
            f"no recipe called {name!r}" + (f": it was removed; {retired}" if retired else ""),
            hint=known,
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
