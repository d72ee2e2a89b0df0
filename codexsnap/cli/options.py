"""Every option and argument type of the CLI, so a flag reads the same in every command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from codexsnap.cli.help import complete_recipe, complete_snapshot_id

# Shared by most commands (docs/reference.md#options-most-commands-share).
HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--codex-home",
        metavar="PATH",
        help="Codex home folder (default: CODEX_HOME, else ~/.codex).",
    ),
]
SqliteHomeOption = Annotated[
    Path | None,
    typer.Option(
        "--codex-sqlite-home",
        metavar="PATH",
        help="Folder of Codex's databases (default: sqlite_home in config.toml, else "
        "CODEX_SQLITE_HOME, else the Codex home); outside the home, snapshots hold it too.",
    ),
]
StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store",
        metavar="PATH",
        help="Snapshot store (default: CODEXSNAP_STORE, else the user data folder).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
SecretsOption = Annotated[
    bool, typer.Option("--show-secrets", help="Print tokens, keys and ids in full.")
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
LogsOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--logs",
        metavar="DIR",
        help="remote-control --only-revoked: a folder of Codex desktop logs to read too "
        "(repeatable).",
    ),
]
# doctor and bundle: --logs is read by every log check, not only --only-revoked.
DoctorLogsOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--logs",
        metavar="DIR",
        help="A folder of Codex desktop logs to search too, besides the usual places (repeatable).",
    ),
]
ForceOption = Annotated[bool, typer.Option("--force", help="Go ahead even while Codex is running.")]


SnapshotIdArgument = Annotated[
    str,
    typer.Argument(
        metavar="ID", help="Snapshot id or prefix.", autocompletion=complete_snapshot_id
    ),
]

# fix
RecipeArgument = Annotated[
    str,
    typer.Argument(
        metavar="RECIPE",
        help="Recipe to run (listed below; 'codexsnap recipes' describes them).",
        autocompletion=complete_recipe,
    ),
]
CleanOption = Annotated[
    bool,
    typer.Option(
        "--clean", help="Also forget the selected remote host and remote auto-connect settings."
    ),
]
ResetOption = Annotated[
    bool,
    typer.Option(
        "--reset",
        help="Remove both global-state files from the home; Codex starts from empty "
        "state (their content stays in the before snapshot).",
    ),
]
OnlyRevokedOption = Annotated[
    bool,
    typer.Option(
        "--only-revoked",
        help="remote-control: remove only the enrollments the logs show revoked.",
    ),
]
WithDbOption = Annotated[
    bool,
    typer.Option("--with-db", help="pairing-reset: also clear remote_control_enrollments rows."),
]

ReplaceBakOption = Annotated[
    bool,
    typer.Option(
        "--replace-bak",
        help="Mirror the global state over its .bak even when the .bak still lists projects "
        "the primary lost.",
    ),
]

ThreadsOption = Annotated[
    bool,
    typer.Option(
        "--threads",
        help="project-registry: also rebuild thread-project-assignments from the database.",
    ),
]
ProjectOption = Annotated[
    str | None,
    typer.Option(
        "--project",
        metavar="NAME",
        help="project-roots: the project (its name or id) whose rootPaths to trim.",
    ),
]
FromOption = Annotated[
    str | None,
    typer.Option(
        "--from",
        metavar="SOURCE",
        help="quarantine-db: put a good copy in its place, from 'recovery-copy' (Codex's "
        "own) or 'snapshot' (the newest good one).",
    ),
]
DatabaseArgument = Annotated[
    str | None,
    typer.Argument(
        metavar="NAME",
        help="quarantine-db: the database to move aside (state_5, logs_2, ...).",
        show_default=False,
    ),
]

# bundle
BundleOutOption = Annotated[
    Path | None,
    typer.Option(
        "--out",
        metavar="FILE",
        help="Where to write it (default: codexsnap-bundle-<date>.md here).",
    ),
]
BundleDryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Print the bundle instead of writing it.")
]

# demo
KeepOption = Annotated[
    bool, typer.Option("--keep", help="Keep the demo folder to explore it afterwards.")
]

# rollback
RollbackIdArgument = Annotated[
    str,
    typer.Argument(
        metavar="ID",
        help="Snapshot id or a unique prefix of 4+ characters.",
        autocompletion=complete_snapshot_id,
    ),
]
PathOption = Annotated[
    list[str] | None,
    typer.Option(
        "--path",
        metavar="FILE",
        help="Restore only this file or folder, relative to the home (repeatable).",
    ),
]
KeyOption = Annotated[
    str | None,
    typer.Option(
        "--key",
        metavar="KEY",
        help="With one --path to a JSON file: restore only this key (a/b for nested).",
    ),
]
ToDirOption = Annotated[
    Path | None,
    typer.Option(
        "--to-dir",
        metavar="DIR",
        help="Write the snapshot's files into this new folder instead; the home is untouched.",
    ),
]

# history
LimitOption = Annotated[
    int | None,
    typer.Option("--limit", "-n", min=1, metavar="N", help="Show at most N entries."),
]
AllOption = Annotated[
    bool,
    typer.Option(
        "--all",
        help="List every snapshot on its own line: both halves of each operation, and "
        "pruned ones (until prune --gc).",
    ),
]

# adopt
OldHomeArgument = Annotated[
    Path,
    typer.Argument(metavar="OLD_PATH", help="The path the Codex home had before it moved."),
]

# show
DetailsOption = Annotated[
    bool,
    typer.Option(
        "--details",
        help="For a first snapshot: list every file and its contents (masked) instead of a "
        "summary.",
    ),
]

# diff
OldIdArgument = Annotated[
    str | None,
    typer.Argument(
        metavar="ID",
        help="Snapshot to compare (default: the latest).",
        autocompletion=complete_snapshot_id,
    ),
]
NewIdArgument = Annotated[
    str | None,
    typer.Argument(
        metavar="ID2",
        help="Second snapshot (default: the live home).",
        autocompletion=complete_snapshot_id,
    ),
]
StatOption = Annotated[bool, typer.Option("--stat", help="One line per file.")]

# snapshot
SnapshotMessageOption = Annotated[
    str,
    typer.Option(
        "--message",
        "-m",
        metavar="TEXT",
        help="A note kept with it; with a note, a snapshot is made even if nothing changed.",
    ),
]

# prune
KeepLastOption = Annotated[
    int | None, typer.Option("--keep-last", min=1, metavar="N", help="Keep the newest N.")
]
KeepWithinOption = Annotated[
    str | None,
    typer.Option("--keep-within", metavar="AGE", help="Keep those newer than AGE (12h, 30d, 4w)."),
]
GcOption = Annotated[bool, typer.Option("--gc", help="Delete pruned snapshots from disk for good.")]
RestoreOption = Annotated[
    bool, typer.Option("--restore", help="Bring back every pruned snapshot (before --gc).")
]

# pin, note
PinMessageOption = Annotated[
    str, typer.Option("--message", "-m", metavar="TEXT", help="Why it is kept.")
]
NoteTextArgument = Annotated[
    str, typer.Argument(metavar="TEXT", help="The note; empty removes it.")
]

# watch
DebounceOption = Annotated[
    float,
    typer.Option(
        "--debounce",
        metavar="SECONDS",
        min=0,
        help="Quiet seconds after the last change before a snapshot (the app writes in bursts).",
    ),
]
MinIntervalOption = Annotated[
    float,
    typer.Option(
        "--min-interval",
        metavar="SECONDS",
        min=0,
        help="At least this long between two automatic snapshots.",
    ),
]
PollOption = Annotated[
    bool,
    typer.Option("--poll", help="Look for changes every few seconds instead of file events."),
]

# protect
StatusOption = Annotated[
    bool,
    typer.Option(
        "--status", help="Say whether protection is installed and running; change nothing."
    ),
]
