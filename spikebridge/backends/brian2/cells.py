"""Brian2 groups behind PyNN's cell types: every parameter per cell, a chosen integration method, fixed names.

``pyNN.brian2`` keeps PyNN's parameter translation and equations but builds its groups in ways that lose
information: a heterogeneous ``tau_refrac`` is refused, the adaptive exponential and Izhikevich groups keep only
the first cell's ``v_reset``/``b``/``d``/``v_thresh``/``delta_T`` (and cut spikes at ``v_thresh + 5 delta_T``
instead of ``v_spike``), ``IF_curr_alpha`` decays its inhibitory current with ``tau_syn_E``, and every group is
named automatically (so generated code, and with it the compiled-code cache, depends on creation order). The
groups here take PyNN's translated per-cell arrays unchanged, as Brian2 variables.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from types import ModuleType
from typing import Any

import brian2
import numpy as np

from ...models.network import Network, PopulationData
from .options import CELL_TYPES, method_options


@dataclass(frozen=True)
class Spiking:
    """How a PyNN cell type spikes: extra per-cell variables, threshold, reset, refractoriness."""

    extra: str
    threshold: str
    reset: str
    refractory: str | None


# NEST holds V_m for tau_refrac/dt steps *after* the step of the spike (its refractory counter is set in that step
# and counted down in the next ones); Brian2 counts the spike's own step, which frees V one step earlier.
_REFRACTORY = "tau_refrac + dt"

_LEAKY = Spiking(
    extra="v_thresh : volt (constant)\nv_reset : volt (constant)\ntau_refrac : second (constant)",
    threshold="v >= v_thresh",  # NEST's iaf_*: V_m >= V_th
    reset="v = v_reset",
    refractory=_REFRACTORY,
)
SPIKING: dict[str, Spiking] = {
    "IF_cond_exp": _LEAKY,
    "IF_curr_exp": _LEAKY,
    "IF_cond_alpha": _LEAKY,
    "IF_curr_alpha": _LEAKY,
    "EIF_cond_exp_isfa_ista": Spiking(
        extra="v_reset : volt (constant)\nb : amp (constant)\ntau_refrac : second (constant)",
        threshold="v >= v_spike",  # NEST's aeif_cond_exp: V_m >= V_peak, which PyNN translates from v_spike
        reset="v = v_reset\nw += b",
        refractory=_REFRACTORY,
    ),
    "Izhikevich": Spiking(extra="", threshold="v >= 30*mV", reset="v = v_reset\nu += d", refractory=None),
}
assert tuple(SPIKING) == CELL_TYPES, "option 'method' names the cell types of SPIKING"

# pyNN.brian2 decays the inhibitory alpha current with tau_syn_e; NEST's iaf_psc_alpha uses tau_syn_in.
_CURRENT_ALPHA = brian2.Equations("""
    die/dt = (2.7182818284590451*ye-ie)/tau_syn_e : amp
    dye/dt = -ye/tau_syn_e                        : amp
    dii/dt = (2.7182818284590451*yi-ii)/tau_syn_i : amp
    dyi/dt = -yi/tau_syn_i                        : amp
    i_syn = ie + ii                               : amp
    tau_syn_e                                     : second
    tau_syn_i                                     : second
""")

# NEST's aeif_cond_exp evaluates its right-hand sides at V = min(V_m, V_peak): the exponential cannot run away inside
# a step (an adaptive integrator would shrink its step without end), and the spike is caught at V_peak.
_ADEX = brian2.Equations("""
    dv/dt = (gL*(v_rest - v_c) + delta_T*gL*exp((v_c - v_thresh)/delta_T) + I - w)/c_m : volt (unless refractory)
    dw/dt = (a*(v_c - v_rest) - w)/tau_w                                             : amp
    v_c = v_spike - clip(v_spike - v, 0*mV, inf*mV)                                  : volt
    i_syn = ge*(e_rev_e - v_c) + gi*(e_rev_i - v_c)                                  : amp
