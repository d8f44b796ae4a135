"""Bulk loading of connections into NEST: one ``nest.Connect`` with arrays per projection.

Stock PyNN connects one post-synaptic cell at a time. Here a PyNN ``Projection`` is created with a
connector that loads the instantiated arrays in one call, so ``Projection.get('weight', ...)`` and the rest
of PyNN's projection API keep working on the result.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

import nest
import numpy as np
from nest import nestkernel_api
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
        unlabel(projection)
        syn_spec: dict[str, Any] = {
            "synapse_model": projection.nest_synapse_model,
            "weight": data.weight * weight_factor(projection),
            "delay": data.delay,
        }
        if not projection.post.celltype.standard_receptor_type:
            syn_spec["receptor_type"] = projection.post.celltype.get_receptor_type(projection.receptor_type)
        if "stdp" in projection.nest_synapse_model and weight_factor(projection) < 0:
            # NEST wants Wmax to share the (negative) sign of inhibitory conductance weights.
            wmax = nest.GetDefaults(projection.nest_synapse_model, "Wmax")
            syn_spec["Wmax"] = np.full(len(data), -abs(wmax))
        if projection.nest_synapse_label is not None:
            syn_spec["synapse_label"] = projection.nest_synapse_label
        nest.Connect(pre_ids, post_ids, "one_to_one", syn_spec)
        # which pre cells connect, without sorting millions of ids (np.unique): a count per cell, O(n)
        used = np.flatnonzero(np.bincount(data.pre_idx, minlength=len(pre_cells)))
        projection._sources.update(pre_cells[used].tolist())
        projection._connections = None
        projection._simulator.state.stale_connection_cache = True


# NEST numbers synapse models in a few bits of every connection (at most 512 in NEST 3); past this many, projections
# share labelled models as pyNN.nest connects them
MAX_COPIES = 400
# keys of a synapse model's defaults that describe it rather than set it
MODEL_KEYS = {"synapse_model", "synapse_modelid", "num_connections", "sizeof", "element_type", "has_delay", "requires_symmetric"}


def unlabel(projection: Any) -> None:
    """Give the projection a copy of its NEST synapse model of its own, without a synapse label.

    pyNN.nest connects every projection through a labelled model (``static_synapse_lbl``, ``stdp_synapse_lbl``) and
    tells projections apart by a label on every synapse. A labelled synapse is larger, and NEST connects it much more
    slowly: 16M static synapses took 4.9 s labelled and 1.8 s through an unlabelled copy (2 threads, measured here).
    A model per projection tells them apart as well. The copy takes the defaults pyNN set on the labelled model.
    NESTML synapses are left as they are: onto NESTML neurons each projection already has a model of its own
    (:mod:`spikebridge.backends.nest.nestml_cells`); onto PyNN cell types they share ``<model>_lbl`` and its labels
    (:mod:`spikebridge.backends.nest.paired`).
    """
    labelled = projection.nest_synapse_model
    base = labelled.removesuffix("_lbl")
    if base == labelled or "_nestml" in base or base not in nest.synapse_models:
        return
    name = f"{base}__prj{projection.nest_synapse_label}"
    if name not in nest.synapse_models:
        if len(nest.synapse_models) >= MAX_COPIES:
            return
        ours, theirs = nest.GetDefaults(labelled), nest.GetDefaults(base)
        changed = {k: v for k, v in ours.items() if k not in MODEL_KEYS and k in theirs and not _same(v, theirs[k])}
        try:
            nest.CopyModel(base, name, changed)
        except nest.NESTError:  # a default NEST will not take in a copy: keep pyNN.nest's labelled model
            return
    projection.nest_synapse_model = name
    projection.nest_synapse_label = None


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(np.all(np.asarray(a) == np.asarray(b)))
    except (TypeError, ValueError):
        return a is b


def nest_connections(projection: Any) -> Any:
    """NEST's synapse collection of one PyNN projection."""
    return nest.GetConnections(synapse_model=projection.nest_synapse_model, synapse_label=projection.nest_synapse_label)


def read(projection: Any) -> Connections:
    """The projection's current weights and delays, in PyNN units, sorted by (pre, post)."""
    return read_collection(nest_connections(projection), projection.pre, projection.post, weight_factor(projection))


def read_collection(conns: Any, pre: Any, post: Any, factor: float = 1.0) -> Connections:
    """A synapse collection's weights (NEST's over ``factor``) and delays, as indices into the ``pre`` and ``post``
    populations' cells, sorted by (pre, post)."""
    if len(conns) == 0:
        empty = np.empty(0)
        return Connections(empty.astype(np.int64), empty.astype(np.int64), empty, empty)
    status = statuses(conns)
    pre_idx = np.searchsorted(np.asarray(pre.all_cells, dtype=np.int64), column(status, "source", np.int64))
    post_idx = np.searchsorted(np.asarray(post.all_cells, dtype=np.int64), column(status, "target", np.int64))
    weight = column(status, "weight", np.float64) / factor
    return Connections(pre_idx, post_idx, weight, column(status, "delay", np.float64)).sorted()


def statuses(conns: Any) -> list[dict[str, Any]]:
    """Every synapse's status dictionary, in the collection's order.

    ``SynapseCollection.get(keys)`` asks NEST for the same dictionaries and then regroups them in Python lists (a list
    per synapse, then a list per key): 0.12 s of 1.0 s for four keys of 100k synapses. Taking the dictionaries
    and pulling each column into numpy directly skips that regrouping.
    """
    return nestkernel_api.llapi_get_connection_status(conns._datum)


def set_weights(conns: Any, weight: np.ndarray) -> None:
    """Set every synapse's weight (NEST's units, the collection's order).

    ``SynapseCollection.set`` asks for the kernel's status twice first (``GetKernelStatus``, ``NumProcesses``), which
    grows with the run: 0.5 s a call in the rule study's networks late in a run, for 640 synapses.
    """
    nestkernel_api.llapi_set_connection_status(conns._datum, [{"weight": float(w)} for w in weight])


def column(status: list[dict[str, Any]], key: str, dtype: type) -> np.ndarray:
    """One key of every synapse's status as a numpy array."""
    return np.fromiter(map(itemgetter(key), status), dtype=dtype, count=len(status))


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
