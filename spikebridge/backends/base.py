"""The one small interface every simulator backend implements.

Code in ``models/`` and ``analysis/`` never imports a simulator and never asks which backend ran: it talks
to this protocol, or reads the run directory a backend's results were written to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

import neo
import numpy as np
from pydantic import BaseModel

from ..models.network import Network
from ..models.schema import Phase


class Progress(Protocol):
    """Called with the simulated time (ms) advanced since the last call (``tqdm.update`` fits)."""

    def __call__(self, advanced: float, /) -> object:
        """Take ``advanced`` ms of simulated time into account."""


@dataclass(frozen=True)
class Connections:
    """A projection's current state: pre/post indices, weight (uS or nA, PyNN's sign), delay (ms)."""

    pre: np.ndarray
    post: np.ndarray
    weight: np.ndarray
    delay: np.ndarray

    def sorted(self) -> Connections:
        """The same synapses ordered by (pre, post); itself when already so (drawn connectivity is: a check is a few
        passes over the arrays, a sort of the microcircuit's 150M synapses takes tens of seconds)."""
        pre, post = self.pre, self.post
        if len(pre) < 2 or bool(np.all((pre[1:] > pre[:-1]) | ((pre[1:] == pre[:-1]) & (post[1:] >= post[:-1])))):
            return self
        order = np.lexsort((self.post, self.pre))
        return Connections(self.pre[order], self.post[order], self.weight[order], self.delay[order])


@runtime_checkable
class Backend(Protocol):
    """Build an instantiated network, run its phases, read spikes, signals and weights."""

    label: str
    """The full backend name, variant included (``brian2:cpp``)."""

    def build(self, network: Network) -> None:
        """Create cells, load every connection and input from the network's arrays, set up recording."""

    def run(self, phase: Phase, progress: Progress | None = None) -> None:
        """Advance the simulation by one phase; plasticity is frozen when ``phase.plasticity`` is False."""

    def complete(self) -> None:
        """Finish simulating the phases run so far: a standalone device generates, compiles and runs its binary
        here; an in-process simulator has nothing left to do. Reading results calls it too."""

    def recordings(self) -> neo.Block:
        """One Neo segment per phase run so far, named after it; spike trains and signals annotated with
        ``population`` and ``source_index``.

        A phase from t_start to t_stop (ms) holds the spikes of its own steps and the samples at t_start,
        t_start + interval, ..., t_stop - interval: a signal's ``t_stop`` is the phase's end, and the phases'
        signals put end to end are those of one run as long as all of them."""

    def connections(self, projection: str) -> Connections:
        """The current weights and delays of one projection, in PyNN units."""

    def weight_snapshots(self) -> dict[float, dict[str, Connections]]:
        """Weights of ``network.weight_projections`` at each of ``network.snapshot_times()`` (ms) run so far."""

    def info(self) -> dict[str, Any]:
        """Versions of the simulator packages, options, integration methods: goes into the run's metadata."""

    def end(self) -> None:
        """Release the simulator (it may not be reused afterwards)."""


@runtime_checkable
class BackendClass(Protocol):
    """What an entry point of the ``spikebridge.backends`` group gives: a class that describes itself.

    The registry (:mod:`spikebridge.backends`) asks it for its variants and options and never parses a name
    beyond splitting ``base:variant``; callers ask the registry (``check``, ``accepts``, ``packages``).
    """

    name: ClassVar[str]
    """The name before ':' (``nest``, ``brian2``)."""
    variants: ClassVar[tuple[str | None, ...]]
    """Accepted variants, the part after ':'; ``None`` is the plain name."""
    exercised: ClassVar[tuple[str | None, ...]]
    """The variants that cross-backend checks (``spikebridge rules``) run by default."""
    Options: ClassVar[type[BaseModel]]
    """The options model (pydantic, ``extra="forbid"``); a field whose ``json_schema_extra`` holds
    ``{"variants": [...]}`` is used by those variants only (others accept and ignore it)."""

    @classmethod
    def packages(cls, variant: str | None) -> tuple[str, ...]:
        """The distributions (as ``importlib.metadata`` names them) this variant simulates with."""

    @classmethod
    def prepare(cls, variant: str | None) -> None:
        """Refuse (``BackendError``) a variant that cannot run here, e.g. for want of an optional package."""

    @classmethod
    def create(cls, variant: str | None, options: BaseModel) -> Backend:
        """A fresh instance for ``variant`` with validated ``options``."""

