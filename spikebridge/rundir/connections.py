"""The run directory's ``connections.npz``: each projection's weights (uS or nA) and delays (ms) at the end of a run.

One ``.npz`` archive with four arrays per projection, ``NAME__pre``, ``NAME__post`` (cell indices within the pre
and post population), ``NAME__weight`` and ``NAME__delay``, of one length: the projection's synapses.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..backends.base import Connections
from ..errors import RunDirectoryError

FIELDS = ("pre", "post", "weight", "delay")


def write_connections(path: Path, connections: Mapping[str, Connections]) -> None:
    """Write ``{projection: Connections}`` to ``path`` (an ``.npz`` archive; see the module docstring)."""
    flat = {f"{name}__{field}": getattr(c, field) for name, c in connections.items() for field in FIELDS}
    np.savez(path, **flat)


def read_connections(path: Path, projection: str) -> Connections:
    """The final weights (uS or nA) and delays (ms) of ``projection`` from the archive at ``path``.

    Raises
    ------
    RunDirectoryError
        If the archive holds no projection of that name.
    """
    with np.load(path) as data:
        if f"{projection}__pre" not in data.files:
            raise RunDirectoryError(f"no projection {projection!r} in {Path(path).parent}")
        return Connections(*(data[f"{projection}__{f}"] for f in FIELDS))
