"""A NESTML synapse as Brian2 ``Synapses`` code, with the meaning of the C++ code NESTML writes for NEST.

NEST's NESTML synapse (``send()``) works event by event, and so does this code:

- every event first advances the synapse's ODE state from the last event with ODE-toolbox's propagators
  (``__h`` = time since the last event, ms), as ``update_internal_state_`` does;
- post spikes are seen ``d`` (the dendritic delay) after the post cell fired, pre spikes when they are sent; the
  pre pathway runs ``d`` late and the post pathway ``2d`` late (the same frame as
  :mod:`~spikebridge.backends.brian2.stdp`), so relative timing is NEST's;
- a post spike seen in the same step as a pre spike is handled first (NESTML reads post spikes up to and
  including the pre spike's time), and the pre handler reads the post traces (the variables NESTML moves into the
  post-synaptic neuron) as they were *before* that post spike, as NESTML's ``get_..._for_...(t)`` does;
- ``emit_spike(w)`` adds the weight as it is at that statement to the post cell's synaptic variable;
- NEST applies a post spike's update at the next pre spike, so the weight it holds (and reports) is the weight as of
  the synapse's last pre spike. Brian2 runs the post handler when the post spike is seen, on ``weight_now``, and
  copies it to ``weight`` at each pre spike: ``weight`` is what NEST reports, at any time.

Every NESTML quantity is a plain number in NEST's units (ms, nS, pA, ...), names prefixed ``nms_`` so that they
cannot meet a neuron's variables; the weight lives in ``weight`` (Brian2 units) as for every projection.
"""

from __future__ import annotations

import re

from ...errors import BackendError
from ...models.nestml import EMIT, SynapseRule
from ...models.schema import Synapse
from .stdp import Rule

PREFIX = "nml_"
"""The prefix of a NESTML neuron's names in its Brian2 group (:mod:`~spikebridge.backends.brian2.nestml_cells`)."""
SYNAPSE_PREFIX = "nms_"
"""The prefix of a NESTML synapse's names: Brian2 lets synaptic code reach the post group's variables without a
suffix, so a rule's ``__h`` under the neuron's prefix would write the ``__h`` of a NESTML neuron it ends on."""
_KEEP = {"clip", "exp", "log", "sqrt", "abs", "sin", "cos", "tan", "sinh", "cosh", "tanh", "floor", "ceil", "log10", "int", "inf",
         "dt", "ms", "nS", "pA", "mV", "t", "True", "False", "and", "or", "not"}
_NAME = re.compile(r"(?<![\w.])([A-Za-z_]\w*)")
WEIGHT_UNIT = {"siemens": "nS", "amp": "pA", "volt": "mV", "1": "1"}
"""The NEST unit of a weight, by the Brian2 unit of the post cell's synaptic variable ("1": a NESTML neuron's port,
whose weights are numbers in NEST's unit already)."""
SI = {"nS": 1e-9, "pA": 1e-12, "mV": 1e-3, "1": 1.0}


CURRENT = "weight_now"
"""The weight as the rule has it now, in NEST's unit; ``weight`` holds it as of the last pre spike, as NEST does."""
_OWN = {"last_event", "weight", "plasticity", "t_post_seen", CURRENT}
"""The rule's own Brian2 variables, beside the prefixed NESTML ones."""


def _prefixed(code: str, keep: set[str]) -> str:
    return _NAME.sub(lambda m: m.group(1) if m.group(1) in keep else PREFIX + m.group(1), code)


def brian_name(name: str) -> str:
    """A NESTML name of a synapse as its Brian2 variable: prefixed, and a name ending in ``_pre`` or ``_post``
    (NESTML's ``tau_tr_pre``), which Brian2's ``Synapses`` would read as the pre or post group's variable, gets a
    trailing ``_``."""
    return SYNAPSE_PREFIX + name + ("_" if name.endswith(("_pre", "_post")) else "")


def _advance(rule: SynapseRule) -> list[str]:
    """Propagate every ODE state variable from the last event to now (``__h`` ms), as NEST does at each event."""
    if not rule.updates:
        return ["last_event = t/ms"]
    lines = ["__h = t/ms - last_event"]
    lines += [f"{p} = {expr}" for p, expr in rule.propagators.items()]
    lines += [f"{v}__next = {expr}" for v, expr in rule.updates.items()]
    lines += [f"{v} = {v}__next" for v in rule.updates]
    lines.append("last_event = t/ms")
    return lines


