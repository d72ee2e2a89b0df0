"""One error hierarchy; the CLI maps each class to its documented exit code."""

from __future__ import annotations

# Exit codes are part of the public interface (docs/reference.md#exit-codes).
EXIT_OK = 0
EXIT_DIFFERENT = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # as a shell reports a process killed by SIGPIPE


class CodexsnapError(Exception):
    """An expected failure: one line for the user, a hint, and an exit code."""

    exit_code = 64

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class HomeNotFoundError(CodexsnapError):
    """The Codex home is missing or is not a folder."""

    exit_code = 3


class StateFileInvalidError(CodexsnapError):
    """A state file cannot be read safely (bad JSON, NUL bytes, BOM, unreadable...)."""

    exit_code = 4


class CodexRunningError(CodexsnapError):
    """The Codex app or app server runs and would undo the change."""

    exit_code = 5


class LockHeldError(CodexsnapError):
    """Another codexsnap operation holds the store."""

    exit_code = 6


class SnapshotNotFoundError(CodexsnapError):
    """No snapshot of this home matches the given id."""

    exit_code = 7


class AmbiguousSnapshotIdError(SnapshotNotFoundError):
    """Several snapshots match the given id prefix."""


class StoreError(CodexsnapError):
    """The snapshot store is unusable: wrong place, newer format, damaged or tampered."""

    exit_code = 8


class StoreWriteError(StoreError):
    """The store's disk refused a write (full, read-only, failing): the snapshot under way
    was not recorded. Callers add what that means for the home."""

    def saying(self, outcome: str) -> StoreWriteError:
        """The same refusal, ending with what it means for the home: the last line."""
        return StoreWriteError(f"{self.message}; {outcome}", self.hint)


class TamperedSnapshotError(StoreError):
    """A snapshot holds paths or links that would escape the Codex home."""


class NotConfirmedError(CodexsnapError):
    """The user declined, or no terminal was there to ask and --yes was not given."""

    exit_code = 9


class HomeWriteError(CodexsnapError):
    """Writing into the Codex home failed; the files were put back as they were."""

    exit_code = 10


class ConfigError(CodexsnapError):
    """The store's scope configuration cannot be read."""

    exit_code = 11


class RecipeRefusedError(CodexsnapError):
    """The recipe does not apply to this home (no evidence, app server alive, no candidate)."""

    exit_code = 12


class SchemaAheadError(CodexsnapError):
    """A database to restore holds migrations the live one lacks: Codex was downgraded since,
    and would refuse to open it (openai/codex #30042). --force restores it anyway."""

    exit_code = 13


class ServiceJobError(CodexsnapError):
    """The service manager (systemctl, launchctl, schtasks) refused to install or remove the
    background job of ``codexsnap protect``."""

    exit_code = 14


class UsageError(CodexsnapError):
    """Options that do not go together, or a value a command cannot take."""

    exit_code = EXIT_USAGE


class UnknownRecipeError(UsageError):
    """No recipe has that name (or the option does not apply to it)."""
