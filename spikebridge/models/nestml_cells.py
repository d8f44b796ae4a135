"""NESTML neurons as a population's ``cell_type``: what a model file may say about one, read with pynestml's front end.

A ``[models.NAME]`` entry (a ``.nestml`` file or inline ``text``) that defines a neuron may be a population's
``cell_type``. :func:`read_neuron` parses and checks the text (:func:`spikebridge.models.nestml.parse`: a NESTML
error is one :class:`~spikebridge.errors.ModelError` naming the file, the model and the line) and lists what the
model file may name: its parameters (``parameters``), its state variables (``initial``) and its spike input ports
(a projection's ``port``). Every value is a number in NEST's unit of its dimension (ms, mV, pA, nS, pF), as NEST's
generated model and spikebridge's Brian2 translation both take it.

The simulators build the neuron themselves: NEST compiles the text (:mod:`spikebridge.backends.nest.nestml_cells`),
Brian2 translates it (:mod:`spikebridge.backends.brian2.nestml_cells`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from ..errors import ModelError
from .nestml import _Printer, parse

RECORDABLE = ("spikes", "v")
"""What every NESTML population records: spikes, and ``v`` (its state variable ``V_m``, mV); see :func:`recordable`."""

NEST_UNITS = ("ms", "mV", "pA", "nS", "pF", "Hz")
"""NEST's unit of each dimension: a quantity given with a unit (``"20 ms"``) is converted to the one of its dimension."""


@dataclass(frozen=True)
class NeuronInfo:
    """What a model file may name of a NESTML neuron.

    Parameters
    ----------
    name
        The NESTML model's name (``iaf_psc_exp_neuron``).
    source
        Where the text came from (a file, or ``models.NAME``).
    parameters
        Parameter -> its declared unit (``"ms"``, ``"pF"``, ``"real"``, ...).
    state
        State variable -> its declared unit.
    ports
        Spike input port -> ``"excitatory"``, ``"inhibitory"`` (declared so: it receives a weight's magnitude) or
        ``""`` (a port that takes weights of either sign).
    """

    name: str
    source: str
    parameters: dict[str, str]
    state: dict[str, str]
    ports: dict[str, str]


def recordable(info: NeuronInfo) -> dict[str, str]:
    """What a population of the NESTML neuron ``info`` records -> the unit of its samples: ``spikes``, ``v`` (``V_m``,
    mV) and every other state variable of a number or a unit by its NESTML name (a dendritic state ``d``, an
    adaptation conductance ``g_a``), in NEST's unit of its dimension (``"1"`` for a number)."""
    out = {"spikes": "", "v": "mV"}
    for name, declared in info.state.items():
        if name != "V_m" and declared not in ("boolean", "integer"):
            out[name] = nest_unit(declared)
    return out


@functools.lru_cache(maxsize=16)
def _parsed(text: str, source: str) -> Any:
    """pynestml's checked AST (read only here: :func:`read_neuron` and :func:`declared_state` share one parse)."""
    return parse(text, source)


@functools.lru_cache(maxsize=64)
def read_neuron(text: str, source: str) -> NeuronInfo:
    """Parse and check a NESTML neuron; its parameters, state variables and spike input ports.

    Raises
    ------
    ModelError
        A NESTML error (syntax, an undefined symbol, a unit mismatch), a synapse given as a neuron, or a neuron
        without a spike input port or without ``V_m``; one line naming ``source``, the model and the line.
    """
    model = _parsed(text, source)
    name = model.get_name()
    where = f"models.{name}"
    if name.endswith("synapse"):  # NESTML's own rule
        raise ModelError(where, "a synapse, not a neuron: a population's cell_type names a NESTML neuron", source)

    def declared(blocks: list[Any]) -> dict[str, str]:
        out: dict[str, str] = {}
        for block in blocks:
            for decl in block.get_declarations():
                for var in decl.get_variables():
                    out[var.get_name()] = str(decl.get_data_type())
        return out

    parameters = declared(model.get_parameters_blocks())
    state = declared(model.get_state_blocks())
    ports: dict[str, str] = {}
    for block in model.get_input_blocks():
        for port in block.get_input_ports():
            if not port.is_spike():
                continue
            # pynestml's is_excitatory() and is_inhibitory() are both true of a port without qualifiers
            qualifiers = port.get_input_qualifiers() or []
            excitatory = any(q.is_excitatory for q in qualifiers)
            inhibitory = any(q.is_inhibitory for q in qualifiers)
            kind = "excitatory" if excitatory and not inhibitory else "inhibitory" if inhibitory and not excitatory else ""
            ports[port.get_name()] = kind
    if not ports:
        raise ModelError(where, "the neuron has no spike input port (input: NAME <- spike)", source)
    if "V_m" not in state:
        raise ModelError(where, "the neuron has no state variable V_m (the membrane potential spikebridge records as v)", source)
    return NeuronInfo(name=name, source=source, parameters=parameters, state=state, ports=ports)


