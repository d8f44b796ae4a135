"""A drop-in for ``pyNN.nest`` (``import spikebridge.pynn.nest as sim``).

Unchanged PyNN scripts run as on stock ``pyNN.nest``; cell IDs no longer ask NEST about every cell: in one NEST
process (the PyPI wheel has no MPI) every node is local, and numpy's probes of ID arrays (``__array_interface__``
and the like, in every connector's ``id_to_index``) fail at once instead of reading the cell's parameters. A
population's node IDs are read in one call where stock reads each node's status (:func:`node_ids`).
"""

from __future__ import annotations

import functools
from typing import Any

import nest as _nest
import numpy as np
import pandas as pd
import pyNN.nest as _stock
from pyNN import common
from pyNN.nest import *  # noqa: F403
from pyNN.nest import Population as _StockPopulation
from pyNN.nest import PopulationView as _StockPopulationView
from pyNN.nest import Projection as _StockProjection
from pyNN.nest import StaticSynapse, simulator

from ..rundir.weights import table_from_arrays
from . import same_network
from .connectors import mended

_RECORDING: list[Projection] = []
"""Projections recording their weights (spikebridge's ``record_weights`` extension), since the last ``setup()``."""


@functools.cache
def _single_process() -> bool:
    """Whether NEST runs in one process (the PyPI wheel has no MPI): asked once, it cannot change."""
    return bool(_nest.NumProcesses() == 1)


def node_ids(nodes: Any) -> list[int]:
    """A NodeCollection's node IDs, as NEST's ``tolist()`` gives them, read in one call.

    NEST's ``tolist()`` reads the ``global_id`` status of every node. Stock ``pyNN.nest`` asks for the node IDs of
    the pre-synaptic cells of every post-synaptic cell it connects: 3.2 s of VAbenchmarks' 5.4 s build here. NEST's
    ``_to_array`` returns the same IDs without reading any status; importing this module makes it ``tolist()``
    for every NodeCollection (NEST's type checks refuse subclasses).
    """
    if not _single_process():  # each process holds only its own nodes' statuses: NEST's own answer
        return list(_nest_tolist(nodes))
    if len(nodes) == 0:
        return []
    return [int(i) for i in nodes._to_array()["All"]]


_nest_tolist = _nest.NodeCollection.tolist
_nest.NodeCollection.tolist = node_ids


class ID(simulator.ID):
    """``pyNN.nest``'s cell ID, local without asking NEST in a single process, with no parameter read on dunder probes."""

    @property
    def local(self) -> bool:
        """Whether the cell lives in this process: always, in a single NEST process."""
        return True if _single_process() else bool(self.node_collection.local)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return super().__getattr__(name)


class IF_cond_exp_gsfa_grr(_stock.IF_cond_exp_gsfa_grr):  # noqa: N801 (PyNN's name)
    __doc__ = _stock.IF_cond_exp_gsfa_grr.__doc__
    # the standard type names its state g_r and g_s; pyNN.nest maps only NEST's own names (KeyError: 'g_r')
    variable_map = {**_stock.IF_cond_exp_gsfa_grr.variable_map, "g_r": "g_rr", "g_s": "g_sfa"}
    scale_factors = {**_stock.IF_cond_exp_gsfa_grr.scale_factors, "g_r": 0.001, "g_s": 0.001}


class PopulationView(same_network.DrawnPoisson, _StockPopulationView):
    __doc__ = _StockPopulationView.__doc__

    def _get_view(self, selector: Any, label: str | None = None) -> PopulationView:
        return PopulationView(self, selector, label)


