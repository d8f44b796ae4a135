"""The Brian2 device behind a drop-in module, and PyNN's simulation control on it.

The runtime device simulates in each ``run()``, as stock ``pyNN.brian2`` does. The standalone devices
(``cpp_standalone``, brian2cuda's ``cuda_standalone``) only record each ``run()``: the project is generated,
compiled (cached in spikebridge's compiled-code cache, keyed by the network's Brian2 objects and code) and run
the first time data is read or at ``end()``. After that the binary has run: another ``run()``, ``reset()`` or a
change of values raises ``NotImplementedError`` naming the limitation and the module that can do it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import brian2
from pyNN import common
from pyNN.brian2 import control, simulator
from pyNN.common.control import DEFAULT_MIN_DELAY, DEFAULT_TIMESTEP

from ..backends.brian2 import simulator as standalone_state
from ..backends.brian2 import standalone
from ..backends.brian2.drivers import DRIVERS, Driver, StandaloneDriver
from ..backends.brian2.options import Brian2Options
from . import electrodes

_ACTIVE: Device | None = None
"""The device of the last ``setup()`` (``None`` before the first)."""
MODULES = {None: "spikebridge.pynn.brian2", "cpp": "spikebridge.pynn.brian2_cpp", "cuda": "spikebridge.pynn.brian2_cuda"}


def active() -> Device:
    """The device of the last ``setup()`` (PyNN's objects belong to the network it set up)."""
    if _ACTIVE is None:
        raise RuntimeError("call setup() first")
    return _ACTIVE


class Device:
    """One drop-in module's Brian2 device: ``variant`` ``None`` (runtime), ``"cpp"`` or ``"cuda"``."""

    def __init__(self, variant: str | None) -> None:
        self.variant = variant
        self.module = MODULES[variant]
        self.driver: Driver | None = None
        self.built = False
        self.has_run = False
        """Whether time has advanced since ``setup()`` (values then differ from those given)."""
        self.delays: list[float] = []
        """The shortest delay (ms) of each projection loaded since ``setup()``."""

    @property
    def standalone(self) -> bool:
        """Whether runs are recorded into a project and simulated by a binary later."""
        return self.variant is not None

    def setup(self, timestep: float, min_delay: float, extra: dict[str, Any]) -> None:
        """Select and reset the device, then PyNN's ``setup``; ``rng_seed`` seeds Brian2's generators."""
        global _ACTIVE
        _ACTIVE = self
        self.driver = DRIVERS[self.variant](self.module, Brian2Options.model_validate({}))
        self.driver.activate()
        self.built = False
        self.has_run = False
        self.delays = []
        control.setup(timestep, min_delay, **extra)
        # PyNN's private clock named "clock" collides with C's clock() in CUDA code; its NetworkOperation and
        # Network.store() are refused by standalone devices: run on defaultclock, and add the operation at runtime
        state = simulator.state
        for obj in list(state.network.objects):
            if isinstance(obj, brian2.NetworkOperation):
                obj._network = state.network.id  # dropped on purpose: no "never included in a network" warning
        state.network = brian2.Network(name=standalone_state.NETWORK_NAME)
        state.network.clock = brian2.defaultclock
        brian2.defaultclock.dt = timestep * brian2.ms
        if self.standalone:
            state.running = True  # PyNN's State.run would call Network.store() before the first run
        else:
            brian2.defaultclock._set_t_update_dt(target_t=0 * brian2.second)
            standalone_state.add_current_updates()
        if extra.get("rng_seed") is not None:
            brian2.seed(int(extra["rng_seed"]))
        state.__class__ = _State  # every advance of time passes the device's checks; min_delay before a standalone run

    def refuse(self, what: str, use: str = "spikebridge.pynn.brian2 or spikebridge.pynn.nest") -> None:
        """``NotImplementedError`` for ``what``, which this standalone device cannot do, naming the modules that can."""
        raise NotImplementedError(f"{self.module} cannot {what}; {use} can")

    def before_run(self) -> None:
        """Standalone: refuse a run after the binary has run."""
        if not self.standalone:
            return
        if self.built:
            self.refuse(
                "advance time after results were read: its binary has simulated every earlier run() at once, and cannot "
                "continue (run() callbacks that read data between steps are such reads; Projection.record_weights(interval) "
                "records weights during the run instead)"
            )

    def before_read(self) -> None:
        """Standalone: generate, compile (cached) and run the binary once, before any value is first read."""
        if not self.standalone or self.built:
            return
        assert isinstance(self.driver, StandaloneDriver)
        if not self.driver.phases_run and simulator.state.t == 0:
            standalone_state.run(0.0)  # a standalone project needs one run to hold the network
        self.driver.project = standalone.Project(self.driver.cache_root / structure_key(self.variant))
        self.driver.project.build(run=True)
        self.built = True

    def before_change(self, what: str) -> None:
        """Standalone: refuse a change of values once the binary has run."""
        if self.standalone and self.built:
            self.refuse(f"{what} after results were read (its binary has run)")


class _State(simulator.State):
    """``pyNN.brian2``'s simulator state, with the active device's checks around every advance of time."""

    def run(self, simtime: float) -> None:
        dev = active()
        dev.before_run()
        if dev.standalone and self.current_sources:
            operations, namespace = electrodes.schedule(self.t, simtime)
            for recorder in self.recorders:
                recorder._finalize()
            self.network.run(simtime * brian2.ms, namespace=namespace)  # PyNN's run, with the current tables
            for operation in operations:  # each run has its own
                self.network.remove(operation)
        else:
            super().run(simtime)
        dev.has_run = True

    def _get_min_delay(self) -> float:
        dev = active()
        if self._min_delay == "auto" and dev.standalone and not dev.built:
            return min(dev.delays, default=self.dt)  # Brian2 cannot read a standalone network's delays yet
        return super()._get_min_delay()

    min_delay = property(_get_min_delay, simulator.State._set_min_delay)


def structure_key(variant: str | None) -> str:
    """A digest of the current network's Brian2 objects and their code: the same script reuses its compiled project."""
    versions = standalone.code_versions()
    objects = []
    for obj in sorted(simulator.state.network.objects, key=lambda o: o.name):
        entry = [type(obj).__name__, obj.name, str(getattr(obj, "equations", ""))]
        for pathway in getattr(obj, "_pathways", []):
            entry.append(str(pathway.code))
        objects.append(entry)
    text = json.dumps({"variant": variant, "versions": versions, "dt": simulator.state.dt, "objects": objects}, default=str)
    return f"pynn-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def build_control(device: Device) -> dict[str, Any]:
    """PyNN's module-level simulation control (``setup``, ``run``, ``end``, ``reset``, ...) on ``device``."""

    def setup(timestep: float = DEFAULT_TIMESTEP, min_delay: float = DEFAULT_MIN_DELAY, **extra_params: Any) -> int:
        """Should be called at the very beginning of a script."""
        device.setup(timestep, min_delay, extra_params)
        return 0

    # the device's checks sit in the state's run (see Device.setup), which every advance of time passes through
    run, run_until = common.build_run(simulator)

    stock_reset = common.build_reset(simulator)

    def reset(annotations: dict[str, Any] | None = None) -> None:
        """Back to t = 0 with the same network and a new segment (runtime; standalone refuses)."""
        if device.standalone:
            device.refuse("reset(): a standalone binary simulates one continuous run")
        stock_reset(annotations)

    def end(compatible_output: bool = True) -> None:
        """Write data requested with ``write_on_end``; standalone devices build and run their binary first."""
        from pyNN.recording import get_io

        if simulator.state.write_on_end or simulator.state.recorders:
            device.before_read()
        for population, variables, filename in simulator.state.write_on_end:
            population.write_data(get_io(filename), variables)
        simulator.state.write_on_end = []

    queries = common.build_state_queries(simulator)
    return {
        "setup": setup,
        "run": run,
        "run_for": run,
        "run_until": run_until,
        "reset": reset,
        "end": end,
        "initialize": common.initialize,
        **dict(zip(("get_current_time", "get_time_step", "get_min_delay", "get_max_delay", "num_processes", "rank"), queries)),
    }
