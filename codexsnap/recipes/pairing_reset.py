"""pairing-reset: forget the host-side remote-control identity so pairing starts afresh.

Symptom: pairing stuck on "Approve on mobile device" or "Waiting for computer", or a stale
host (openai/codex #23112, #23952, #22714).
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

from codexsnap.codex_files import GLOBAL_STATE, GLOBAL_STATE_BAK, HOST_IDENTITY_KEYS, STATE_DB
from codexsnap.errors import StateFileInvalidError
from codexsnap.json_edit import remove_top_level_keys
from codexsnap.recipes import Changes, Contents, Evidence, Recipe, RecipeOptions
from codexsnap.recipes.remote_control import mirror_edit
from codexsnap.state_file import edit_state

HOST_KEYS = HOST_IDENTITY_KEYS


def plan(contents: Contents, options: RecipeOptions, evidence: Evidence) -> Changes:
    """Remove the host-side keys; with ``--with-db`` also the enrollment rows."""

    def edit(name: str, raw: bytes) -> bytes:
        return edit_state(name, raw, lambda text: remove_top_level_keys(text, set(HOST_KEYS)))

    changes = mirror_edit({k: contents.get(k) for k in (GLOBAL_STATE, GLOBAL_STATE_BAK)}, edit)
    database = contents.get(STATE_DB)
    if options.with_db and database is not None:
        try:
            cleared = clear_enrollment_rows(database)
        except sqlite3.DatabaseError as exc:
            raise StateFileInvalidError(
                f"{STATE_DB} cannot be read as a SQLite database ({exc})",
                hint="Restore it first with 'codexsnap rollback <id> --path state_5.sqlite'.",
            ) from None
        if cleared != database:
            changes[STATE_DB] = cleared
    return changes


def clear_enrollment_rows(database: bytes) -> bytes:
    """The database with ``remote_control_enrollments`` emptied in one transaction.

    Works on a private copy of the bytes; the schema (and ``_sqlx_migrations``) stays as it
    is, since Codex checks migration checksums.
    """
    with tempfile.TemporaryDirectory(prefix="codexsnap-") as scratch:
        path = Path(scratch) / "state.sqlite"
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
    inputs=lambda evidence: (GLOBAL_STATE, GLOBAL_STATE_BAK, STATE_DB),
    plan=plan,
    next_steps=(
        "Start Codex again.",
        "Pair your remote devices with this computer again.",
    ),
    cites=("#23112", "#23952", "#22714"),
    options=frozenset({"with_db"}),
)
