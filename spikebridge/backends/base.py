"""The one small interface every simulator backend implements.

Code in ``models/`` and ``analysis/`` never imports a simulator and never asks which backend ran: it talks
to this protocol, or reads the run directory a backend's results were written to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import neo
import numpy as np

from ..models.network import Network
from ..models.schema import Phase

Progress = Callable[[float], None]
"""Called with the simulated time (ms) advanced since the last call."""


def positive_int_option(backend: str, options: Mapping[str, Any], name: str, default: int) -> int:
    """A backend option that must be an integer >= 1 (``threads``), or ``BackendError`` naming it (bad input)."""
    from ..errors import BackendError

    value = options.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().lstrip("+-").isdigit():
        raise BackendError(f"{backend} option {name!r} must be an integer >= 1, got {value!r}")
    if int(value) < 1:
        raise BackendError(f"{backend} option {name!r} must be >= 1, got {int(value)}")
    return int(value)


@dataclass(frozen=True)
class Connections:
    """A projection's current state: pre/post indices, weight (uS or nA, PyNN's sign), delay (ms)."""

    pre: np.ndarray
    post: np.ndarray
    weight: np.ndarray
    delay: np.ndarray

    def sorted(self) -> Connections:
        order = np.lexsort((self.post, self.pre))
        return Connections(self.pre[order], self.post[order], self.weight[order], self.delay[order])


@runtime_checkable
class Backend(Protocol):
    """Build an instantiated network, run its phases, read spikes, signals and weights."""

    name: str

    def build(self, network: Network) -> None:
        """Create cells, load every connection and input from the network's arrays, set up recording."""

    def run(self, phase: Phase, progress: Progress | None = None) -> None:
        """Advance the simulation by one phase; plasticity is frozen when ``phase.plasticity`` is False."""

    def recordings(self) -> neo.Block:
        """One Neo segment per phase run so far, named after it; spike trains and signals annotated with
        ``population`` and ``source_index``."""

    def connections(self, projection: str) -> Connections:
        """The current weights and delays of one projection, in PyNN units."""

    def weight_snapshots(self) -> dict[float, dict[str, Connections]]:
        """Weights of ``network.weight_projections`` at each of ``network.snapshot_times()`` (ms) run so far."""

    def info(self) -> dict[str, Any]:
        """Versions of the simulator packages, options, integration methods: goes into the run's metadata."""

    def end(self) -> None:
        """Release the simulator (it may not be reused afterwards)."""


BackendFactory = Callable[[str | None, Mapping[str, Any]], Backend]
"""``factory(variant, options)``: variant is the part after ':' in a backend name (e.g. 'cpp' in 'brian2:cpp')."""
