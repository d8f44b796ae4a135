"""The timed core every spikebridge variant of the benchmarks shares: build, run every phase, read the results."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any


def build_and_run(sim: Any, net: Any, read: Iterable[str] = ()) -> tuple[Any, float, float]:
    """``sim.build(net)``, every phase, the recordings and the weights of the projections in ``read``.

    Returns the Neo block and the ``time.perf_counter()`` readings at which the build and the run ended, so each
    caller times from where its own measurement starts (before drawing the network, or before creating ``sim``).
    """
    sim.build(net)
    built = time.perf_counter()
    for phase in net.phases:
        sim.run(phase)
    block = sim.recordings()
    for name in read:
        sim.connections(name)
    return block, built, time.perf_counter()
