"""codexsnap: snapshot, repair and roll back the Codex home folder safely."""

__version__ = "0.1.0"
