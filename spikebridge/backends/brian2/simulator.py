"""``pyNN.brian2``'s simulator state, made fit for standalone devices.

Stock ``setup()`` runs on a private ``brian2.Clock`` named ``clock`` (the name collides with C's ``clock()`` in
generated CUDA code, and brian2cuda's templates assume ``defaultclock``), adds a Python ``NetworkOperation`` for
current sources, and its first ``run()`` calls ``Network.store()``: standalone devices refuse the last two. Here
the network runs on ``defaultclock``, carries a ``NetworkOperation`` only when the model injects currents, and is
run directly.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import brian2
from brian2.devices.device import RuntimeDevice
from pyNN.brian2 import simulator
from pyNN.brian2.standardmodels.electrodes import update_currents

from ..base import Progress

NETWORK_NAME = "spikebridge"


def setup(sim: ModuleType, dt: float, max_delay: float) -> Any:
    """Call PyNN's ``setup``, then move its network to ``defaultclock`` without its ``NetworkOperation``."""
    sim.setup(timestep=dt, min_delay=dt, max_delay=max_delay)
    state = simulator.state
    for obj in list(state.network.objects):
        if isinstance(obj, brian2.NetworkOperation):
            obj._network = state.network.id  # dropped on purpose: no "never included in a network" warning
    state.network = brian2.Network(name=NETWORK_NAME)  # a fixed name: it appears in generated code
    state.network.clock = brian2.defaultclock  # PyNN reads dt and t through network.clock
    brian2.defaultclock.dt = dt * brian2.ms
    if isinstance(brian2.get_device(), RuntimeDevice):
        # an earlier network left the global clock at its end time, which PyNN reads as "now"
        brian2.defaultclock._set_t_update_dt(target_t=0 * brian2.second)
    state.running = True  # PyNN's State.run would call network.store() before the first run
    return state.network


def add_current_updates() -> None:
    """PyNN's step-current sources change ``i_inj`` from Python at the start of each step (runtime only)."""
    simulator.state.network.add(
        brian2.NetworkOperation(update_currents, when="start", clock=brian2.defaultclock, name=f"{NETWORK_NAME}_currents")
    )


def run(duration: float, report: Progress | None = None, report_period: float = 1.0) -> None:
    """Advance by ``duration`` ms; ``report(ms)`` gets the simulated time advanced since its last call."""
    state = simulator.state
    for recorder in state.recorders:
        recorder._finalize()
    kwargs: dict[str, Any] = {"namespace": {}}
    if report is not None:
        done = [0.0]

        def _report(elapsed: Any, completed: float, start: Any, total: Any) -> None:
            now = float(completed) * duration
            report(now - done[0])
            done[0] = now

        kwargs |= {"report": _report, "report_period": report_period * brian2.second}
    state.network.run(duration * brian2.ms, **kwargs)
    if report is not None and done[0] < duration:
        report(duration - done[0])


def release() -> None:
    """Drop PyNN's references to the Brian2 objects of the current network."""
    state = simulator.state
    state.recorders = set()
    state.current_sources = []
    state.network = brian2.Network(name=f"{NETWORK_NAME}_released")
