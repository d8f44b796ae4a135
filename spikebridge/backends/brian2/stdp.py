"""Pair-based STDP with NEST's ``stdp_synapse`` meaning, for every weight dependence and both delay semantics.

NEST (all-to-all pairing with traces; weights normalised by ``w_max``)::

    facilitate: w <- min(w + w_max λ (1 - w/w_max)^μ+ K+, w_max)      at each post spike, K+ = pre trace
    depress:    w <- max(w - w_max λ α (w/w_max)^μ- K-, 0)             at each pre spike,  K- = post trace

with λ = A_plus, λα = A_minus, (μ+, μ-) = (0, 0) additive, (1, 1) multiplicative, (0, 1) additive
potentiation / multiplicative depression, free for Gütig. Here ``w/w_max`` becomes
``x = (w - w_min)/(w_max - w_min)`` and ``w_max`` the span ``w_max - w_min``: identical for NEST's only
allowed ``w_min = 0``.

Timing, in NEST's spike stamps (the end of the step in which a cell crossed threshold; a source's given
time). With ``dendritic`` delays (NEST's) the rule sees the pre spike at ``t_pre`` and the post spike at
``t_post + d`` (NEST delays the post spike by the dendritic delay, ``stdp_synapse::send``), so
Δt = t_post + d - t_pre; the conductance changes at ``t_pre + d`` by the weight as updated at ``t_pre``.
With ``axonal`` delays the rule sees the pre spike when it arrives, ``t_pre + d``, and the post spike at
``t_post``. Pairs that coincide at the synapse (Δt = 0) are not paired (NEST's history read is strict);
when they coincide, the post spike's facilitation comes before the pre spike's depression.

Brian2 runs both rule events ``d`` later than NEST in the dendritic case: the ``pre`` pathway (delay d)
depresses, updates the pre trace and adds the *just updated* weight to the conductance, exactly what NEST
sends; the ``post`` pathway (delay 2d) facilitates. Relative timing and the weight each PSP carries are
NEST's; a weight read between events lags NEST's by up to 2d, while NEST itself applies facilitation only
at the next pre spike.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...errors import BackendError
from ...models.schema import Synapse

POTENTIATION = {
    "additive": "1",
    "multiplicative": "(1 - x)",
    "additive_potentiation_multiplicative_depression": "1",
    "gutig": "clip(1 - x, 0, 1)**mu_plus",
}
DEPRESSION = {
    "additive": "1",
    "multiplicative": "x",
    "additive_potentiation_multiplicative_depression": "x",
    "gutig": "clip(x, 0, 1)**mu_minus",
}

MODEL = """
weight : {unit}
K_plus : 1
K_minus : 1
t_pre_seen : second
t_post_seen : second
tau_plus : second (shared, constant)
tau_minus : second (shared, constant)
A_plus : 1 (shared, constant)
A_minus : 1 (shared, constant)
w_min : {unit} (shared, constant)
w_max : {unit} (shared, constant)
mu_plus : 1 (shared, constant)
mu_minus : 1 (shared, constant)
plasticity : 1 (shared, constant)
"""

# The post pathway runs first within a step, so a post spike coinciding with this pre spike is already in
# K_minus: NEST's trace excludes it.
ON_PRE = """
x = (weight - w_min) / (w_max - w_min)
x_new = x - plasticity * A_minus * {depression} * (K_minus - int(t_post_seen == t)) * exp((t_post_seen - t) / tau_minus)
weight = w_min + (w_max - w_min) * clip(x_new, 0, inf)
K_plus = K_plus * exp((t_pre_seen - t) / tau_plus) + 1
t_pre_seen = t
{syn_var} += weight
"""

ON_POST = """
x = (weight - w_min) / (w_max - w_min)
x_new = x + plasticity * A_plus * {potentiation} * K_plus * exp((t_pre_seen - t) / tau_plus)
weight = w_min + (w_max - w_min) * clip(x_new, -inf, 1)
K_minus = K_minus * exp((t_post_seen - t) / tau_minus) + 1
t_post_seen = t
"""

POST_FIRST = -2
"""Order of the post pathway within the ``synapses`` slot; Brian2 gives the pre pathway -1."""


@dataclass(frozen=True)
class Rule:
    """A Brian2 STDP synapse: equations, pathway code and the values of its shared parameters."""

    model: str
    on_pre: str
    on_post: str
    parameters: dict[str, float]
    """Shared parameters in SI units (s; S, A or V for weights)."""
    dendritic: bool
    initial: dict[str, float] = field(default_factory=dict)
    """Initial values of per-synapse state variables (all zero where not given)."""
    nestml: bool = False
    """A NESTML rule (:mod:`~spikebridge.backends.brian2.nestml`): event times in ``last_event``, not ``t_pre_seen``."""


def rule(synapse: Synapse, unit_name: str, unit_scale: float, syn_var: str, where: str) -> Rule:
    """The rule of one STDP projection; weights (and w_min/w_max) in ``unit_name``, ``unit_scale`` SI per PyNN unit."""
    assert synapse.timing is not None and synapse.weight_dependence is not None
    timing, dep = synapse.timing, synapse.weight_dependence
    w_min, w_max = float(dep.w_min), float(dep.w_max)
    if not w_max > w_min:
        raise BackendError(f"{where}.synapse.weight_dependence: w_max ({w_max}) must exceed w_min ({w_min})")
    mu_plus = 0.0 if dep.mu_plus is None else float(dep.mu_plus)
    mu_minus = 0.0 if dep.mu_minus is None else float(dep.mu_minus)
    if dep.rule == "gutig" and (dep.mu_plus is None or dep.mu_minus is None):
        raise BackendError(f"{where}.synapse.weight_dependence: the gutig rule needs mu_plus and mu_minus")
    return Rule(
        model=MODEL.format(unit=unit_name),
        on_pre=ON_PRE.format(depression=DEPRESSION[dep.rule], syn_var=syn_var),
        on_post=ON_POST.format(potentiation=POTENTIATION[dep.rule]),
        parameters={
            "tau_plus": float(timing.tau_plus) * 1e-3,
            "tau_minus": float(timing.tau_minus) * 1e-3,
            "A_plus": float(timing.A_plus),
            "A_minus": float(timing.A_minus),
            "w_min": w_min * unit_scale,
            "w_max": w_max * unit_scale,
            "mu_plus": mu_plus,
            "mu_minus": mu_minus,
            "plasticity": 1.0,
        },
        dendritic=synapse.delay_semantics == "dendritic",
    )
