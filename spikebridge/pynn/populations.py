"""``pyNN.brian2``'s Population, PopulationView and Assembly, recorded through named monitors, and aware of a
standalone device: reading values builds and runs its binary first, changing them afterwards is refused."""

from __future__ import annotations

from typing import Any

import brian2
import numpy as np
import pyNN.brian2 as stock
from pyNN.parameters import ParameterSpace
from pyNN.standardmodels import StandardCellType

from . import device, same_network
from .recording import Recorder


class ID(stock.simulator.ID):
    """A cell's ID whose unknown dunder attributes fail at once.

    PyNN's ``IDMixin.__getattr__`` answers every missing attribute by reading all of the cell's parameters; numpy
    probes object arrays of IDs for ``__array_interface__`` and the like (``id_to_index``, in every connector), so
    stock PyNN reads the population's parameters from Brian2 for nothing, and a standalone device would be asked
    for values before it has simulated.
    """

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return super().__getattr__(name)


def _full(value: Any, size: int) -> Any:
    """A per-cell array of ``value`` (a Brian2 quantity keeps its unit), copied so it can be set in place."""
    array = np.asarray(value)
    if array.ndim == 0:
        array = np.full(size, array.item(), dtype=array.dtype)
    dim = getattr(value, "dim", None)
    return brian2.Quantity(array, dim=dim, copy=True) if dim is not None else array.copy()


class _DeviceAware:
    """Reads and writes of parameters and initial values through the active device.

    Before a standalone device has run anything, parameters are read from what was given (the values the
    population was created with and every ``set()`` since), as Brian2 cannot read a standalone group yet.
    """

    size: int
    _given: dict[str, Any]
    brian2_group: Any

    def _get_native_parameters(self, *names: str) -> Any:
        active = device.active()
        root = getattr(self, "grandparent", self)
        if active.standalone and not active.built and not active.has_run and all(n in root._given for n in names):
            mask = getattr(self, "mask", slice(None))
            return ParameterSpace({n: root._given[n][mask] for n in names}, shape=(self.size,))
        active.before_read()
        return super()._get_native_parameters(*names)  # type: ignore[misc]

    def _set_parameters(self, parameter_space: Any) -> None:
        active = device.active()
        active.before_change("set parameters")
        root = getattr(self, "grandparent", self)
        mask = getattr(self, "mask", slice(None))
        parameter_space.evaluate(simplify=False)
        values = dict(parameter_space.items())
        times = "spike_time_sequences"
        if times in values and hasattr(self, "parent") and active.standalone:
            # stock PyNN merges a view's spike times with those read back from Brian2, which a standalone group cannot;
            # the times given are the ones it has (a simulation does not change them)
            root._given[times][mask] = values.pop(times)
            root.brian2_group._set_spike_time_sequences(root._given[times])
        # stock PyNN evaluates the space itself: hand it a new one of the evaluated values
        super()._set_parameters(ParameterSpace(values, shape=parameter_space.shape))  # type: ignore[misc]
        for name, value in values.items():
            if name in root._given:
                root._given[name][mask] = value

    def _set_initial_value_array(self, variable: str, value: Any) -> None:
        device.active().before_change("initialize state variables")
        super()._set_initial_value_array(variable, value)  # type: ignore[misc]


class Assembly(stock.Assembly):
    """``pyNN.brian2``'s Assembly: a group of populations and views, handled as one."""


class PopulationView(same_network.DrawnPoisson, _DeviceAware, stock.PopulationView):
    """``pyNN.brian2``'s PopulationView (a selection of a population's cells), read and written through the device."""

    _assembly_class = Assembly

    def _get_view(self, selector: Any, label: str | None = None) -> PopulationView:
        return PopulationView(self, selector, label)


class Population(same_network.DrawnPoissonPopulation, _DeviceAware, stock.Population):
    __doc__ = stock.Population.__doc__
    _recorder_class = Recorder
    _assembly_class = Assembly
    _array_type = stock.SpikeSourceArray

    def _load_drawn(self) -> None:
        """The spikes drawn for this Poisson source (same_network) from the current time step on."""
        device.active().before_change("draw Poisson spikes")
        after = stock.simulator.state.t - stock.simulator.state.dt / 2  # the past ones only warn: not given
        times = same_network.spike_sequences(self, after=after, scale=1e-3)  # Brian2's SpikeGeneratorGroup holds s
        self.brian2_group._set_spike_time_sequences(times)
        self._given["spike_time_sequences"] = times

    def _create_cells(self) -> None:
        super()._create_cells()
        given = self.celltype.native_parameters if isinstance(self.celltype, StandardCellType) else self.celltype.parameter_space
        given.shape = (self.size,)
        given.evaluate(simplify=False)
        given.flatten(with_prefix=False)
        self._given = {name: _full(value, self.size) for name, value in given.items()}
        """Native parameter values as given, per cell (what a standalone device reports before it has run)."""
        stock_cells: Any = getattr(self, "all_cells")  # noqa: B009 (untyped in PyNN)
        self.all_cells = np.array([ID(int(i)) for i in stock_cells], dtype=ID)
        for cell in self.all_cells:
            cell.parent = self

    def _get_view(self, selector: Any, label: str | None = None) -> PopulationView:
        return PopulationView(self, selector, label)
