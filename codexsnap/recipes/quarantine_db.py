"""quarantine-db: move a damaged database, with its -wal, -shm and -journal, out of the home.

Symptom: Codex does not start, or starts empty, because a database is malformed, locked or
drifted ("database disk image is malformed", checksum mismatch: openai/codex #21750, #23848,
#24006, #23917, #20841, #41614). The maintainer's advice (#20841): move the database aside
**together with** its ``-wal`` and ``-shm``, so Codex rebuilds it; a ``-wal`` left behind would
be replayed onto the new database. The files go into the store (store/aside.py), byte for
byte, so ``undo`` brings them back, even ``logs_2.sqlite``, which snapshots leave out. A
rebuilt ``state_5.sqlite`` loses pins, names and project links (#41614): ``--from`` puts a
good copy in its place instead, Codex's own recovery copy or the newest good snapshot's.
"""

from __future__ import annotations

from codexsnap.codex_files import LOG_DATABASE_PREFIX, STATE_DB
from codexsnap.errors import UsageError
from codexsnap.recipes import Changes, Contents, Evidence, Planned, Recipe, RecipeOptions, refuse

SOURCES = ("recovery-copy", "snapshot")
# What a rebuilt state database no longer has (#41614): the rollouts stay.
REBUILD_LOSES = (
    "a rebuilt state_5.sqlite starts empty: pinned threads, thread names, project links "
    "(threads.project_id, projects) and the thread-search backfill are lost (#41614); the "
    "rollouts stay, so Codex lists the threads again as it re-reads them. "
    "--from recovery-copy or --from snapshot puts a good copy in its place instead."
)


def inputs(evidence: Evidence) -> tuple[str, ...]:
    """The recovery copy ``--from recovery-copy`` reads (the database itself is not read)."""
    return evidence.recovery_copies[:1]


def plan(contents: Contents, options: RecipeOptions, evidence: Evidence) -> Planned:
    """Remove the database and its sidecars (kept in the store); with --from, a good copy."""
    name = options.database
    if not name:
        raise UsageError(
            "quarantine-db needs the NAME of a database (state_5, logs_2, ...)",
            hint="'codexsnap doctor' names a damaged database and its cure.",
        )
    if options.source is not None and options.source not in SOURCES:
        raise UsageError(
            f"--from takes {' or '.join(SOURCES)}, not {options.source!r}",
            hint="recovery-copy: Codex's own newest copy; snapshot: the newest good snapshot.",
        )
    database = evidence.database
    if database not in evidence.database_files:
        raise refuse(
            f"there is no database {database} in the home",
            hint="'codexsnap doctor' lists the databases of every layout (sqlite/ and the top).",
        )
    changes: Changes = {path: None for path in evidence.database_files}
    notes = [
        f"{', '.join(evidence.database_files)} move into the store, byte for byte; "
        "'codexsnap undo' puts them back."
    ]
    if options.source == "recovery-copy":
        copy = evidence.recovery_copies[0] if evidence.recovery_copies else None
        data = contents.get(copy) if copy else None
        if copy is None or data is None:
            raise refuse(
                f"Codex made no recovery copy of {database} (no {database}.codex-recovery-*)",
                hint="Try --from snapshot, or leave --from out to let Codex rebuild it.",
            )
        changes[database] = data
        notes.append(f"{database} is replaced by Codex's own copy {copy} (a consistent copy).")
    elif options.source == "snapshot":
        candidate = evidence.database_candidate
        if candidate is None:
            raise refuse(
                f"no snapshot holds a copy of {database} that passes quick_check",
                hint="Try --from recovery-copy, or leave --from out to let Codex rebuild it.",
            )
        changes[database] = candidate.data
        notes.append(f"{database} is replaced by its copy in snapshot {candidate.label}.")
    elif database.rsplit("/", 1)[-1] == STATE_DB:
        notes.insert(0, f"Before you go ahead: {REBUILD_LOSES}")
    elif database.rsplit("/", 1)[-1].startswith(LOG_DATABASE_PREFIX):
        notes.append("It holds only the app server's logs: Codex starts a new one.")
    return Planned(changes, tuple(notes))


RECIPE = Recipe(
    name="quarantine-db",
    summary="move a damaged database with its -wal/-shm/-journal into the store, so Codex "
    "rebuilds it (or put a good copy in its place)",
    inputs=inputs,
    plan=plan,
    next_steps=(
        "Start Codex again: it creates the database anew (or opens the good copy).",
        "If it still fails, 'codexsnap undo' puts the moved files back as they were.",
    ),
    cites=("#20841", "#21750", "#23848", "#24006", "#23917", "#41614"),
    options=frozenset({"database", "source"}),
    needs=frozenset({"database"}),
    moves_aside=True,
)
