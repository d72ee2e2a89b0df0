"""codexsnap recover: undo what a killed codexsnap run had half-written.

Every writing command recovers first too (``transaction.operation.begin``); this command
does it alone, waiting for nobody.
"""

from __future__ import annotations

from codexsnap.transaction.recovery import Recovery, pending, recover

__all__ = ["Recovery", "pending", "recover"]