""")


class CellGroup(brian2.NeuronGroup):
    """A NeuronGroup holding one PyNN population; PyNN's ``Population`` calls it as ``brian2_model(n, eqs, **params)``."""

    def __init__(
        self,
        n: int,
        equations: brian2.Equations,
        *,
        spiking: Spiking,
        method: str | tuple[str, ...],
        name: str,
        method_options: dict[str, Any] | None = None,
        injected: bool = True,
        **parameters: Any,
    ) -> None:
        eqs = equations + brian2.Equations(spiking.extra) if spiking.extra else equations
        parameters = {k: _uniform(v) for k, v in parameters.items()}
        # a population no current source drives keeps PyNN's i_inj at 0: one shared constant, not an array per cell
        undriven = set() if injected else {"i_inj"}
        eqs = _shared(eqs, {k for k, v in parameters.items() if np.ndim(v) == 0} | undriven)
        zero = {k for k in _CURRENTS if k in parameters and np.ndim(parameters[k]) == 0 and float(parameters[k]) == 0} | undriven
        eqs = _without_zero_currents(eqs, zero)
        super().__init__(
            n,
            model=eqs,
            threshold=spiking.threshold,
            reset=spiking.reset,
            refractory=spiking.refractory if spiking.refractory else False,
            method=method,
            method_options=_quantities(method_options),
            name=name,
            namespace={},
        )
        for pname, value in parameters.items():
            setattr(self, pname, value)
        self.add_attribute("zero_currents")
        self.zero_currents = frozenset(zero)  # taken out of the equations: setting them later would change nothing
        self.add_attribute("initial_values")
        self.initial_values: dict[str, Any] = {}

    def initialize(self) -> None:
        """Set every per-cell parameter and initial value, as PyNN's population asks."""
        for variable, values in self.initial_values.items():
            setattr(self, variable, values)


class SharedGroup:
    """One :class:`CellGroup` behind several populations of the same cell type and the same parameters.

    Brian2 runs every group's state update, threshold and reset as code objects of their own, at a fixed cost per
    step and object on top of the work per cell: on the runtime device a separate 800-cell group's three cost 100 ms
    per simulated second of COBA 4k (Brian2's profiling), a third of what spikebridge took beyond a hand-written
    script, which puts both COBA populations in one group. Here each population is a :class:`brian2.Subgroup`
    (named as its own group would be) of one shared group; synapses, monitors and inputs take subgroups as they are.
    """

    def __init__(self, size: int, name: str) -> None:
        self.size = size
        self.name = name
        self.group: CellGroup | None = None

    def member(self, n: int, equations: brian2.Equations, *, start: int, name: str, **kwargs: Any) -> brian2.Subgroup:
        """PyNN's ``brian2_model(n, eqs, **params)`` for the population of cells ``start`` to ``start + n``."""
        from pyNN.brian2 import simulator

        if self.group is None:
            self.group = CellGroup(self.size, equations, name=self.name, **kwargs)
            simulator.state.network.add(self.group)
        return brian2.Subgroup(self.group, start, start + n, name=name)

    def release(self) -> None:
        """Let the group go with the network's other objects (Brian2 names new objects after the live ones)."""
        self.group = None


def shared_key(pop: PopulationData) -> tuple[Any, ...] | None:
    """What populations must have in common to share one group: cell type and every parameter, each the same for
    all their cells; ``None`` for a population that keeps a group of its own (a source, or per-cell values)."""
    if pop.is_source or pop.size == 0:
        return None
    values = []
    for name, value in sorted(pop.parameters.items()):
        array = np.asarray(value)
        if array.dtype.kind not in "fiu" or (array.ndim and (array != array.flat[0]).any()):
            return None
        values.append((name, float(array.flat[0])))
    return (pop.cell_type, tuple(values))


def driven_by_currents(network: Network) -> set[str]:
    """The populations a current source drives (their groups keep PyNN's ``i_inj`` per cell)."""
    return {c.target for c in network.currents.values()}


def sharing(network: Network, variant: str | None) -> list[list[str]]:
    """The populations that share a group, in groups of two or more (model order): those with the same
    :func:`shared_key`, no NESTML neuron and no current source. None on ``cuda``: brian2cuda keeps one spike buffer
    per group, which every pathway and monitor of a subgroup scans whole, and that has not been measured on a GPU."""
    if variant == "cuda":
        return []
    driven = driven_by_currents(network)
    members: dict[Any, list[str]] = {}
    for name, pop in network.populations.items():
        key = shared_key(pop)
        if key is not None and network.model.populations[name].nestml is None and name not in driven:
            members.setdefault(key, []).append(name)
    return [names for names in members.values() if len(names) > 1]


