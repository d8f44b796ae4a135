"""The run directory's ``connections.npz``: each projection's weights (uS or nA) and delays (ms) at the end of a run.

One ``.npz`` archive with four arrays per projection, ``NAME__pre``, ``NAME__post`` (cell indices within the pre
and post population), ``NAME__weight`` and ``NAME__delay``, of one length: the projection's synapses. A projection
that ended as it was drawn (a static one: same synapses in the same order, weights and delays equal to 1e-12
relative) is stored as one flag, ``NAME__drawn``, and read from the run's ``network.npz`` instead: a large static
network is then written once, not twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..backends.base import Connections
from ..errors import RunDirectoryError
from .layout import NETWORK

FIELDS = ("pre", "post", "weight", "delay")
DRAWN = {"pre": "pre_idx", "post": "post_idx", "weight": "weight", "delay": "delay"}
"""Each field's array in ``network.npz`` (``prj__NAME__ARRAY``)."""


def compact(array: np.ndarray) -> np.ndarray:
    """An int64 array (cell indices, spike counts) as int32 where its values fit (readers widen it back to int64:
    :func:`widened`): a quarter less to write, hash and sync for a network of 30 million synapses, whose pre and
    post indices are most of its bytes."""
    if array.dtype == np.int64 and array.size and -(2**31) <= int(array.min()) and int(array.max()) < 2**31:
        return array.astype(np.int32)
    return array


def widened(array: np.ndarray) -> np.ndarray:
    """An integer array of network.npz as int64, as :func:`spikebridge.instantiate` drew it."""
    return array.astype(np.int64) if array.dtype.kind == "i" and array.dtype != np.int64 else array


def _as_drawn(name: str, c: Connections, drawn: Mapping[str, np.ndarray]) -> bool:
    found = [drawn.get(f"prj/{name}/{DRAWN[f]}") for f in FIELDS]
    arrays = [a for a in found if a is not None and len(a) == len(c.pre)]
    if len(arrays) != len(FIELDS):
        return False
    pre, post, weight, delay = arrays
    return (
        (c.pre is pre or np.array_equal(pre, c.pre))
        and (c.post is post or np.array_equal(post, c.post))
        and _close(c.weight, weight)
        and _close(c.delay, delay)
    )


def _close(a: np.ndarray, b: np.ndarray, rtol: float = 1e-12) -> bool:
    """``|a - b| <= rtol |b|`` everywhere (NaN is never close): ``numpy.allclose`` with atol 0, in fewer passes over
    arrays of a hundred million synapses."""
    if a is b:
        return True
    diff = np.subtract(a, b)
    np.abs(diff, out=diff)
    tol = np.abs(b)
    tol *= rtol
    return bool((diff <= tol).all())


def write_connections(path: Path, connections: Mapping[str, Connections], drawn: Mapping[str, np.ndarray] | None = None) -> None:
    """Write ``{projection: Connections}`` to ``path`` (an ``.npz`` archive; see the module docstring).

    ``drawn`` are the network's arrays (as in ``network.npz``): a projection equal to them is written as a flag.
    """
    flat: dict[str, Any] = {}
    for name, c in connections.items():
        if drawn is not None and _as_drawn(name, c, drawn):
            flat[f"{name}__drawn"] = np.array(True)
        else:
            flat.update({f"{name}__{field}": getattr(c, field) for field in FIELDS})
    np.savez(path, **flat)


def read_connections(path: Path, projection: str) -> Connections:
    """The final weights (uS or nA) and delays (ms) of ``projection`` from the archive at ``path``.

    Raises
    ------
    RunDirectoryError
        If the archive holds no projection of that name.
    """
    with np.load(path) as data:
        if f"{projection}__drawn" in data.files:
            with np.load(Path(path).parent / NETWORK) as network:
                return Connections(*(widened(network[f"prj__{projection}__{DRAWN[f]}"]) for f in FIELDS))
        if f"{projection}__pre" not in data.files:
            raise RunDirectoryError(f"no projection {projection!r} in {Path(path).parent}")
        return Connections(*(data[f"{projection}__{f}"] for f in FIELDS))
