"""Bulk loading of connections into NEST: one ``nest.Connect`` with arrays per projection.

Stock PyNN connects one post-synaptic cell at a time. Here a PyNN ``Projection`` is created with a
connector that loads the instantiated arrays in one call, so ``Projection.get('weight', ...)`` and the rest
of PyNN's projection API keep working on the result.
"""

from __future__ import annotations

from typing import Any

import nest
import numpy as np
from pyNN.connectors import Connector

from ...errors import BackendError
from ...models import delays
from ...models.network import ProjectionData
from ..base import Connections


def weight_factor(projection: Any) -> float:
    """NEST weight per PyNN weight: pA/nA or nS/uS (1000), the receptor scale, and NEST's negative inhibitory
    conductances."""
    factor = 1000.0
    if projection.receptor_type == "inhibitory" and projection.post.conductance_based:
        factor = -factor
    scale = getattr(projection.post.celltype, "receptor_scale", None)
    return factor * (scale if scale is not None else 1.0)


class ArrayConnector(Connector):
    """Connects exactly the instantiated (pre, post, weight, delay) arrays of one projection.

    Delays are loaded as they are (on the dt grid, >= dt = NEST's min_delay); anything else is refused, never clamped.
    """

    def __init__(self, data: ProjectionData) -> None:
        super().__init__(safe=False)
        self.data = data

    def connect(self, projection: Any) -> None:
        """Load the arrays into NEST with one ``nest.Connect`` and tell PyNN's projection about them."""
        data = self.data
        if len(data) == 0:
            return
        dt = float(projection._simulator.state.dt)
        try:
            # the delay policy (spikebridge.models.delays): delays arrive on the grid and >= dt, and go in unchanged
            delays.grid_steps(data.delay, dt)
        except ValueError as err:
            raise BackendError(f"projections.{data.name}.delay: {err}") from None
        pre_cells = np.asarray(projection.pre.all_cells, dtype=np.int64)
        pre_ids = pre_cells[data.pre_idx]
        post_ids = np.asarray(projection.post.all_cells, dtype=np.int64)[data.post_idx]
        syn_spec: dict[str, Any] = {
            "synapse_model": projection.nest_synapse_model,
            "synapse_label": projection.nest_synapse_label,
            "weight": data.weight * weight_factor(projection),
            "delay": data.delay,
        }
        if not projection.post.celltype.standard_receptor_type:
            syn_spec["receptor_type"] = projection.post.celltype.get_receptor_type(projection.receptor_type)
        if "stdp" in projection.nest_synapse_model and weight_factor(projection) < 0:
            # NEST wants Wmax to share the (negative) sign of inhibitory conductance weights.
            wmax = nest.GetDefaults(projection.nest_synapse_model, "Wmax")
            syn_spec["Wmax"] = np.full(len(data), -abs(wmax))
        nest.Connect(pre_ids, post_ids, "one_to_one", syn_spec)
        # which pre cells connect, without sorting millions of ids (np.unique): a count per cell, O(n)
        used = np.flatnonzero(np.bincount(data.pre_idx, minlength=len(pre_cells)))
        projection._sources.update(pre_cells[used].tolist())
        projection._connections = None
        projection._simulator.state.stale_connection_cache = True


def nest_connections(projection: Any) -> Any:
    """NEST's synapse collection of one PyNN projection."""
    return nest.GetConnections(synapse_model=projection.nest_synapse_model, synapse_label=projection.nest_synapse_label)


def read(projection: Any) -> Connections:
    """The projection's current weights and delays, in PyNN units, sorted by (pre, post)."""
    conns = nest_connections(projection)
    if len(conns) == 0:
        empty = np.empty(0)
        return Connections(empty.astype(np.int64), empty.astype(np.int64), empty, empty)
    # NEST answers with scalars, not lists, for a single connection
    status = {k: np.atleast_1d(v) for k, v in conns.get(["source", "target", "weight", "delay"]).items()}
    pre_ids = np.asarray(projection.pre.all_cells, dtype=np.int64)
    post_ids = np.asarray(projection.post.all_cells, dtype=np.int64)
    pre = np.searchsorted(pre_ids, np.asarray(status["source"], dtype=np.int64))
    post = np.searchsorted(post_ids, np.asarray(status["target"], dtype=np.int64))
    weight = np.asarray(status["weight"], dtype=np.float64) / weight_factor(projection)
    return Connections(pre, post, weight, np.asarray(status["delay"], dtype=np.float64)).sorted()


def freeze(projection: Any) -> np.ndarray | None:
    """Switch an STDP projection's learning off (lambda = 0); returns the values to restore."""
    if "_nestml" in projection.nest_synapse_model:  # pyNN.nest connects through a labelled copy, "<model>_lbl"
        raise BackendError(
            f"projections.{projection.label}: a NESTML synapse cannot be frozen on NEST in a run that also learns "
            "(a phase with plasticity = false after one with plasticity = true); a run whose phases all have "
            "plasticity = false runs it as a static synapse"
        )
    if "stdp" not in projection.nest_synapse_model:
        return None
    conns = nest_connections(projection)
    saved = np.asarray(conns.get("lambda"), dtype=np.float64)
    conns.set({"lambda": 0.0})
    return saved


def thaw(projection: Any, saved: np.ndarray | None) -> None:
    """Restore the learning rates :func:`freeze` saved."""
    if saved is not None:
        nest_connections(projection).set({"lambda": saved.tolist()})
