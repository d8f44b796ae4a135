"""PyNN populations backed by Brian2 groups and monitors.

The groups come from :mod:`~spikebridge.backends.brian2.cells`, the monitors from :mod:`~spikebridge.backends.brian2.recording`.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
import pyNN.brian2 as pynn_brian2

from ...models.network import PopulationData
from . import cells
from .recording import Recorder


class Population(pynn_brian2.Population):
    """``pyNN.brian2``'s population recorded through :class:`~spikebridge.backends.brian2.recording.Recorder`."""

    _recorder_class = Recorder


def create_population(
    sim: ModuleType,
    pop: PopulationData,
    group_name: str,
    method: str | tuple[str, ...],
    injected: bool = True,
    pad_after: tuple[float, float] | None = None,
) -> Any:
    """A PyNN population of ``pop``'s cell type, every parameter and initial value as drawn (``injected``: a current
    source drives it; ``pad_after``: see :func:`~spikebridge.backends.brian2.cells.celltype`)."""
    population = Population(pop.size, cells.celltype(sim, pop, group_name, method, injected, pad_after), label=pop.name)
    if pop.initial:
        population.initialize(**{k: float(v) if np.ndim(v) == 0 else np.asarray(v, dtype=np.float64) for k, v in pop.initial.items()})
    return population
