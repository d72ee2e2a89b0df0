"""The realistic home builder lives in the package (``codexsnap demo`` uses it too)."""

from codexsnap.demo_home import (
    ACCESS_TOKEN,
    ENROLLMENT_KEY,
    MCP_TOKEN,
    PUBLIC_KEY,
    REVOKED_CLIENT_ID,
    THREADS,
    CodexHomeBuilder,
    enrollments,
    global_state,
    insert_thread,
    thread_id,
)

__all__ = [
    "ACCESS_TOKEN",
    "ENROLLMENT_KEY",
    "MCP_TOKEN",
    "PUBLIC_KEY",
    "REVOKED_CLIENT_ID",
    "THREADS",
    "CodexHomeBuilder",
    "enrollments",
    "global_state",
    "insert_thread",
    "thread_id",
]
