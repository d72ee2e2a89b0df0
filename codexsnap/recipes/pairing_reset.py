"""pairing-reset: forget the host-side remote-control identity so pairing starts afresh.

Symptom: pairing stuck on "Approve on your device" (openai/codex #22714) or "Waiting for
computer response" (#27167), or a stale host (#23112, #23952). ``--with-db`` also empties
``remote_control_enrollments`` in the live state database: ``sqlite/state_5.sqlite`` for the
desktop app, the top-level one for a CLI-only home, ``@sqlite/state_5.sqlite`` for a SQLite
home outside the Codex home (WSL, ``CODEX_SQLITE_HOME``), which the snapshots hold too.
"""

from __future__ import annotations

import sqlite3

from codexsnap.codex_files import GLOBAL_STATE, GLOBAL_STATE_BAK, HOST_IDENTITY_KEYS
from codexsnap.errors import StateFileInvalidError
from codexsnap.json_edit import remove_top_level_keys
from codexsnap.recipes import Changes, Contents, Evidence, Recipe, RecipeOptions, refuse
from codexsnap.recipes.remote_control import mirror_edit
from codexsnap.scratch import scratch_folder
from codexsnap.state_file import edit_state

HOST_KEYS = HOST_IDENTITY_KEYS


def plan(contents: Contents, options: RecipeOptions, evidence: Evidence) -> Changes:
    """Remove the host-side keys; with ``--with-db`` also the enrollment rows."""

    def edit(name: str, raw: bytes) -> bytes:
        return edit_state(name, raw, lambda text: remove_top_level_keys(text, set(HOST_KEYS)))

    if options.with_db and evidence.state_database_outside is not None:
        raise refuse(
            f"the live state database is {evidence.state_database_outside}, outside the Codex "
            "home: a fix there could not be undone from a snapshot",
            hint="Give --codex-sqlite-home with that folder, so the snapshots hold it and the "
            "fix can be undone, or run it without --with-db.",
        )
    states = {k: contents.get(k) for k in (GLOBAL_STATE, GLOBAL_STATE_BAK)}
    changes = mirror_edit(states, edit, replace_bak=options.replace_bak)
    name = evidence.state_database
    database = contents.get(name)
    if options.with_db and database is not None:
        try:
            cleared = clear_enrollment_rows(database)
        except sqlite3.DatabaseError as exc:
            raise StateFileInvalidError(
                f"{name} cannot be read as a SQLite database ({exc})",
                hint=f"Restore it first with 'codexsnap rollback <id> --path {name}'.",
            ) from None
        if cleared != database:
            changes[name] = cleared
    return changes


def clear_enrollment_rows(database: bytes) -> bytes:
    """The database with ``remote_control_enrollments`` emptied in one transaction.

    Works on a private copy of the bytes; the schema (and ``_sqlx_migrations``) stays as it
    is, since Codex checks migration checksums.
    """
    with scratch_folder() as scratch:
        path = scratch / "state.sqlite"
        path.write_bytes(database)
        db = sqlite3.connect(path, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=DELETE")  # the copy must be one self-contained file
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if "remote_control_enrollments" not in tables:
                return database
            if not db.execute("SELECT count(*) FROM remote_control_enrollments").fetchone()[0]:
                return database
            db.execute("BEGIN IMMEDIATE")
            db.execute("DELETE FROM remote_control_enrollments")
            db.execute("COMMIT")
            db.execute("PRAGMA journal_mode=WAL")  # as Codex keeps it
        finally:
            db.close()
        return path.read_bytes()


RECIPE = Recipe(
    name="pairing-reset",
    summary="forget this computer's remote-control host identity and paired devices",
    inputs=lambda evidence: (GLOBAL_STATE, GLOBAL_STATE_BAK, evidence.state_database),
    plan=plan,
    next_steps=(
        "Start Codex again.",
        "Turn on Settings → Connections → Control this Mac/PC, then pair your remote devices "
        "with this computer again (#28119).",
    ),
    cites=("#23112", "#23952", "#22714", "#27167"),
    options=frozenset({"with_db", "replace_bak"}),
)
