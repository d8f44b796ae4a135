"""PyNN populations backed by Brian2 groups and monitors.

The groups come from :mod:`~spikebridge.backends.brian2.cells`, the monitors from :mod:`~spikebridge.backends.brian2.recording`.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import brian2
import numpy as np
import pyNN.brian2 as pynn_brian2
import pyNN.brian2.populations as pynn_populations

from ...errors import BackendError
from ...models.network import PopulationData
from . import cells
from .recording import Recorder


class Population(pynn_brian2.Population):
    """``pyNN.brian2``'s population recorded through :class:`~spikebridge.backends.brian2.recording.Recorder`, on a
    group of its own or on a subgroup of a shared one (:class:`~spikebridge.backends.brian2.cells.SharedGroup`)."""

    _recorder_class = Recorder

    def _set_parameters(self, parameter_space: Any) -> None:
        group = self.brian2_group
        if isinstance(group, brian2.Subgroup):  # its parameters are the shared group's, for every member
            raise BackendError(f"populations.{self.label}: its parameters are shared with other populations' cells and cannot be set alone")
        parameter_space.evaluate(simplify=False)
        zero: frozenset[str] = getattr(group, "zero_currents", frozenset())
        for name, value in parameter_space.items():
            values = np.asarray(value)
            if name in zero:  # taken out of the equations (cells.CellGroup): a value other than 0 would change nothing
                if values.any():
                    raise BackendError(
                        f"populations.{self.label}: {name} was 0 for every cell when the group was built and cannot be set later"
                    )
                continue
            variable = group.variables.get(name)
            if variable is not None and variable.scalar and values.size:  # one value for every cell: it stays one
                if (values != values.flat[0]).any():
                    raise BackendError(
                        f"populations.{self.label}: {name} was the same for every cell when the group was built; "
                        "it takes one value for all of them"
                    )
                value = value[0]
            setattr(group, name, value)

    def _set_initial_value_array(self, variable: str, value: Any) -> None:
        if not isinstance(self.brian2_group, brian2.Subgroup):
            super()._set_initial_value_array(variable, value)
            return
        # pyNN.brian2 keeps initial values on the group and sets them all again; a subgroup takes them directly
        translation = self.celltype.state_variable_translations[variable]
        forward = translation["forward_transform"]
        native = forward(**{variable: value}) if callable(forward) else eval(forward, vars(pynn_populations), {variable: value})
        setattr(self.brian2_group, translation["translated_name"], native.evaluate(simplify=False))


def create_population(
    sim: ModuleType,
    pop: PopulationData,
    group_name: str,
    method: str | tuple[str, ...],
    injected: bool = True,
    pad_after: tuple[float, float] | None = None,
    shared: tuple[cells.SharedGroup, int] | None = None,
) -> Any:
    """A PyNN population of ``pop``'s cell type, every parameter and initial value as drawn (``injected``: a current
    source drives it; ``pad_after`` and ``shared``: see :func:`~spikebridge.backends.brian2.cells.celltype`)."""
    celltype = cells.celltype(sim, pop, group_name, method, injected, pad_after, shared)
    population = Population(pop.size, celltype, label=pop.name)
    if pop.initial:
        population.initialize(**{k: float(v) if np.ndim(v) == 0 else np.asarray(v, dtype=np.float64) for k, v in pop.initial.items()})
    return population
