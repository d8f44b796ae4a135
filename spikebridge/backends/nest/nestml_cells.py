"""NESTML neurons as populations of the NEST backend: the C++ NESTML generates, compiled once and cached.

Every population whose ``cell_type`` names a NESTML neuron runs as NESTML's generated NEST model; the network's
neurons go into one extension module (:func:`spikebridge.backends.nest.nestml.build`, cached by their texts). The
population is a ``pyNN.nest`` population of the native model (PyNN's ``native_cell_type``) that records ``spikes``
and ``v`` (NEST's ``V_m``); parameters and initial values (NESTML names, NEST units, one value per cell or one for all)
are set on NEST directly, and so is every state variable NEST's generated model starts elsewhere than the NESTML
text declares (:func:`misinitialised`), so that NEST and Brian2 start from the same state.

Projections onto it are connected with one ``nest.Connect`` each, the weights in NEST's unit of the port: a port
declared ``excitatory`` or ``inhibitory`` is reached through receptor 0 with the weight's sign (NEST routes a
negative weight to the inhibitory port, as its magnitude), another port through its receptor type.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from ...errors import BackendError
from ...models.nestml import model_name
from ...models.nestml_cells import declared_state, read_neuron, recordable
from ...models.network import Network, PopulationData, ProjectionData
from ..base import Connections


@dataclass
class NestmlProjection:
    """A projection onto a NESTML population, connected without PyNN (what the backend reads of one)."""

    label: str
    nest_synapse_model: str = "static_synapse"
    pre: Any = None
    post: Any = None

    def read(self) -> Connections:
        """The projection's current weights (NEST's unit of the port) and delays (ms), sorted by (pre, post); it is
        the only one connected through its synapse model (a NESTML synapse's copy per projection)."""
        import nest

        from .connections import read_collection

        return read_collection(nest.GetConnections(synapse_model=self.nest_synapse_model), self.pre, self.post)


def prepare(network: Network, progress: bool = True, paired: Collection[str] = ()) -> dict[str, str]:
    """Compile (or take from the cache) and install the module of the network's NESTML neurons: population -> NEST
    model. The ``paired`` populations are left out: NEST runs them as their neuron generated with a NESTML synapse
    (:mod:`spikebridge.backends.nest.paired`)."""
    from . import nestml

    sources: dict[str, str] = {}
    names: dict[str, str] = {}
    for name, pop in network.model.populations.items():
        if pop.nestml is None or name in paired:
            continue
        neuron = model_name(pop.nestml) or pop.cell_type
        if sources.get(neuron, pop.nestml) != pop.nestml:
            raise BackendError(
                f"populations.{name}.cell_type: two different NESTML texts define the neuron {neuron!r}; NEST holds one model per "
                "name: rename one of them"
            )
        sources[neuron] = pop.nestml
        names[name] = neuron
    if not sources:
        return {}
    module = nestml.build(sources, progress=progress)
    nestml.install(module)
    return {pop: module.node_models[neuron] for pop, neuron in names.items()}


def celltype(sim: ModuleType, nest_model: str, parameters: Collection[str], units: dict[str, str] | None = None) -> Any:
    """A ``pyNN.nest`` native cell type of ``nest_model`` that also records ``v`` (its ``V_m``, mV); of NEST's defaults
    it keeps the NESTML ``parameters`` (NEST refuses to set the internals that ``GetDefaults`` shows too). ``units``:
    the unit of each other recordable state variable (:func:`spikebridge.models.nestml_cells.recordable`)."""
    base = sim.native_cell_type(nest_model)
    recordable = [r for r in base.recordable if r != "spikes"]
    extra = {k: ("dimensionless" if u == "1" else u) for k, u in (units or {}).items() if k not in ("spikes", "v")}
    cls = type(
        f"{nest_model}_celltype",
        (base,),
        {
            "default_parameters": {k: v for k, v in base.default_parameters.items() if k in parameters},
            "recordable": ["spikes", "v", *recordable],
            "variable_map": {**{r: r for r in recordable}, "v": "V_m", "spikes": "spikes"},
            "units": {**base.units, **extra, "v": "mV"},
            "scale_factors": {"v": 1.0, "spikes": 1.0, **{k: 1.0 for k in extra}},
        },
    )
    return cls()


def misinitialised(nest_model: str, text: str, source: str) -> dict[str, tuple[float, float]]:
    """State variables that NEST's generated ``nest_model`` starts elsewhere than the NESTML ``text`` declares: name ->
    (NEST's value, the declared one). See :func:`~spikebridge.models.nestml_cells.declared_state`: NESTML 9.0's C++
    evaluates a state initialiser that reads an internal before the state it reads is set."""
    import nest

    defaults = nest.GetDefaults(nest_model)
    return {
        k: (float(defaults[k]), v)
        for k, v in declared_state(text, source).items()
        if isinstance(defaults.get(k), (int, float)) and not isinstance(defaults[k], bool)
        and not np.isclose(float(defaults[k]), v, rtol=1e-12, atol=0.0)
    }


def create_population(sim: ModuleType, pop: PopulationData, nest_model: str, text: str) -> Any:
    """A population of ``nest_model`` (the NESTML neuron ``text``): parameters and initial values as drawn, set on NEST."""
    neuron = read_neuron(text, f"models.{pop.cell_type}")
    population = sim.Population(pop.size, celltype(sim, nest_model, neuron.parameters, recordable(neuron)), label=pop.name)
    declared = {k: v for k, (_, v) in misinitialised(nest_model, text, f"models.{pop.cell_type}").items() if k not in pop.initial}
    values = {**declared, **pop.parameters, **pop.initial}
    if values:
        import nest

        # NEST refuses a double for NESTML's boolean and integer variables: give each the type of its default
        kinds = {k: type(v) for k, v in nest.GetDefaults(nest_model).items() if k in values and isinstance(v, (bool, int))}
        as_nest = {
            k: kinds.get(k, float)(float(v)) if np.ndim(v) == 0 else np.asarray(v, dtype=kinds.get(k, np.float64)).tolist()
            for k, v in values.items()
        }
        population.node_collection.set(as_nest)
    return population


def connect(
    network: Network,
    data: ProjectionData,
    pre: Any,
    post: Any,
    synapse_model: str = "static_synapse",
    parameters: dict[str, Any] | None = None,
) -> NestmlProjection:
    """Load one projection onto a NESTML population with one ``nest.Connect``, into the data's port: static, or
    through ``synapse_model`` (a NESTML synapse generated with the population's neuron), copied for this projection
    with its ``parameters`` so that the projection can be read back on its own."""
    import nest

    from ...models import delays

    where = f"projections.{data.name}"
    text = network.model.populations[data.post].nestml
    assert text is not None
    neuron = read_neuron(text, f"models.{network.model.populations[data.post].cell_type}")
    port = data.port
    if port is None or port not in neuron.ports:
        raise BackendError(f"{where}.port: {neuron.name} has no spike input port {port!r} (it has: {', '.join(neuron.ports)})")
    if synapse_model != "static_synapse" or data.tie is not None:  # a tied projection's weights are set: a model of its own
        copy = f"{synapse_model}__{data.name}"
        if copy not in nest.synapse_models:
            nest.CopyModel(synapse_model, copy, parameters or {})
        synapse_model = copy
    result = NestmlProjection(label=data.name, nest_synapse_model=synapse_model, pre=pre, post=post)
    if len(data) == 0:
        return result
    try:
        delays.grid_steps(data.delay, network.dt)
    except ValueError as err:
        raise BackendError(f"{where}.delay: {err}") from None
    kind = neuron.ports[port]
    receptor, sign = 0, 1.0
    if kind == "inhibitory":
        sign = -1.0  # NEST routes a negative weight to the port declared inhibitory, as its magnitude
    # NESTML gives a neuron a receptor per port where it has two or more ports of either sign (an excitatory and
    # inhibitory pair shares one, told apart by the weight's sign); otherwise every port is receptor 0
    types = dict(nest.GetDefaults(post.celltype.nest_model).get("receptor_types", {}) or {})
    if types:
        receptors = {str(k).lower(): int(v) for k, v in types.items()}
        if port.lower() not in receptors:
            raise BackendError(f"{where}.port: NEST's {post.celltype.nest_model} has no receptor type for port {port!r}")
        receptor = receptors[port.lower()]
    elif not kind and len(neuron.ports) > 1:
        raise BackendError(
            f"{where}.port: NESTML 9.0 gives {neuron.name}'s port {port!r} no receptor of its own (one port of either sign beside "
            "an excitatory/inhibitory pair): declare a second such port, or make it excitatory or inhibitory"
        )
    pre_ids = np.asarray(pre.all_cells, dtype=np.int64)[data.pre_idx]
    post_ids = np.asarray(post.all_cells, dtype=np.int64)[data.post_idx]
    syn_spec: dict[str, Any] = {"synapse_model": synapse_model, "weight": sign * data.weight, "delay": data.delay}
    if receptor:
        syn_spec["receptor_type"] = receptor
    nest.Connect(pre_ids, post_ids, "one_to_one", syn_spec)
    return result
