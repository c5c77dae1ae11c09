"""Errors that send one input to the dead letters, with the pipeline stage that failed."""

from __future__ import annotations


class ClipError(Exception):
    """A clip that cannot be turned into an example.

    Attributes:
        stage: Where it failed: `read`, `decode`, `pose`, `normalize` or `encode`.
        reason: A sentence a user can act on.
        stats: Whatever was measured before the failure (set by the caller), or None.
    """

    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(f"{stage}: {reason}")
        self.stage = stage
        self.reason = reason
        self.stats = None
