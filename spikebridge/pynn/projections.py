"""``pyNN.brian2``'s Projection, loaded in bulk, with NEST's STDP meaning.

Stock ``pyNN.brian2`` connects one post-synaptic cell at a time and sets each weight and delay with a Python loop
over synapses (124-395 s for 320k synapses). PyNN's connectors still call ``_convergent_connect`` once per
post-synaptic cell; here those calls only collect index and parameter arrays, and each Brian2 ``Synapses`` object is
connected and assigned once, in the order stock PyNN would have created the synapses.

The STDP rule pairs spikes as ``pyNN.nest`` does. There a spike source's spikes pass through parrot neurons
stamped with the source's times, while Brian2 stamps a neuron's spike with the start of its step (NEST: the end):
a neuron's spike reaches the rule at ``t_post - dt`` in NEST's stamps, a source's at ``t``. The post pathway of a
projection from spike sources therefore runs one step later than from neurons.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import chain
from typing import Any

import brian2
import numpy as np
import pandas as pd
import pyNN.brian2 as stock
from pyNN import common
from pyNN.brian2 import projections as stock_projections
from pyNN.brian2 import simulator
from pyNN.brian2.projections import basic_units
from pyNN.parameters import ParameterSpace
from pyNN.space import Space
from pyNN.standardmodels import StandardSynapseType
from pyNN.standardmodels.synapses import TsodyksMarkramSynapse

from ..backends.brian2 import stdp
from ..rundir.weights import table_from_arrays
from . import deferred, device
from .synapses import STDPMechanism


class Projection(stock.Projection):
    __doc__ = stock.Projection.__doc__

    def __init__(
        self,
        presynaptic_population: Any,
        postsynaptic_population: Any,
        connector: Any,
        synapse_type: Any = None,
        source: Any = None,
        receptor_type: Any = None,
        space: Space = Space(),  # noqa: B008 (PyNN's signature)
        label: str | None = None,
    ) -> None:
        common.Projection.__init__(
            self, presynaptic_population, postsynaptic_population, connector, synapse_type, source, receptor_type, space, label
        )
        self._n_connections = 0
        pres = self.pre.populations if isinstance(self.pre, common.Assembly) else [self.pre]
        if isinstance(self.post, common.Assembly):
            posts = self.post.populations
            assert self.post._homogeneous_synapses, "Inhomogeneous assemblies not yet supported"
        else:
            posts = [self.post]
        self._brian2_synapses: dict[int, dict[int, brian2.Synapses]] = defaultdict(dict)
        self._source_steps = 1 if all(not getattr(p.celltype, "injectable", True) for p in pres) else 0
        """Steps added to an STDP rule's post pathway: the source population is a spike source (see module doc)."""
        self._pending: dict[tuple[int, int], list[tuple[np.ndarray, int, dict[str, Any]]]] = defaultdict(list)
        self._given: dict[tuple[int, int], dict[str, Any]] = {}
        """Each group pair's indices and values as loaded: what a standalone device reports before it has run."""
        for i, pre in enumerate(pres):
            for j, post in enumerate(posts):
                self._brian2_synapses[i][j] = self._synapses(pre, post)
                simulator.state.network.add(self._brian2_synapses[i][j])
        connector.connect(self)
        self._load()
        if isinstance(self.synapse_type, TsodyksMarkramSynapse):
            self._set_tau_syn_for_tsodyks_markram()

    def record_weights(self, interval: float) -> None:
        """spikebridge's extension: record every synapse's weight each ``interval`` ms from t = 0, on every device
        (standalone included); read them with :meth:`weight_table`."""
        self._weight_monitors = []
        for i_group, row in self._brian2_synapses.items():
            for j_group, syn in row.items():
                clock = brian2.Clock(interval * brian2.ms, name=f"{syn.name}_weights_clock*")
                monitor = brian2.StateMonitor(syn, "weight", record=True, when="start", clock=clock, name=f"{syn.name}_weights*")
                simulator.state.network.add(monitor)
                self._weight_monitors.append((i_group, j_group, monitor))

    def weight_table(self) -> pd.DataFrame:
        """The recorded weights as a run directory's weight table (:mod:`spikebridge.rundir.weights`): rows
        (projection label, pre, post), columns (t, w | delay), weights in PyNN's units."""
        monitors = getattr(self, "_weight_monitors", None)
        if not monitors:
            raise RuntimeError("no weights recorded: call Projection.record_weights(interval) before run()")
        pre, post, delay = self._attribute_columns(["presynaptic_index", "postsynaptic_index", "delay"])
        recorded = []
        for i_group, j_group, monitor in monitors:
            syn = self._brian2_synapses[i_group][j_group]
            if len(syn):
                ps = self.synapse_type.reverse_translate(ParameterSpace({"weight": monitor.weight[:]}, shape=monitor.weight.shape))
                ps.evaluate()
                recorded.append(np.asarray(ps["weight"], dtype=float))
        weights = np.concatenate(recorded) if recorded else np.empty((0, 0))
        times = np.round(np.asarray(monitors[0][2].t_[:]) * 1e3, 10)
        label = str(self.label or "projection")
        order = np.lexsort((post, pre))  # by (pre, post), as on NEST
        pre, post, delay, weights = pre[order].astype(int), post[order].astype(int), delay[order], weights[order]
        return table_from_arrays({float(t): {label: (pre, post, weights[:, k], delay)} for k, t in enumerate(times)})

    def _synapses(self, pre: Any, post: Any) -> brian2.Synapses:
        """One ``Synapses`` object from ``pre``'s group to ``post``'s, with the synapse type's code."""
        psv = post.celltype.post_synaptic_variables[self.receptor_type]
        if getattr(post.celltype, "voltage_based_synapses", False):
            units = brian2.mV
        else:
            units = brian2.uS if post.celltype.conductance_based else brian2.nA
        self.synapse_type._set_target_type(units)
        unit_name = basic_units(units)
        on_post: str | None
        if isinstance(self.synapse_type, STDPMechanism) and self.synapse_type.nest_meaning:
            rule = self.synapse_type.rule(unit_name, psv)
            model, on_pre, on_post = rule.model, rule.on_pre, rule.on_post
        else:
            context = {"syn_var": psv, "weight_units": unit_name}
            model = self.synapse_type.eqs % context
            on_pre = self.synapse_type.pre % context
            on_post = self.synapse_type.post % context if self.synapse_type.post else None
        syn = brian2.Synapses(
            pre.brian2_group,
            post.brian2_group,
            model=model,
            on_pre=on_pre,
            on_post=on_post,
            clock=simulator.state.network.clock,
            multisynaptic_index="synapse_number",
        )
        if on_post is not None and isinstance(self.synapse_type, STDPMechanism) and self.synapse_type.nest_meaning:
            syn.post.order = stdp.POST_FIRST
        return syn

    def _convergent_connect(
        self, presynaptic_indices: np.ndarray, postsynaptic_index: int, location_selector: Any = None, **connection_parameters: Any
    ) -> None:
        if location_selector is not None:
            raise NotImplementedError("Brian backend does not support multicompartmental models.")
        connection_parameters.pop("dendritic_delay_fraction", None)
        j_group, j = self._localize_index(postsynaptic_index)
        indices = np.asarray(presynaptic_indices)
        if isinstance(self.pre, common.Assembly):
            # an Assembly is split into its populations by consecutive slices of sorted indices (stock PyNN assumes
            # sorted indices, which FixedNumberPreConnector does not draw): sort, and array parameters with them
            order = np.argsort(indices, kind="stable")
            indices = indices[order]
            connection_parameters = {k: np.asarray(v)[order] if np.ndim(v) else v for k, v in connection_parameters.items()}
        start = 0
        for i_group, i in enumerate(self._partition(indices.copy())):
            if i.size:
                part = {k: v[start : start + i.size] if np.ndim(v) else v for k, v in connection_parameters.items()}
                self._pending[i_group, j_group].append((np.array(i, dtype=np.int64), int(j), part))
            start += i.size

    def _load(self) -> None:
        """Connect each ``Synapses`` object once and assign every parameter as one array."""
        dt = simulator.state.dt
        for (i_group, j_group), calls in self._pending.items():
            syn = self._brian2_synapses[i_group][j_group]
            sizes = [len(i) for i, _, _ in calls]
            pre = np.concatenate([i for i, _, _ in calls])
            post = np.repeat([j for _, j, _ in calls], sizes)
            syn.connect(i=pre, j=post)
            self._n_connections += len(pre)
            given: dict[str, Any] = {"i": pre, "j": post}
            names = dict.fromkeys(chain(calls[0][2], self.synapse_type.initial_conditions))
            steps = np.ones(len(pre))
            for name in names:
                default = self.synapse_type.initial_conditions.get(name)
                values = np.concatenate([np.broadcast_to(_si(params.get(name, default)), (n,)) for (_, _, params), n in zip(calls, sizes)])
                if name == "delay":
                    steps = np.round(values * 1e3 / dt)  # the nearest step, as stock PyNN rounds
                    values = steps * dt * 1e-3
                    device.active().delays.append(float(steps.min() * dt))
                self._assign(syn, name, values)
                if name == "delay" or name in syn.variables:
                    dim = syn.pre.variables["delay"].dim if name == "delay" else syn.variables[name].dim
                    given[name] = brian2.Quantity(values, dim=dim)
            self._given[i_group, j_group] = given
            if isinstance(self.synapse_type, STDPMechanism) and self.synapse_type.nest_meaning:
                self._start_rule(syn, steps)
        self._pending.clear()

    def _assign(self, syn: brian2.Synapses, name: str, values: np.ndarray) -> None:
        """``values`` (SI) into the synapses' variable ``name`` (``delay``: the pre pathway's)."""
        if name == "delay":
            syn.pre.delay_[:] = values
            return
        variable = syn.variables[name]
        if variable.read_only:
            return
        if getattr(variable, "scalar", False):
            setattr(syn, name + "_", float(values[0]))
        else:
            getattr(syn, name + "_")[:] = values

    def _start_rule(self, syn: brian2.Synapses, steps: np.ndarray) -> None:
        """No spike seen yet, plasticity on; the post pathway delayed 2d where delays are dendritic (see
        :mod:`~spikebridge.backends.brian2.stdp`)."""
        syn.t_pre_seen_[:] = np.full(len(steps), -1.0)
        syn.t_post_seen_[:] = np.full(len(steps), -1.0)
        syn.plasticity_ = 1.0
        post_steps = (2 * steps if self.synapse_type.dendritic_delay_fraction == 1 else 0 * steps) + self._source_steps
        syn.post.delay_[:] = post_steps * simulator.state.dt * 1e-3

    @property
    def connections(self) -> Any:
        """The projection's connections, one :class:`Connection` each."""
        return (
            Connection(self, i_group, j_group, k)
            for i_group, row in self._brian2_synapses.items()
            for j_group in row
            for k in range(len(self._given_or_synapses(i_group, j_group)["i"]))
        )

    def _given_or_synapses(self, i_group: int, j_group: int) -> Any:
        """What is read: the loaded values before a standalone device has run, else the Brian2 synapses."""
        active = device.active()
        if active.standalone and not active.built and not active.has_run:
            return self._given.get((i_group, j_group), {"i": np.empty(0, dtype=int)})
        active.before_read()
        return self._brian2_synapses[i_group][j_group]

    def get(self, attribute_names: Any, format: str, gather: bool = True, with_address: bool = True, multiple_synapses: str = "sum") -> Any:
        """PyNN's ``get``; in a ``run()`` callback on ``cpp_standalone``, ``format="list"`` answers once the binary has
        run (:mod:`~spikebridge.pynn.deferred`)."""
        active = device.active()
        if format != "list" or active.speculating is None:
            return super().get(attribute_names, format, gather, with_address, multiple_synapses)
        single = isinstance(attribute_names, str)
        names = [attribute_names] if single else list(attribute_names)
        if isinstance(self.synapse_type, StandardSynapseType):
            names = list(self.synapse_type.get_native_names(*names))
        if with_address:
            names = [*deferred.ADDRESS, *names]
        return deferred.read(self, names, single and not with_address, active)

    def _get_attributes_as_arrays(self, attribute_names: Any, multiple_synapses: str = "sum") -> list[np.ndarray]:
        """(pre × post) arrays, NaN where unconnected; several synapses of one pair are aggregated (Assemblies too)."""
        aggregate = {"sum": (np.add.at, 0.0), "min": (np.minimum.at, np.inf), "max": (np.maximum.at, -np.inf)}
        if multiple_synapses not in aggregate:
            raise NotImplementedError(f"multiple_synapses={multiple_synapses!r}: 'sum', 'min' or 'max'")
        at, start = aggregate[multiple_synapses]
        pre, post, *values = self._attribute_columns(["presynaptic_index", "postsynaptic_index", *attribute_names])
        pre, post = pre.astype(int), post.astype(int)
        out = []
        for value in values:
            array = np.full((self.pre.size, self.post.size), start)
            at(array, (pre, post), value)
            unconnected = np.ones_like(array, dtype=bool)
            unconnected[pre, post] = False
            array[unconnected] = np.nan
            out.append(array)
        return out

    def _get_attributes_as_list(self, attribute_names: Any) -> list[tuple[Any, ...]]:
        """One tuple per synapse, indices in the projection's pre and post (views and Assemblies included)."""
        return [tuple(row) for row in np.array(self._attribute_columns(list(attribute_names))).T]

    def _attribute_columns(self, names: list[str], saved: dict[tuple[str, str], Any] | None = None) -> list[np.ndarray]:
        """Each attribute of every synapse, group pair after group pair, in PyNN's units and indices; ``saved``:
        {(synapses, name): array} saved during the run, read instead of the final values."""
        active = device.active()
        given = active.standalone and not active.built and not active.has_run
        if not given:
            active.before_read()
        pres = self.pre.populations if isinstance(self.pre, common.Assembly) else [self.pre]
        posts = self.post.populations if isinstance(self.post, common.Assembly) else [self.post]
        pre_offsets = np.cumsum([0] + [p.size for p in pres])
        post_offsets = np.cumsum([0] + [p.size for p in posts])
        columns: list[list[np.ndarray]] = [[] for _ in names]
        for i_group, row in self._brian2_synapses.items():
            for j_group, syn in row.items():
                loaded = self._given.get((i_group, j_group))
                if given and loaded is None or not given and len(syn) == 0:
                    continue

                def read(name: str, syn: brian2.Synapses = syn, loaded: dict[str, Any] | None = loaded) -> Any:
                    if saved is not None and (syn.name, name) in saved:
                        return saved[syn.name, name]
                    return _value(syn, loaded if given else None, name, active.module)

                n = len(read("i"))
                for column, name in zip(columns, names):
                    if name == "presynaptic_index":
                        value = _index_in(pres[i_group], np.asarray(read("i"))) + pre_offsets[i_group]
                    elif name == "postsynaptic_index":
                        value = _index_in(posts[j_group], np.asarray(read("j"))) + post_offsets[j_group]
                    else:
                        raw = read(name)
                        ps = self.synapse_type.reverse_translate(ParameterSpace({name: raw}, shape=np.shape(raw)))
                        ps.evaluate()
                        value = np.broadcast_to(np.asarray(ps[name], dtype=float), (n,))
                    column.append(np.asarray(value, dtype=float))
        return [np.concatenate(c) if c else np.empty(0) for c in columns]

    def _set_attributes(self, connection_parameters: Any) -> None:
        device.active().before_change("set synaptic attributes")
        super()._set_attributes(connection_parameters)
        if self._given:  # keep what is reported before a standalone run in step (stock: one group pair)
            given = self._given[0, 0]  # the stock method has evaluated the parameters
            for name, value in connection_parameters.items():
                if name in given:
                    given[name] = brian2.Quantity(np.asarray(value)[given["i"], given["j"]], dim=brian2.get_dimensions(given[name]))