class Population(same_network.DrawnPoissonPopulation, _StockPopulation):
    __doc__ = _StockPopulation.__doc__
    _array_type = _stock.SpikeSourceArray

    def _load_drawn(self) -> None:
        """The spikes drawn for this Poisson source that NEST has not emitted yet (same_network)."""
        self.set(spike_times=same_network.spike_sequences(self, after=simulator.state.t))

    def _create_cells(self) -> None:
        super()._create_cells()
        stock_cells: Any = getattr(self, "all_cells")  # noqa: B009 (untyped in PyNN)
        cells = []
        for old in stock_cells:
            cell = ID(int(old))
            cell.__dict__.update(old.__dict__)
            cells.append(cell)
        self.all_cells = np.array(cells, dtype=ID)

    def _get_view(self, selector: Any, label: str | None = None) -> PopulationView:
        return PopulationView(self, selector, label)


_connectors = mended(_stock)
globals().update(_connectors)  # the connectors, under their PyNN names


class Projection(_StockProjection):
    __doc__ = _StockProjection.__doc__

    def record_weights(self, interval: float) -> None:
        """spikebridge's extension: record every synapse's weight each ``interval`` ms from now on (``run()`` is cut
        at those times); read them with :meth:`weight_table`."""
        self._weight_interval = float(interval)
        self._weight_snapshots: dict[float, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
        if self not in _RECORDING:
            _RECORDING.append(self)

    def _snapshot(self, t: float) -> None:
        rows = np.array(self.get(["weight", "delay"], format="list"), dtype=float).reshape(-1, 4)
        rows = rows[np.lexsort((rows[:, 1], rows[:, 0]))]  # by (pre, post), as on Brian2
        self._weight_snapshots[round(t, 10)] = (rows[:, 0].astype(int), rows[:, 1].astype(int), rows[:, 2], rows[:, 3])

    def weight_table(self) -> pd.DataFrame:
        """The recorded weights as a run directory's weight table (:mod:`spikebridge.rundir.weights`), rows by
        (pre, post). NEST applies a pair rule's facilitation at the next pre spike: a snapshot between spikes lacks
        what is pending (Brian2's weight has it)."""
        if not getattr(self, "_weight_snapshots", None):
            raise RuntimeError("no weights recorded: call Projection.record_weights(interval) before run()")
        label = str(self.label or "projection")
        return table_from_arrays({t: {label: arrays} for t, arrays in sorted(self._weight_snapshots.items())})


def _snapshots(end: float) -> Any:
    """A PyNN run callback taking each recording projection's snapshots due before ``end``."""

    def callback(t: float) -> float:
        due = []
        for prj in _RECORDING:
            k = np.ceil(t / prj._weight_interval - 1e-9)
            if abs(t - k * prj._weight_interval) < 1e-9 and t < end - 1e-9 and round(t, 10) not in prj._weight_snapshots:
                prj._snapshot(t)
            due.append((k + (abs(t - k * prj._weight_interval) < 1e-9)) * prj._weight_interval)
        return min(due)

    return callback


def run_until(time_point: float, callbacks: Any = None) -> float:
    """Advance the simulation until ``time_point`` ms, taking weight snapshots on the way."""
    if _RECORDING:
        callbacks = [*(callbacks or []), _snapshots(time_point)]
    same_network.before_run(time_point, simulator.state.dt, simulator.state.min_delay)
    return _stock.run_until(time_point, callbacks)


def run(simtime: float, callbacks: Any = None) -> float:
    """Advance the simulation by ``simtime`` ms, taking weight snapshots on the way."""
    return run_until(simulator.state.t + simtime, callbacks)


run_for = run


def setup(
    timestep: float = _stock.control.DEFAULT_TIMESTEP, min_delay: float = _stock.control.DEFAULT_MIN_DELAY, **extra_params: Any
) -> int:
    """Should be called at the very beginning of a script."""
    _RECORDING.clear()
    return _stock.setup(timestep, min_delay, **same_network.start(extra_params))


def reset(annotations: dict[str, Any] | None = None) -> None:
    """Back to t = 0 with the same network and a new segment (refused with ``same_network=True``)."""
    same_network.refuse_reset("spikebridge.pynn.nest")
    _stock.reset(annotations)


create = common.build_create(Population)
connect = common.build_connect(Projection, _connectors["FixedProbabilityConnector"], StaticSynapse)