def _body(rule: SynapseRule, statements: tuple[str, ...], deliver: str, unit: str, pre: bool) -> list[str]:
    """The handler on the current weight ``w__now``; a pre handler also stores it as ``weight`` (what NEST holds).

    ``deliver`` is the code that hands the post cell a weight, ``{weight}`` standing for it."""
    w = rule.weight[0]
    lines = [f"{w} = {CURRENT}", f"{w}__start = {w}"]
    for line in statements:
        if line == EMIT:
            lines += deliver.format(weight=f"({w}__start + plasticity*({w} - {w}__start))").splitlines()
        else:
            lines.append(line)
    lines.append(f"{CURRENT} = {w}__start + plasticity*({w} - {w}__start)")
    if pre:
        lines.append(f"weight = {CURRENT}*{unit}")
    return lines


_BOOLEAN = {"True": "1.0", "False": "0.0"}
"""A boolean state variable (stdp_nn_restr_symm's ``pre_handled``) is a number here: sympy, which analyses Brian2's
code, can neither subtract a boolean literal from a number nor negate a number with ``not``."""
_NOT = re.compile(r"\bnot\s+([A-Za-z_]\w*)\b(?!\s*[(\[])")


def _code(lines: list[str], delivered: set[str]) -> str:
    keep = _KEEP | _OWN | delivered

    def name(m: re.Match[str]) -> str:
        word = m.group(1)
        return _BOOLEAN.get(word) or (word if word in keep else brian_name(word))

    return "\n".join(_NOT.sub(r"(\1 == 0)", _NAME.sub(name, line)) for line in lines) + "\n"


def rule(
    nestml: SynapseRule,
    synapse: Synapse,
    unit_name: str,
    unit_scale: float,
    syn_var: str,
    where: str,
    port_code: str | None = None,
) -> Rule:
    """The Brian2 rule of one projection whose synapse is the NESTML model ``nestml`` (parameters from ``synapse``).

    ``unit_name`` is the Brian2 unit of the post cell's synaptic variable ``syn_var``; ``unit_scale`` is SI per
    PyNN weight unit (unused here: NESTML weights are numbers in NEST's unit, PyNN's times 1000). Onto a NESTML
    neuron, ``port_code`` delivers a weight (``{weight}``, a number in NEST's unit) to its port instead, and
    ``unit_name`` is ``"1"``.
    """
    unit = WEIGHT_UNIT[unit_name]
    deliver = port_code if port_code is not None else f"{syn_var} += {{weight}}*{unit}"
    delivered = set(_NAME.findall(deliver.format(weight=""))) - {unit}
    post_owned = set(nestml.post_owned)
    # a continuous port reads the post NESTML neuron's variable of its name as it is now (Brian2's ``_post``)
    continuous = {v: f"{PREFIX}{v}_post" for v in nestml.post_reads}
    if continuous and port_code is None:
        raise BackendError(f"{where}.synapse: {nestml.name} reads {', '.join(continuous)} of its post cells, which must be a NESTML neuron")
    delivered |= set(continuous.values())
    pre_reads = [f"{v}__now = {v} + int(t_post_seen == t/ms)*({v}__before - {v})" for v in nestml.post_owned]
    pre_statements = tuple(_renamed(line, {**continuous, **{v: f"{v}__now" for v in post_owned}}) for line in nestml.on_pre)
    on_pre = _advance(nestml) + pre_reads + _body(nestml, pre_statements, deliver, unit, pre=True)
    on_post = _advance(nestml) + [f"{v}__before = {v}" for v in nestml.post_owned] + ["t_post_seen = t/ms"]
    on_post += _body(nestml, tuple(_renamed(line, continuous) for line in nestml.on_post), deliver, unit, pre=False)
    state = [f"{brian_name(v)} : 1" for v in nestml.state] + [f"{brian_name(v + '__before')} : 1" for v in nestml.post_owned]
    parameters = {brian_name(k): float(v) for k, v in {**nestml.parameters, **synapse.parameters}.items()}
    model = "\n".join(
        [f"weight : {unit_name}", f"{CURRENT} : 1", "last_event : 1", "t_post_seen : 1", "plasticity : 1 (shared, constant)", *state]
        + [f"{name} : 1 (shared, constant)" for name in parameters]
    )
    return Rule(
        model=model,
        on_pre=_code(on_pre, delivered),
        on_post=_code(on_post, delivered),
        parameters={**parameters, "plasticity": 1.0},
        dendritic=synapse.delay_semantics == "dendritic",
        initial={brian_name(k): float(v) for k, v in nestml.state.items()},
        nestml=True,
    )


def _renamed(line: str, names: dict[str, str]) -> str:
    """``line`` reading ``names`` under their new names (assignment targets keep theirs)."""
    target, _, rhs = line.partition(" = ")
    if not rhs:
        return line
    return f"{target} = " + _NAME.sub(lambda m: names.get(m.group(1), m.group(1)), rhs)
