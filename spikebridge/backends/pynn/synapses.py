"""PyNN synapse types from the model's synapse description."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from ...errors import BackendError
from ...models.schema import Synapse, as_float

WEIGHT_DEPENDENCES = {
    "additive": "AdditiveWeightDependence",
    "multiplicative": "MultiplicativeWeightDependence",
    "additive_potentiation_multiplicative_depression": "AdditivePotentiationMultiplicativeDepression",
    "gutig": "GutigWeightDependence",
}


def _find(sim: ModuleType, name: str) -> Any:
    found = getattr(sim, name, None) or getattr(sim.standardmodels.synapses, name, None)
    if found is None:
        raise BackendError(f"{sim.__name__} has no {name}")
    return found


def synapse_type(sim: ModuleType, syn: Synapse, dendritic_delay_fraction: float | None = None) -> Any:
    """A PyNN synapse type with the model's homogeneous rule parameters (weights and delays come per synapse)."""
    if syn.type == "static":
        return sim.StaticSynapse()
    assert syn.timing is not None and syn.weight_dependence is not None
    t, wd = syn.timing, syn.weight_dependence
    timing = sim.SpikePairRule(tau_plus=float(t.tau_plus), tau_minus=float(t.tau_minus), A_plus=t.A_plus, A_minus=t.A_minus)
    wd_params: dict[str, float] = {"w_min": float(wd.w_min), "w_max": float(wd.w_max)}
    if wd.rule == "gutig":
        wd_params |= {"mu_plus": as_float(wd.mu_plus), "mu_minus": as_float(wd.mu_minus)}  # check.resolve requires both
    dependence = _find(sim, WEIGHT_DEPENDENCES[wd.rule])(**wd_params)
    if wd.rule == "gutig":
        # pyNN.nest's GutigWeightDependence drops mu_plus/mu_minus in __init__ (NEST then uses 0.5/0.5)
        dependence.parameter_space.update(mu_plus=as_float(wd.mu_plus), mu_minus=as_float(wd.mu_minus))
    extra = {} if dendritic_delay_fraction is None else {"dendritic_delay_fraction": dendritic_delay_fraction}
    return sim.STDPMechanism(timing_dependence=timing, weight_dependence=dependence, **extra)