class Connection(stock_projections.Connection):
    """One connection of a :class:`Projection`; before a standalone device has run, values are those loaded."""

    def _get(self, attr_name: str) -> Any:
        source = self.projection._given_or_synapses(self.i_group, self.j_group)
        value = source[attr_name][self.index] if isinstance(source, dict) else getattr(source, attr_name)[self.index]
        ps = self.projection.synapse_type.reverse_translate(ParameterSpace({attr_name: value}, shape=(1,)))
        ps.evaluate()
        return ps[attr_name]

    def _set(self, attr_name: str, value: Any) -> None:
        device.active().before_change("set synaptic attributes")
        super()._set(attr_name, value)
        given = self.projection._given.get((self.i_group, self.j_group))
        if given is not None and attr_name in given:
            given[attr_name][self.index] = _native(self.projection, attr_name, value)


def _native(projection: Any, name: str, value: Any) -> Any:
    """A PyNN value of a synaptic attribute in the native (Brian2) units it is stored in."""
    ps = ParameterSpace({name: value}, shape=(1,), schema=projection.synapse_type.get_schema())
    native = projection.synapse_type.translate(ps)
    native.evaluate()
    return native[name][0]


def _value(syn: brian2.Synapses, loaded: dict[str, Any] | None, name: str, module: str) -> Any:
    """A synaptic variable (``i``, ``j`` or an attribute) from Brian2, or from ``loaded`` before a standalone run."""
    if loaded is None:
        return getattr(syn, name)[:]
    if name not in loaded:
        raise NotImplementedError(f"reading {name!r} of a projection before the simulation ran: {module} has no value yet")
    return loaded[name]


def _index_in(part: Any, indices: np.ndarray) -> np.ndarray:
    """Indices in a Brian2 group as indices in ``part`` (the population itself, or a view of it)."""
    return part.index_from_parent_index(indices) if hasattr(part, "parent") else indices


def _si(value: Any) -> np.ndarray:
    """A PyNN-translated native value (a Brian2 quantity or a number) as a plain float array in SI units."""
    return np.asarray(value, dtype=np.float64)