@functools.lru_cache(maxsize=64)
def declared_state(text: str, source: str) -> dict[str, float]:
    """The initial value of each state variable, as the NESTML text declares it (default parameters; NEST's units).

    NESTML 9.0's C++ for NEST evaluates the state initialisers right after the internals, and computes those before
    any state variable is set: ``wb_cond_multisyn_neuron``'s ``Act_n = alpha_n_init / (...)``, whose ``alpha_n_init``
    reads ``V_m``, starts near 1 on NEST instead of 0.083 (computed from uninitialised memory). spikebridge sets such
    a variable on NEST to this value, as Brian2's translation starts it. A value that needs more than arithmetic and
    the standard functions (a user function, ``resolution()``) is left out.
    """
    model = _parsed(text, source)
    printer = _Printer(f"models.{model.get_name()}", source)
    known: dict[str, float] = {}
    state: dict[str, float] = {}
    pending = [(kind, var.get_name(), decl.get_expression())
               for kind, blocks in (("parameters", model.get_parameters_blocks()), ("internals", model.get_internals_blocks()),
                                    ("state", model.get_state_blocks()))
               for block in blocks for decl in block.get_declarations() if decl.get_expression() is not None
               for var in decl.get_variables()]
    while pending:  # a declaration may read one of a later block (an HH model's internals read the initial V_m)
        left = []
        for kind, name, expression in pending:
            try:
                known[name] = printer.value(expression, known)
            except ModelError:
                left.append((kind, name, expression))
                continue
            if kind == "state":
                state[name] = known[name]
        if len(left) == len(pending):
            break
        pending = left
    return state


def nest_unit(declared: str) -> str:
    """NEST's unit of a NESTML type's dimension (``"ms"`` for ``s``, ``"pA"`` for ``nA``), ``"1"`` for a number."""
    import quantities as pq

    text = declared.strip()
    if text in ("real", "integer", "boolean", ""):
        return "1"
    try:
        given = pq.Quantity(1.0, text)
    except (LookupError, ValueError, TypeError, SyntaxError):
        return "1"
    for unit in NEST_UNITS:
        try:
            given.rescale(unit)
        except ValueError:
            continue
        return unit
    return "1"


def port_for(info: NeuronInfo, receptor: str, port: str | None, path: str) -> str:
    """The spike input port a projection with ``receptor`` (and an explicit ``port``, if given) delivers to.

    ``excitatory`` takes the port declared ``excitatory`` (or the only port, or the one whose name says ``exc``),
    ``inhibitory`` the one declared ``inhibitory`` (or the only port, or the one whose name says ``inh``).

    Raises
    ------
    ModelError
        ``port`` is not a spike input port of the neuron, or none (or more than one) fits ``receptor``.
    """
    known = ", ".join(info.ports)
    if port is not None:
        if port not in info.ports:
            raise ModelError(f"{path}.port", f"{info.name} has no spike input port {port!r} (it has: {known})")
        return port
    if receptor == "signed":
        raise ModelError(f"{path}.receptor", f"'signed' is for PyNN's current-based cells; onto {info.name}, give a 'port' ({known})")
    if len(info.ports) == 1:
        return next(iter(info.ports))
    declared = [p for p, kind in info.ports.items() if kind == receptor]
    named = [p for p in info.ports if ("exc" if receptor == "excitatory" else "inh") in p.lower()]
    for candidates in (declared, named):
        if len(candidates) == 1:
            return candidates[0]
    raise ModelError(f"{path}.port", f"cannot tell which port of {info.name} is {receptor}; give 'port' (one of: {known})")
