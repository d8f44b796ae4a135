"""``STDPMechanism`` with NEST's meaning on Brian2, for dendritic (``dendritic_delay_fraction=1``, PyNN's default
and ``pyNN.nest``'s only choice) and axonal (``0``) delays.

Stock ``pyNN.brian2`` refuses PyNN's default fraction and implements its own, nearest-neighbour-free but
differently timed rule. Here the pair rule with any of PyNN's four weight dependences is
:mod:`spikebridge.backends.brian2.stdp`'s, whose Brian2 pathways reproduce NEST's ``stdp_synapse`` spike by spike,
with every PyNN parameter kept per synapse (``Projection.get``/``set`` work on each).
"""

from __future__ import annotations

import re
from typing import Any

import pyNN.brian2 as stock
from pyNN.standardmodels import synapses as standard

from ..backends.brian2 import stdp

WEIGHT_DEPENDENCES: dict[type, str] = {
    stock.AdditiveWeightDependence: "additive",
    stock.MultiplicativeWeightDependence: "multiplicative",
    stock.AdditivePotentiationMultiplicativeDepression: "additive_potentiation_multiplicative_depression",
    stock.GutigWeightDependence: "gutig",
}
PER_SYNAPSE = ("tau_plus", "tau_minus", "A_plus", "A_minus", "w_min", "w_max", "mu_plus", "mu_minus")
"""Parameters PyNN passes per connection: per-synapse variables here, not shared constants."""


class STDPMechanism(stock.STDPMechanism):
    __doc__ = standard.STDPMechanism.__doc__

    def __init__(
        self,
        timing_dependence: Any = None,
        weight_dependence: Any = None,
        voltage_dependence: Any = None,
        dendritic_delay_fraction: float = 1.0,
        weight: float = 0.0,
        delay: float | None = None,
    ) -> None:
        self.nest_meaning = isinstance(timing_dependence, stock.SpikePairRule) and type(weight_dependence) in WEIGHT_DEPENDENCES
        if dendritic_delay_fraction not in (0, 1) or (dendritic_delay_fraction != 0 and not self.nest_meaning):
            raise ValueError(
                f"dendritic_delay_fraction={dendritic_delay_fraction}: spikebridge's Brian2 STDP takes 1 (dendritic, NEST's "
                "meaning) or 0 (axonal) for SpikePairRule with a standard weight dependence, and 0 for any other rule"
            )
        if self.nest_meaning:
            self.initial_conditions: dict[str, float] = {}  # the rule's traces start at 0 and its spike times are set on loading
        standard.STDPMechanism.__init__(
            self, timing_dependence, weight_dependence, voltage_dependence, dendritic_delay_fraction, weight, delay
        )

    def rule(self, unit_name: str, syn_var: str) -> stdp.Rule:
        """The Brian2 code of NEST's pair rule, weights in ``unit_name`` onto ``syn_var``."""
        dependence = WEIGHT_DEPENDENCES[type(self.weight_dependence)]
        model = stdp.MODEL.format(unit=unit_name)
        for name in PER_SYNAPSE:
            if name in self.get_parameter_names():
                model = re.sub(rf"^{name} : (.*) \(shared, constant\)$", rf"{name} : \1", model, flags=re.M)
        return stdp.Rule(
            model=model,
            on_pre=stdp.ON_PRE.format(depression=stdp.DEPRESSION[dependence], syn_var=syn_var),
            on_post=stdp.ON_POST.format(potentiation=stdp.POTENTIATION[dependence]),
            parameters={},
            dendritic=self.dendritic_delay_fraction == 1,
        )