def _uniform(value: Any) -> Any:
    """``value`` as one number where every cell has the same (PyNN hands each parameter over as a per-cell array)."""
    array = np.asarray(value)
    if array.ndim == 1 and array.size and array.dtype.kind == "f" and (array == array[0]).all():
        return value[0]  # keeps the Brian2 unit
    return value


def _shared(eqs: brian2.Equations, names: set[str]) -> brian2.Equations:
    """``eqs`` with the parameters in ``names`` declared ``(constant, shared)``.

    A parameter every cell shares is then read once per step instead of once per cell, and Brian2 moves what depends
    only on it out of the loop over cells (``1/tau_m`` rather than a division per cell per step). With per-cell
    arrays a homogeneous IF_cond_exp group's state update took 3.7 times as long as with constants on the runtime
    device; on ``cpp_standalone`` the sixth per-cell array (``i_inj``) also kept GCC from vectorising the loop.
    """
    from brian2.equations.equations import PARAMETER, SingleEquation

    if not names:
        return eqs
    out = []
    for name, eq in eqs.items():
        if eq.type == PARAMETER and name in names:
            flags = [*(f for f in eq.flags if f not in ("constant", "shared")), "constant", "shared"]
            eq = SingleEquation(PARAMETER, name, eq.dim, var_type=eq.var_type, flags=flags)
        out.append(eq)
    return brian2.Equations(out)


# PyNN's current terms, added to the membrane equation of every cell type
_CURRENTS = ("i_offset", "i_inj")


def _without_zero_currents(eqs: brian2.Equations, zero: set[str]) -> brian2.Equations:
    """``eqs`` with the current terms in ``zero`` (every cell's value 0) taken out of the expressions that add them.

    The parameters stay declared, so PyNN reads and records them as before. Adding a shared 0 changes no value, but
    it is not free: with ``+ i_offset + i_inj`` in ``dv/dt`` a 16000-cell IF_cond_exp group's state update took
    435-605 ms per simulated second on the runtime device against 320-345 ms without (Brian2's profiling).
    """
    from brian2.equations.equations import SingleEquation
    from brian2.parsing.sympytools import str_to_sympy, sympy_to_str

    if not zero:
        return eqs
    out = []
    for name, eq in eqs.items():
        if eq.expr is not None and zero & eq.expr.identifiers:
            expr = str_to_sympy(eq.expr.code)
            expr = expr.subs({symbol: 0 for symbol in expr.free_symbols if symbol.name in zero})
            eq = SingleEquation(eq.type, name, eq.dim, var_type=eq.var_type, expr=brian2.Expression(sympy_to_str(expr)), flags=eq.flags)
        out.append(eq)
    return brian2.Equations(out)


def _quantities(method_options: dict[str, Any] | None) -> dict[str, Any] | None:
    """``method_options`` with (value, unit name) tolerances as Brian2 quantities."""
    if not method_options:
        return None
    errors = {v: value * getattr(brian2, unit) for v, (value, unit) in method_options.get("absolute_error_per_variable", {}).items()}
    return {**method_options, "absolute_error_per_variable": errors}


def spike_capacity(count: int) -> int:
    """The length a source group's spike arrays are padded to: the next power of two (at least 1).

    Standalone code has array lengths compiled in, so a run whose input trains hold another number of spikes
    recompiles its project (half a minute for a large network); padded, runs of similar input share one length.

    Examples
    --------
    >>> spike_capacity(0), spike_capacity(1), spike_capacity(1000), spike_capacity(1024), spike_capacity(1025)
    (1, 1, 1024, 1024, 2048)
    """
    return 1 << max(0, int(count) - 1).bit_length()


