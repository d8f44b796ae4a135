"""NESTML neurons as populations of the Brian2 backend: the translation of :mod:`.nestml_neuron` behind a PyNN population.

A population whose ``cell_type`` names a NESTML neuron becomes a ``pyNN.brian2`` population (so that recording,
phases and the run directory work as for every cell type) whose group is :class:`NestmlGroup`: the neuron's step as
:func:`~spikebridge.backends.brian2.nestml_neuron.describe` writes it, with every parameter and internal value a
per-cell constant of the group rather than a constant of the code. Parameters may differ between cells (drawn from a
distribution), and the internals NEST computes from them (``pre_run_hook``: propagators, ``refr_T`` in steps, ...)
are computed per cell here from the same expressions; a standalone binary's code does not change with the values.

Projections onto such a population add their weight (a number in NEST's unit of the port) to the named spike input
port (``NeuronModel.on_pre``). The group steps after the synapses and spikes after that, one step later than a
standard group's threshold; pathways *from* it therefore run with ``d - dt``, as pathways from spike sources do, so
that a spike reaches its targets ``d`` after NEST's stamp.
"""

from __future__ import annotations

import functools
import math
from functools import partial
from types import ModuleType
from typing import Any

import brian2
import numpy as np

from ...errors import BackendError
from ...models.nestml import parse
from ...models.nestml_cells import read_neuron, recordable
from ...models.network import PopulationData
from .nestml import PREFIX
from .nestml_neuron import EMIT, SELECT, NeuronModel, describe, select_function

METHOD, SUBSTEPS = "rk4", 10
"""The fixed-step integrator of ODEs without an exact solution, and its steps per time step (NEST uses GSL's RKF45)."""

_FUNCTIONS: dict[str, Any] = {
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "clip": np.clip,
    "inf": math.inf,
    "abs": np.abs,
    "floor": np.floor,
    "ceil": np.ceil,
    "log10": np.log10,
    "tanh": np.tanh,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "int": lambda x: np.trunc(x).astype(np.int64) if np.ndim(x) else int(x),
    "e": math.e,
}


@functools.lru_cache(maxsize=32)
def described(text: str, source: str, dt: float, substeps: int = SUBSTEPS) -> NeuronModel:
    """The neuron's step as Brian2 code (:func:`~spikebridge.backends.brian2.nestml_neuron.describe`), once per text,
    dt and number of Runge-Kutta steps per dt."""
    return describe(text, source, dt, METHOD, substeps)


@functools.lru_cache(maxsize=32)
def _internal_expressions(text: str, source: str, dt: float) -> tuple[tuple[str, str], ...]:
    """The ``internals:`` declarations after NESTML's NEST analysis (ODE-toolbox's propagators among them), as
    expressions in the parameters, other internals and initial state."""
    from .nestml_neuron import _analyse, _declarations, _NeuronPrinter

    model = parse(text, source)
    where = f"models.{model.get_name()}"
    model, _ = _analyse(model, where, source)
    printer = _NeuronPrinter(where, source, dt, model)
    return tuple((name, printer.expression(expr)) for name, expr in _declarations(model.get_internals_blocks(), printer))


def cell_values(
    model: NeuronModel, text: str, source: str, dt: float, parameters: dict[str, float | np.ndarray], n: int
) -> dict[str, float | np.ndarray]:
    """Every parameter and internal value of ``n`` cells of ``model`` (the neuron in ``text``): the model's defaults,
    ``parameters`` (a number or one value per cell), and the internals recomputed from them, as NEST does before a run."""
    given = {k: v if np.ndim(v) == 0 else np.asarray(v) for k, v in parameters.items()}
    values: dict[str, float | np.ndarray] = {**model.parameters, **given}
    if not parameters:
        return {**values, **model.internals}
    pending = list(_internal_expressions(text, source, dt))
    known: dict[str, Any] = {**model.state, **values}
    while pending:
        left = []
        for name, expression in pending:
            try:
                known[name] = eval(expression, {"__builtins__": {}}, {**_FUNCTIONS, **known})  # noqa: S307 - pynestml's printed expression
            except NameError:
                left.append((name, expression))
        if len(left) == len(pending):
            raise BackendError(f"{source}: cannot compute the internals {', '.join(n for n, _ in left)} of {model.name}")
        pending = left
    internals = {name: known[name] for name in model.internals}
    out: dict[str, float | np.ndarray] = {}
    for name, value in {**values, **internals}.items():
        array = np.asarray(value, dtype=np.float64)
        out[name] = float(array) if array.ndim == 0 else np.broadcast_to(array, (n,)).copy()
    return out


