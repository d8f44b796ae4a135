"""``SpikeSourcePoisson`` whose rate, start and duration can be set after creation.

Stock ``pyNN.brian2`` keeps ``firing_rate`` and ``duration`` as plain Python attributes of its ``PoissonGroup``
and compiles ``end_time`` in once: ``population.set(rate=...)`` changes what ``get`` reports and nothing the
simulation uses (PyNN's scenario 3 then fires at the default 1 Hz). Here rate, start and duration are Brian2
variables per cell, set like any other parameter on every device.
"""

from __future__ import annotations

from typing import Any

import brian2
import pyNN.brian2 as stock
from pyNN.brian2 import simulator


class PoissonGroup(brian2.PoissonGroup):
    """Poisson spikes at ``rates`` from ``start_time`` for ``duration``; ``firing_rate`` is ``rates``."""

    def __init__(self, n: int, equations: Any, **parameters: Any) -> None:
        brian2.PoissonGroup.__init__(self, n, rates=parameters["firing_rate"], clock=simulator.state.network.clock)
        self.variables.add_array("start_time", size=n, dimensions=brian2.second.dim)
        self.variables.add_array("duration", size=n, dimensions=brian2.second.dim)
        self.start_time = parameters["start_time"]
        self.duration = parameters["duration"]
        self.events = {"spike": "(t >= start_time) and (t <= start_time + duration) and (rand() < rates * dt)"}

    @property
    def firing_rate(self) -> Any:
        """The cells' rates (Brian2's ``rates``), under the name PyNN's translation gives them."""
        return self.rates

    @firing_rate.setter
    def firing_rate(self, value: Any) -> None:
        self.rates = value

    def initialize(self) -> None:
        """Nothing to initialise: a Poisson source has no state."""


class SpikeSourcePoisson(stock.SpikeSourcePoisson):
    __doc__ = stock.SpikeSourcePoisson.__doc__
    brian2_model = PoissonGroup
