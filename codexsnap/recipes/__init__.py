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
    threads: bool = False  # project-registry: rebuild thread-project-assignments too
    project: str | None = None  # project-roots: the project (name or id) to trim
    source: str | None = None  # quarantine-db --from: "recovery-copy" or "snapshot"
    database: str | None = None  # quarantine-db: the database NAME (state_5, logs_2...)

    def flags(self) -> list[str]:
        """The options as typed on the command line, in a fixed order (``--project NAME``)."""
        found = [] if self.database is None else [self.database]
        for name, value in vars(self).items():
            if value and name != "database":
                found.append(flag(name) if value is True else f"{flag(name)} {value}")
        return found


# How each option is typed, where it is not --<name with dashes>.
_FLAGS = {"source": "--from", "database": "NAME"}


def flag(name: str) -> str:
    """The option ``name`` of RecipeOptions as the user types it."""
    return _FLAGS.get(name, "--" + name.replace("_", "-"))


@dataclass(frozen=True)
class Candidate:
    """A global state kept by a snapshot: which one, as the user reads it, and its bytes."""

    snapshot_id: str
    label: str  # "1a2b3c4d5e of 2026-11-20 10:00"
    data: bytes


@dataclass(frozen=True)
class Planned:
    """A recipe's changes and what the user must be told about them (the snapshot used)."""

    changes: Changes
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Evidence:
    """Facts the command layer gathered for the recipe: nothing here is read by recipes."""

    home_files: tuple[str, ...] = ()
    revoked_client_ids: frozenset[str] = frozenset()
    logs_searched: tuple[str, ...] = ()
    app_server_pids: tuple[int, ...] = ()
    live_pids: frozenset[int] = frozenset()
    # The newest snapshot whose global state lists projects, else the newest that parses.
    restore_candidate: Candidate | None = None
    # The newest snapshot whose global state lists projects (none: no snapshot had them).
    projects_candidate: Candidate | None = None
    socket_state: str = "absent"  # the app server's socket: absent, listening, stale, unknown
    state_database: str = "state_5.sqlite"  # the live state database, relative to the home
    state_database_outside: str | None = None  # set when the live one is outside the home
    platform: str = ""  # sys.platform of this computer
    # quarantine-db: the database NAME means (relative to the home), its own files there
    # (it and its sidecars), Codex's recovery copies of it, newest first, and the newest
    # snapshot holding a copy that passes quick_check (read with --from snapshot only).
    database: str = ""
    database_files: tuple[str, ...] = ()
    recovery_copies: tuple[str, ...] = ()
    database_candidate: Candidate | None = None
    # desktop-singleton: the profile's single-instance files present (name, link target, ""
    # for a file that is no link), this computer's host name, and the lock's pid if alive.
    singleton_files: tuple[tuple[str, str], ...] = ()
    hostname: str = ""


@dataclass(frozen=True)
class Recipe:
    """A named repair, what it reads, and the pure function that plans it."""

    name: str
    summary: str
    inputs: Callable[[Evidence], tuple[str, ...]]
    plan: Callable[[Contents, RecipeOptions, Evidence], Changes | Planned]
    next_steps: tuple[str, ...]
    cites: tuple[str, ...]
    options: frozenset[str] = frozenset()
    # What the command layer must gather: "listing", "logs", "processes", "snapshots".
    needs: frozenset[str] = frozenset()
    # Files it may remove although snapshots leave them out (runtime files: never restored).
    runtime_removals: bool = False
    # Inputs under these folders are read up to their first line only (rollout headers).
    head_only: tuple[str, ...] = field(default=())
    # Its changes are a database and its sidecars: the store keeps their exact bytes before
    # they are written (store/aside.py), so undo puts back those bytes even where snapshots
    # hold only a copy or nothing (-wal, logs_2.sqlite); they are written as plain files.
    moves_aside: bool = False


def planned(result: Changes | Planned) -> Planned:
    """A recipe's answer, with or without notes, as one shape."""
    return result if isinstance(result, Planned) else Planned(result)


def refuse(message: str, hint: str) -> RecipeRefusedError:
    """The error a recipe raises when it does not apply to this home."""
    return RecipeRefusedError(message, hint=hint)


def all_recipes() -> dict[str, Recipe]:
    """Every recipe by name, in the order ``codexsnap recipes`` lists them."""
    from codexsnap.recipes import (
        app_server_stale,
        desktop_singleton,
        new_installation_id,
        pairing_reset,
        project_registry,
        project_roots,
        quarantine_db,
        remote_control,
        restore_global_state,
    )

    modules = (
        remote_control,
        pairing_reset,
        new_installation_id,
        app_server_stale,
        restore_global_state,
        project_registry,
        project_roots,
        quarantine_db,
        desktop_singleton,
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
    """The recipe called ``name``, or a clear error naming the closest and the known ones."""
    import difflib

    recipes = all_recipes()
    if name not in recipes:
        retired = RETIRED.get(name)
        known = f"Known recipes: {', '.join(recipes)}."
        close = difflib.get_close_matches(name, list(recipes), n=1, cutoff=0.6)
        guess = f"Did you mean '{close[0]}'? " if close and not retired else ""
        raise UnknownRecipeError(
            f"no recipe called {name!r}" + (f": it was removed; {retired}" if retired else ""),
            hint=guess + known,
        )
    return recipes[name]


def check_options(recipe: Recipe, options: RecipeOptions) -> None:
    """Refuse a switch the recipe does not take: silently ignoring it would mislead."""
    for name, on in vars(options).items():
        if on and name not in recipe.options:
            raise UnknownRecipeError(
                f"{'a database NAME' if name == 'database' else flag(name)} does not apply to "
                f"the {recipe.name} recipe",
                hint="Run 'codexsnap recipes' to see each recipe's options.",
            )
    if options.reset and (options.only_revoked or options.clean):
        # --reset removes both files: nothing would be left to choose from or clean.
        overridden = " and ".join(flag for flag in options.flags() if flag != "--reset")
        raise UnknownRecipeError(
            f"--reset removes both global-state files, so {overridden} would do nothing",
            hint="Drop --reset to keep the rest of the state, or drop "
            f"{overridden} to start from empty state.",
        )
