"""The realistic home builder lives in the package (``codexsnap demo`` uses it too)."""

from codexsnap.demo_home import (
    ACCESS_TOKEN,
    ENROLLMENT_KEY,
    MCP_TOKEN,
    PUBLIC_KEY,
    REVOKED_CLIENT_ID,
    CodexHomeBuilder,
    enrollments,
    global_state,
)

__all__ = [
    "ACCESS_TOKEN",
    "ENROLLMENT_KEY",
    "MCP_TOKEN",
    "PUBLIC_KEY",
    "REVOKED_CLIENT_ID",
    "CodexHomeBuilder",
    "enrollments",
    "global_state",
]
