"""Bulk loading of connections into Brian2: one ``Synapses.connect(i=, j=)`` per projection, weights and delays
assigned as whole arrays.

Stock ``pyNN.brian2`` connects one post-synaptic cell at a time and sets every weight and delay with a Python loop
over synapses (minutes for the 4000-cell Vogels-Abbott network); here each projection becomes one named
``Synapses`` object built from ``pyNN.brian2``'s synapse description (``StaticSynapse.eqs``/``.pre``, the
receptor's post-synaptic variable, PyNN's weight units) or from :mod:`~spikebridge.backends.brian2.stdp`.

Timing matches NEST's: a cell's spike reaches its target's conductance ``d`` after NEST's spike stamp. Brian2
delivers at the end of a step, ``d`` after the *start* of the step in which a cell spiked (NEST's stamp is its
end), which is right; but a source's spike at ``t`` is delivered one step late (``t + d + dt``). Pathways from
spike sources therefore run with ``d - dt``; the delay read back is the model's ``d``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import brian2
import numpy as np
from pyNN.brian2.standardmodels.synapses import StaticSynapse

from ...errors import BackendError
from ...models import delays
from ...models.nestml import read as read_nestml
from ...models.network import PoissonInputData, ProjectionData
from ..base import Connections
from . import nestml, nestml_cells, stdp

UNITS: dict[str, tuple[str, float]] = {
    # PyNN weight unit -> (Brian2 unit in equations, SI per PyNN unit)
    "uS": ("siemens", 1e-6),
    "nA": ("amp", 1e-9),
    "mV": ("volt", 1e-3),
    "1": ("1", 1.0),  # onto a NESTML neuron: a number in NEST's unit of the port
}


SNAPSHOT_WHEN = "after_synapses"
"""When in the step that begins at t a weight snapshot of t is read, and a tie copies weights: after the synapses
have handled the spikes stamped t (the step before's). NEST hands a synapse a spike at the end of the step in
which it was sent, so its weights read between runs at t have seen those spikes; a spike's effect on its target
still comes a delay later on both."""


def _weight_monitor(synapses: brian2.Synapses, variable: str, interval: float, name: str) -> brian2.StateMonitor:
    """A StateMonitor of one synaptic variable every ``interval`` ms (at :data:`SNAPSHOT_WHEN`), named ``NAME_snapshots``."""
    clock = brian2.Clock(interval * brian2.ms, name=f"{name}_snapshot_clock")
    return brian2.StateMonitor(synapses, variable, record=True, when=SNAPSHOT_WHEN, clock=clock, name=f"{name}_snapshots")


def _recorded(
    monitor: brian2.StateMonitor, variable: str, final: Connections, order: np.ndarray, scale: float = 1.0
) -> dict[float, Connections]:
    """A weight monitor's samples by time (ms), over ``scale``, in ``final``'s (pre, post) order (``order`` sorts the
    synapses so), each with ``final``'s connectivity and delays."""
    times = np.round(np.asarray(monitor.t_[:]) * 1e3, 10)
    weights = np.asarray(getattr(monitor, variable)[:]) / scale
    return {float(t): Connections(final.pre, final.post, weights[:, k][order], final.delay) for k, t in enumerate(times)}


def brian2_name(prefix: str, index: int) -> str:
    """A valid, unique, creation-order independent Brian2 object name: the object's kind and its index in the model.

    No label: generated code names its arrays after their groups, and Brian2's Cython cache is keyed by the code's
    text, so a label in the name compiled the same cell type or synapse again in every model that names it otherwise
    (46 % fewer Cython modules on the Brian2 tests without it)."""
    return f"{prefix}{index}"


def weight_unit(post: Any) -> str:
    """PyNN's weight unit for a post-synaptic population (as in ``pyNN.brian2.Projection``)."""
    celltype = post.celltype
    if getattr(celltype, "voltage_based_synapses", False):
        return "mV"
    return "uS" if celltype.conductance_based else "nA"


@dataclass
class Projection:
    """One projection's Brian2 ``Synapses`` and what is needed to read it back in PyNN units."""

    data: ProjectionData
    synapses: brian2.Synapses
    unit: str
    shift_steps: int
    """Steps taken off every delay because the source population is a spike source (see module doc)."""
    rule: stdp.Rule | None
    monitor: brian2.StateMonitor | None
    """Weights every snapshot interval (see :data:`SNAPSHOT_WHEN`)."""

    def record_weights(self, interval: float) -> brian2.StateMonitor:
        """A StateMonitor of the weights every ``interval`` ms, added to the network by the caller."""
        self.monitor = _weight_monitor(self.synapses, "weight", interval, self.synapses.name)
        return self.monitor

    def snapshots(self, dt: float) -> dict[float, Connections]:
        """Recorded weights by time (ms), each with the (constant) connectivity and delays."""
        if self.monitor is None or len(self.data) == 0:
            return {}
        order = np.lexsort((np.asarray(self.synapses.j[:]), np.asarray(self.synapses.i[:])))
        return _recorded(self.monitor, "weight_", self.read(dt), order, UNITS[self.unit][1])

    def as_loaded(self, dt: float) -> Connections:
        """The arrays the projection was loaded from, in :meth:`read`'s units and order (its state while static)."""
        data = self.data
        delay = np.round(delays.grid_steps(data.delay, dt) * dt, 10)
        return Connections(data.pre_idx, data.post_idx, np.asarray(data.weight, dtype=np.float64), delay).sorted()

    def set_plasticity(self, on: bool) -> None:
        """Switch the STDP rule on or off for the next phase (static projections: nothing to do)."""
        if self.rule is not None:
            self.synapses.plasticity = 1.0 if on else 0.0

    def read(self, dt: float) -> Connections:
        """Current (pre, post, weight, delay) in PyNN units, sorted by (pre, post)."""
        syn = self.synapses
        if len(self.data) == 0:
            empty = np.empty(0)
            return Connections(empty.astype(np.int64), empty.astype(np.int64), empty, empty)
        scale = UNITS[self.unit][1]
        pre = np.atleast_1d(np.asarray(syn.i[:], dtype=np.int64))
        post = np.atleast_1d(np.asarray(syn.j[:], dtype=np.int64))
        weight = np.atleast_1d(np.asarray(syn.weight_[:], dtype=np.float64)) / scale
        # Brian2 gives a scalar where the pathway's delay is homogeneous (e.g. a single synapse)
        raw_delay = np.broadcast_to(np.asarray(syn.pre.delay_[:], dtype=np.float64), pre.shape)
        steps = np.rint(raw_delay * 1e3 / dt) + self.shift_steps
        delay = np.round(steps * dt, 10)
        return Connections(pre, post, weight, delay).sorted()


@dataclass
class TiedProjection:
    """A projection whose weights follow its source's, transposed (:class:`~spikebridge.models.schema.WeightTie`): a
    pathway of the source's ``Synapses``, run by the source's post cells' spikes, that delivers the synapse's
    ``tied_N`` to its pre cell; a ``run_regularly`` on the source copies ``scale`` times the weight into ``tied_N``
    at t = 0 and every interval (where NEST's backend stops and copies, :data:`SNAPSHOT_WHEN`), after the weight
    snapshots of that time (which show the tied weights that were in use until then, as NEST's do)."""

    data: ProjectionData
    synapses: brian2.Synapses
    """The source projection's."""
    variable: str
    pathway: str
    shift_steps: int
    monitor: brian2.StateMonitor | None = None
    rule: None = None

    def record_weights(self, interval: float) -> brian2.StateMonitor:
        """A StateMonitor of the weights every ``interval`` ms, added to the network by the caller."""
        self.monitor = _weight_monitor(self.synapses, self.variable, interval, f"{self.synapses.name}_{self.variable}")
        return self.monitor

    def snapshots(self, dt: float) -> dict[float, Connections]:
        """Recorded weights by time (ms), each with the (constant) connectivity and delays."""
        if self.monitor is None or len(self.data) == 0:
            return {}
        order = np.lexsort((np.asarray(self.synapses.i[:]), np.asarray(self.synapses.j[:])))
        return _recorded(self.monitor, self.variable, self.read(dt), order)

    def as_loaded(self, dt: float) -> Connections:
        """Its weights at t = 0."""
        delay = np.round(delays.grid_steps(self.data.delay, dt) * dt, 10)
        return Connections(self.data.pre_idx, self.data.post_idx, np.asarray(self.data.weight, dtype=np.float64), delay).sorted()

    def set_plasticity(self, on: bool) -> None:
        """Nothing: the weights follow the source's whatever the phase."""

    def read(self, dt: float) -> Connections:
        """Current (pre, post, weight, delay) in the model's units, sorted by (pre, post): the source's synapses the
        other way."""
        syn = self.synapses
        if len(self.data) == 0:
            return self.as_loaded(dt)
        pre = np.atleast_1d(np.asarray(syn.j[:], dtype=np.int64))
        post = np.atleast_1d(np.asarray(syn.i[:], dtype=np.int64))
        weight = np.atleast_1d(np.asarray(getattr(syn, self.variable)[:], dtype=np.float64))
        raw = np.broadcast_to(np.asarray(getattr(syn, self.pathway).delay_[:], dtype=np.float64), pre.shape)
        delay = np.round((np.rint(raw * 1e3 / dt) + self.shift_steps) * dt, 10)
        return Connections(pre, post, weight, delay).sorted()


def _tie_code(n: int, tied: ProjectionData, target: Any) -> tuple[str, str]:
    """The tied projection's variable and the code of its pathway, which delivers it to the synapses' pre cells
    (``target``, the tied projection's post population)."""
    variable = f"tied_{n}"
    if nestml_cells.is_nestml(target):
        return variable, nestml_cells.port_code(target, tied.port, f"projections.{tied.name}", side="pre").format(weight=variable)
    unit_name, scale = UNITS[weight_unit(target)]
    syn_var = target.celltype.post_synaptic_variables["excitatory" if tied.receptor == "signed" else tied.receptor]
    return variable, f"{syn_var}_pre += {variable}*{scale!r}*{unit_name}"


def create(
    index: int,
    data: ProjectionData,
    pre: Any,
    post: Any,
    dt: float,
    pre_is_source: bool,
    ties: Sequence[ProjectionData] = (),
) -> tuple[Projection, list[TiedProjection]]:
    """A ``Synapses`` object between two PyNN populations, loaded from the instantiated arrays, and the projections
    tied to it (which run as pathways of the same object)."""
    where = f"projections.{data.name}"
    onto_nestml = nestml_cells.is_nestml(post)
    unit = weight_unit(post) if not onto_nestml else "1"
    unit_name, scale = UNITS[unit]
    # "signed" weights need tau_syn_E == tau_syn_I (checked by the model): the excitatory variable carries both signs
    syn_var = "" if onto_nestml else post.celltype.post_synaptic_variables["excitatory" if data.receptor == "signed" else data.receptor]
    rule: stdp.Rule | None = None
    if onto_nestml and data.synapse.type == "static":
        model, on_pre = nestml_cells.synapse_code(post, data.port, where)
        on_post = None
    elif data.synapse.type == "static":
        context = {"syn_var": syn_var, "weight_units": unit_name}
        model, on_pre, on_post = StaticSynapse.eqs % context, StaticSynapse.pre % context, None
    else:
        if len(data) and data.weight.min() < 0:
            raise BackendError(f"{where}: STDP needs non-negative weights; this projection has weights down to {data.weight.min()} {unit}")
        if data.synapse.type == "stdp":
            if onto_nestml:
                raise BackendError(f"{where}.synapse.type: onto a NESTML neuron population, a plastic synapse is a NESTML synapse")
            rule = stdp.rule(data.synapse, unit_name, scale, syn_var, where)
        else:
            assert data.synapse.nestml is not None
            if onto_nestml and data.synapse.delay_semantics != "dendritic":
                raise BackendError(
                    f"{where}.synapse.delay_semantics: a NESTML synapse onto a NESTML neuron takes dendritic delays (as on NEST)"
                )
            port = nestml_cells.port_code(post, data.port, where) if onto_nestml else None
            rule = nestml.rule(read_nestml(data.synapse.nestml, f"{where}.synapse"), data.synapse, unit_name, scale, syn_var, where, port)
        model, on_pre, on_post = rule.model, rule.on_pre, rule.on_post
    pathways: dict[str, str] = {} if on_post is None else {"post": on_post}
    variables = []
    for n, tied in enumerate(ties):
        variable, code = _tie_code(n, tied, pre)
        model += f"\n{variable} : 1"
        pathways[f"tie_{n}"] = code
        variables.append(variable)
    syn = brian2.Synapses(
        pre.brian2_group,
        post.brian2_group,
        model=model,
        on_pre=on_pre,
        on_post=pathways or None,
        name=brian2_name("prj", index),
        namespace={},
    )
    # a NESTML group spikes after the synapses, a step after a standard group's threshold: as late as a source
    shift = 1 if pre_is_source or nestml_cells.is_nestml(pre) else 0
    if len(data):
        syn.connect(i=data.pre_idx, j=data.post_idx)
        syn.weight_[:] = data.weight * scale
        try:
            # the delay policy (spikebridge.models.delays): delays arrive on the grid and >= dt, and go in unchanged
            steps = delays.grid_steps(data.delay, dt)
        except ValueError as err:
            raise BackendError(f"{where}.delay: {err}") from None
        syn.pre.delay_[:] = (steps - shift) * dt * 1e-3
        if rule is not None:
            for name, value in rule.parameters.items():
                setattr(syn, name + "_", value)
            if not rule.nestml:
                syn.t_pre_seen_[:] = np.full(len(data), -1e3)  # long before t = 0: no trace, never "this step"
            syn.t_post_seen_[:] = np.full(len(data), -1e3)
            for name, value in rule.initial.items():
                setattr(syn, name + "_", np.full(len(data), value))
            if rule.nestml:
                syn.weight_now_[:] = data.weight * scale / nestml.SI[nestml.WEIGHT_UNIT[unit_name]]
            # post pathway: NEST's stamp plus d (dendritic), in the pre pathway's frame (d later); a NESTML group's
            # spikes come a step late (see ``shift``)
            late = 1 if onto_nestml else 0
            syn.post.delay_[:] = (2 * steps - late if rule.dendritic else np.zeros_like(steps)) * dt * 1e-3
    if rule is not None:
        syn.post.order = stdp.POST_FIRST
    tied_projections = []
    for n, (tied, variable) in enumerate(zip(ties, variables, strict=True)):
        assert tied.tie is not None
        # the pathway is run by the source's post cells, the tied projection's pre: a NESTML group spikes a step late
        tied_shift = 1 if nestml_cells.is_nestml(post) else 0
        pathway = f"tie_{n}"
        if len(data):
            steps = np.empty(len(data), dtype=np.int64)
            steps[tied.tie.source_index] = delays.grid_steps(tied.delay, dt)
            getattr(syn, pathway).delay_[:] = (steps - tied_shift) * dt * 1e-3
            values = np.empty(len(data))
            values[tied.tie.source_index] = tied.weight
            getattr(syn, variable)[:] = values
        weight = "weight" if unit_name == "1" else f"weight/({scale!r}*{unit_name})"
        syn.run_regularly(
            f"{variable} = {tied.tie.scale!r}*{weight}",
            dt=tied.tie.interval * brian2.ms,
            when=SNAPSHOT_WHEN,
            order=1,
            name=f"{syn.name}_{variable}_copy",
        )
        tied_projections.append(TiedProjection(tied, syn, variable, pathway, tied_shift))
    return Projection(data, syn, unit, shift, rule, monitor=None), tied_projections


def poisson_input(data: PoissonInputData, post: Any) -> Any:
    """Brian2's ``PoissonInput``: ``n`` Poisson inputs per cell added to the excitatory synaptic variable.

    Each step draws the number of input spikes per cell (binomial), as NEST's ``poisson_generator`` does per
    target; it runs on every device, standalone included.
    """
    unit_name, scale = UNITS[weight_unit(post)]
    syn_var = post.celltype.post_synaptic_variables["excitatory"]
    return brian2.PoissonInput(
        post.brian2_group,
        syn_var,
        N=data.n,
        rate=data.rate * brian2.Hz,
        weight=data.weight * scale * getattr(brian2, unit_name),
    )
