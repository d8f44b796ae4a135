"""Populations from instantiated arrays, through any ``pyNN.<simulator>`` module."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
from pyNN.parameters import Sequence

from ...models.network import CurrentData, PopulationData


def create_population(sim: ModuleType, pop: PopulationData, population_class: type[Any] | None = None) -> Any:
    """A PyNN Population (``sim.Population``, or ``population_class``); every spike source becomes a
    SpikeSourceArray holding the drawn trains."""
    if pop.is_source:
        assert pop.spike_times is not None
        celltype = sim.SpikeSourceArray(spike_times=[Sequence(np.asarray(t)) for t in pop.spike_times])
    else:
        celltype = getattr(sim, pop.cell_type)(**{k: _value(v) for k, v in pop.parameters.items()})
    population = (population_class or sim.Population)(pop.size, celltype, label=pop.name)
    if pop.initial:
        population.initialize(**{k: _value(v) for k, v in pop.initial.items()})
    return population


def _value(v: float | np.ndarray) -> float | np.ndarray:
    return float(v) if np.ndim(v) == 0 else np.asarray(v, dtype=np.float64)


def recorded_view(population: Any, pop: PopulationData) -> Any:
    """The cells to record from: all, the first N, or explicit indices."""
    assert pop.record is not None
    cells = pop.record.cells
    if cells == "all":
        return population
    if isinstance(cells, int):
        return population[:cells]
    return population[np.asarray(sorted(cells), dtype=int)]


def setup_recording(population: Any, pop: PopulationData, dt: float) -> None:
    """Record the population's recorded variables every sampling interval (default ``dt``, ms)."""
    if pop.record is None:
        return
    interval = pop.record.sampling_interval
    recorded_view(population, pop).record(list(pop.record.variables), sampling_interval=interval or dt)


def inject_current(sim: ModuleType, population: Any, current: CurrentData) -> None:
    """A step current source (times in ms, amplitudes in nA) injected into the current's cells."""
    source = sim.StepCurrentSource(times=np.asarray(current.times), amplitudes=np.asarray(current.amplitudes))
    population[np.asarray(current.cells, dtype=int)].inject(source)
