"""The recordings file of a run directory: one Neo Block, one segment per phase."""

from __future__ import annotations

from pathlib import Path

import neo


def write_recordings(block: neo.Block, path: Path) -> None:
    """Write ``block`` to ``path``."""
    neo.io.PickleIO(str(path)).write_block(block)


def read_recordings(path: Path) -> neo.Block:
    """Read the Block written by :func:`write_recordings`."""
    return neo.io.PickleIO(str(path)).read_block()