class NestmlGroup(brian2.NeuronGroup):
    """``n`` cells of a NESTML neuron; PyNN's population calls it as ``brian2_model(n, eqs, **params)`` (both unused)."""

    def __init__(
        self, n: int, equations: Any = None, *, model: NeuronModel, values: dict[str, float | np.ndarray], name: str, **ignored: Any
    ) -> None:
        constants = "\n".join(f"{PREFIX}{k} : 1 (constant)" for k in values)
        super().__init__(n, model.equations() + "\n" + constants, threshold=f"{PREFIX}{EMIT} > 0.5", reset="",
                         namespace={SELECT: select_function()}, name=name)
        self.run_regularly(model.code(), when="after_synapses", order=0, name=f"{name}_step")
        self.thresholder["spike"].when = "after_synapses"
        self.thresholder["spike"].order = 1
        for var, value in model.state.items():
            setattr(self, PREFIX + var, value)
        for var, per_cell in values.items():
            setattr(self, PREFIX + var, per_cell)
        self.add_attribute("nestml")
        self.nestml = model
        self.add_attribute("initial_values")
        self.initial_values: dict[str, Any] = {}  # PyNN's population fills it in

    def initialize(self) -> None:
        """Set the initial values PyNN's population was given."""
        for variable, values in self.initial_values.items():
            setattr(self, variable, values)


def _same(**kwargs: Any) -> Any:
    return next(iter(kwargs.values()))


def create_population(sim: ModuleType, pop: PopulationData, text: str, group_name: str, dt: float, substeps: int = SUBSTEPS) -> Any:
    """A ``pyNN.brian2`` population of the NESTML neuron in ``text``, parameters and initial values (NESTML names,
    NEST units) as drawn, its non-linear ODEs integrated with ``substeps`` RK4 steps per ``dt``; it records ``spikes``
    and ``v`` (``V_m``, mV)."""
    from .populations import Population

    source = f"models.{pop.cell_type}"
    model = described(text, source, dt, substeps)
    values = cell_values(model, text, source, dt, dict(pop.parameters), pop.size)
    v_m = f"{PREFIX}V_m"
    units = {k: ("dimensionless" if u == "1" else u) for k, u in recordable(read_neuron(text, source)).items() if k != "spikes"}
    translations = {k: {"translated_name": PREFIX + k, "forward_transform": _same, "reverse_transform": _same} for k in units}
    celltype_class = type(
        f"NESTML_{model.name}",
        (sim.IF_curr_exp,),
        {
            "default_initial_values": {**{k: float(model.state[k]) for k in units if k in model.state}, "v": float(model.state["V_m"])},
            "state_variable_translations": {
                **translations,
                "v": {"translated_name": v_m, "forward_transform": _same, "reverse_transform": _same},
            },
            "recordable": ["spikes", *units],
            "units": units,
            "post_synaptic_variables": {},
        },
    )
    celltype = celltype_class()
    celltype.brian2_model = partial(NestmlGroup, model=model, values=values, name=group_name)
    population = Population(pop.size, celltype, label=pop.name)
    group = population.brian2_group
    for var, value in pop.initial.items():
        array = np.asarray(value, dtype=np.float64)
        if var == "V_m":
            population.initialize(v=float(array) if array.ndim == 0 else array)
        else:
            setattr(group, PREFIX + var, float(array) if array.ndim == 0 else array)
    return population


def is_nestml(population: Any) -> bool:
    """Whether a PyNN population's group is a NESTML neuron's."""
    return isinstance(getattr(population, "brian2_group", None), NestmlGroup)


def synapse_code(post: Any, port: str | None, where: str) -> tuple[str, str]:
    """``Synapses`` model and ``on_pre`` of a static projection onto the NESTML population ``post``: the weight (a number
    in NEST's unit of the port) added to ``port``."""
    model: NeuronModel = post.brian2_group.nestml
    if port is None or port not in model.ports:
        raise BackendError(f"{where}.port: {model.name} has no spike input port {port!r} (it has: {', '.join(model.ports)})")
    return "weight : 1", model.on_pre(port, "weight")


def port_code(post: Any, port: str | None, where: str, side: str = "post") -> str:
    """Code that delivers ``{weight}`` (a number in NEST's unit of the port) to ``port`` of the NESTML population
    ``post``: what a NESTML synapse's ``emit_spike`` does onto it. ``side="pre"``: the population is the synapses'
    pre group (a pathway run by the post group's spikes)."""
    model: NeuronModel = post.brian2_group.nestml
    if port is None or port not in model.ports:
        raise BackendError(f"{where}.port: {model.name} has no spike input port {port!r} (it has: {', '.join(model.ports)})")
    return model.on_pre(port, "{weight}", side)


def integration(population: Any) -> str:
    """How Brian2 integrates a NESTML population (for the run's metadata)."""
    model: NeuronModel = population.brian2_group.nestml
    how = "ODE-toolbox's exact propagators" if model.integrator == "analytic" else f"{model.integrator} steps per dt (NEST: GSL RKF45)"
    return f"NESTML {model.name}, NEST's step order: {how}"