class SourceGroup(brian2.SpikeGeneratorGroup):
    """The drawn spike trains of a spike source, on Brian2's ``defaultclock`` (the model's dt).

    With ``pad_after`` (ms, the run's end) the arrays are padded to :func:`spike_capacity` with spikes after it,
    one per cell and step, which the run never reaches.
    """

    def __init__(
        self,
        n: int,
        equations: Any,
        *,
        name: str,
        spike_times: list[np.ndarray],
        pad_after: float | None = None,
        dt: float = 0.1,
        **ignored: Any,
    ) -> None:
        counts = np.array([len(t) for t in spike_times], dtype=np.int64)
        indices = np.repeat(np.arange(n, dtype=np.int64), counts)
        times = np.concatenate(spike_times) if counts.sum() else np.empty(0)
        order = np.lexsort((indices, times))
        indices, times = indices[order], times[order]
        if pad_after is not None and n > 0:
            extra = np.arange(spike_capacity(len(times)) - len(times))
            indices = np.concatenate([indices, extra % n])
            times = np.concatenate([times, pad_after + dt * (1 + extra // n)])
        super().__init__(n, indices, times * brian2.ms, sorted=True, name=name)

    def initialize(self) -> None:
        """Nothing to set: the spike times are given when the group is created."""
        pass


def celltype(
    sim: ModuleType,
    pop: PopulationData,
    group_name: str,
    method: str | tuple[str, ...],
    injected: bool = True,
    pad_after: tuple[float, float] | None = None,
    shared: tuple[SharedGroup, int] | None = None,
) -> Any:
    """A ``pyNN.brian2`` cell type whose Brian2 group is one of the above (``injected``: a current source drives it;
    ``pad_after``: the run's end and dt (ms) after which a source pads its spike arrays, :class:`SourceGroup`;
    ``shared``: the group it shares with other populations and where its cells start there)."""
    if pop.is_source:
        assert pop.spike_times is not None
        ct = sim.SpikeSourceArray()  # empty: the trains go straight to the group, not through PyNN's Sequences
        end, dt = pad_after if pad_after is not None else (None, 0.1)
        ct.brian2_model = partial(SourceGroup, name=group_name, spike_times=pop.spike_times, pad_after=end, dt=dt)
        return ct
    params = {k: float(v) if np.ndim(v) == 0 else np.asarray(v, dtype=np.float64) for k, v in pop.parameters.items()}
    ct = getattr(sim, pop.cell_type)(**params)
    if pop.cell_type == "IF_curr_alpha":
        ct.eqs = _with_current_alpha(ct.eqs)
    elif pop.cell_type == "EIF_cond_exp_isfa_ista":
        ct.eqs = _replaced(ct.eqs, _ADEX)
    options = method_options(pop.cell_type, method) if isinstance(method, str) else None
    kwargs: dict[str, Any] = {"spiking": SPIKING[pop.cell_type], "method": method, "method_options": options, "injected": injected}
    if shared is not None:
        ct.brian2_model = partial(shared[0].member, start=shared[1], name=group_name, **kwargs)
    else:
        ct.brian2_model = partial(CellGroup, name=group_name, **kwargs)
    return ct


def _with_current_alpha(eqs: brian2.Equations) -> brian2.Equations:
    synaptic = {"ie", "ye", "ii", "yi", "i_syn", "tau_syn_e", "tau_syn_i"}
    kept = [eq for name, eq in eqs.items() if name not in synaptic]
    return brian2.Equations(kept) + _CURRENT_ALPHA


def _replaced(eqs: brian2.Equations, new: brian2.Equations) -> brian2.Equations:
    kept = [eq for name, eq in eqs.items() if name not in new.names]
    return brian2.Equations(kept) + new


def chosen_method(group: brian2.NeuronGroup | brian2.Subgroup, method: str | tuple[str, ...]) -> str:
    """The integration method Brian2 uses for ``group`` (the first of ``method`` that fits its equations)."""
    from brian2.stateupdaters.base import StateUpdateMethod, UnsupportedEquationsException

    if isinstance(method, str):
        return method  # the only candidate (applying it takes 15 ms; one that cannot integrate fails at the run)
    if isinstance(group, brian2.Subgroup):
        group = group.source
    candidates = method
    for candidate in candidates:
        try:
            StateUpdateMethod.apply_stateupdater(
                group.equations, group.variables, candidate, method_options=group.state_updater.method_options, group_name=group.name
            )
        except UnsupportedEquationsException:
            continue
        return candidate
    raise ValueError(f"none of {candidates} can integrate {group.name}")
