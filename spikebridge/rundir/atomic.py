"""Atomic file writes for the run directory (the primitive lives in :mod:`spikebridge.atomic`, below every layer,
because model inputs and stimuli are written the same way)."""

from ..atomic import atomic_file

__all__ = ["atomic_file"]
