"""The Brian2 device behind a drop-in module, and PyNN's simulation control on it.

The runtime device simulates in each ``run()``, as stock ``pyNN.brian2`` does. The standalone devices
(``cpp_standalone``, brian2cuda's ``cuda_standalone``) only record each ``run()``: the project is generated,
compiled (cached in spikebridge's compiled-code cache, keyed by the network's Brian2 objects and code) and run
the first time data is read or at ``end()``. ``reset()`` on ``cpp_standalone`` restores the network inside the
binary (:mod:`~spikebridge.pynn.restore`).

A ``run()``, ``reset()`` or change of values after data were read extends the project, and the next read
regenerates it (``make`` recompiles what changed) and runs the binary again from t = 0. Brian2 is seeded at
``setup()`` (from ``rng_seed``, or else from fresh entropy once), so the new binary simulates the runs already
read exactly as before. Each read between runs costs a whole simulation up to that point: after
:data:`MAX_BUILDS` builds a device refuses, naming what records during a run instead.

Two environment variables serve unchanged scripts on machines that cannot run the binary (a GPU project built on
a workstation): ``SPIKEBRIDGE_PYNN_BUILD`` ``generate`` or ``compile`` stops the script at its first read, once
the project is generated (or compiled), printing its folder; ``SPIKEBRIDGE_CUDA_COMPUTE_CAPABILITY`` (``9.0``)
names the GPU architecture brian2_cuda compiles for, where no GPU can be asked.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import warnings
from typing import Any

import brian2
import numpy as np
from brian2.core.variables import DynamicArrayVariable
from pyNN import common
from pyNN.brian2 import control, simulator
from pyNN.common.control import DEFAULT_MIN_DELAY, DEFAULT_TIMESTEP

from ..backends.brian2 import simulator as standalone_state
from ..backends.brian2 import standalone
from ..backends.brian2.drivers import DRIVERS, Driver, StandaloneDriver, release_standalone_devices
from ..backends.brian2.options import Brian2Options
from . import deferred, electrodes, restore, same_network

_ACTIVE: Device | None = None
"""The device of the last ``setup()`` (``None`` before the first)."""
MODULES = {None: "spikebridge.pynn.brian2", "cpp": "spikebridge.pynn.brian2_cpp", "cuda": "spikebridge.pynn.brian2_cuda"}
CPP_OR_RUNTIME = "spikebridge.pynn.brian2_cpp, spikebridge.pynn.brian2 or spikebridge.pynn.nest"
MAX_BUILDS = 8
"""Builds of one network a standalone device makes before it refuses to read between runs again."""
BUILD_MODES = ("run", "compile", "generate")


def build_mode() -> str:
    """What a standalone device does at the first read: ``$SPIKEBRIDGE_PYNN_BUILD``, one of :data:`BUILD_MODES`."""
    mode = os.environ.get("SPIKEBRIDGE_PYNN_BUILD", "run") or "run"
    if mode not in BUILD_MODES:
        raise ValueError(f"SPIKEBRIDGE_PYNN_BUILD={mode!r}: expected one of {', '.join(BUILD_MODES)}")
    return mode


def _options(variant: str | None) -> Brian2Options:
    """The drop-in's Brian2 options; brian2_cuda's GPU architecture from ``$SPIKEBRIDGE_CUDA_COMPUTE_CAPABILITY``."""
    capability = os.environ.get("SPIKEBRIDGE_CUDA_COMPUTE_CAPABILITY")
    if variant != "cuda" or not capability:
        return Brian2Options.model_validate({})
    try:
        return Brian2Options.model_validate({"compute_capability": float(capability)})
    except ValueError:
        raise ValueError(f"SPIKEBRIDGE_CUDA_COMPUTE_CAPABILITY={capability!r}: expected a GPU architecture such as 9.0") from None


def active() -> Device:
    """The device of the last ``setup()`` (PyNN's objects belong to the network it set up)."""
    if _ACTIVE is None:
        raise RuntimeError("call setup() first")
    return _ACTIVE


class Device:
    """One drop-in module's Brian2 device: ``variant`` ``None`` (runtime), ``"cpp"`` or ``"cuda"``."""

    CPP_OR_RUNTIME = CPP_OR_RUNTIME

    def __init__(self, variant: str | None) -> None:
        self.variant = variant
        self.module = MODULES[variant]
        self.driver: Driver | None = None
        self.built = False
        self.has_run = False
        """Whether time has advanced since ``setup()`` (values then differ from those given)."""
        self.delays: list[float] = []
        """The shortest delay (ms) of each projection loaded since ``setup()``."""
        self.builds = 0
        self.speculating: list[Any] | None = None
        """While a standalone ``run()`` calls its callbacks before simulating: the reads they made
        (:mod:`~spikebridge.pynn.deferred`); ``None`` otherwise."""
        self.ran_since_reset = False
        self.pending: list[tuple[int, list[Any]]] = []
        """Since the last ``reset()``: (main queue length, the groups whose first run then began), standalone."""
        self.deferred: list[Any] = []
        """Reads of projections in ``run()`` callbacks, answered once the binary has run (:mod:`~spikebridge.pynn.deferred`)."""
        self.copies: dict[str, tuple[str, bool]] = {}
        """Each array's latest copy in ``main()`` (:func:`~spikebridge.pynn.restore.store_code`): what ``reset()`` restores."""

    @property
    def standalone(self) -> bool:
        """Whether runs are recorded into a project and simulated by a binary later."""
        return self.variant is not None

    def setup(self, timestep: float, min_delay: float, extra: dict[str, Any]) -> None:
        """Select and reset the device, then PyNN's ``setup``; ``rng_seed`` seeds Brian2's generators."""
        global _ACTIVE
        _ACTIVE = self
        release_standalone_devices()  # PyNN's setup() ends the previous network
        self.driver = DRIVERS[self.variant](self.module, _options(self.variant))
        self.driver.activate()
        self.built = False
        self.has_run = False
        self.delays = []
        self.builds = 0
        self.ran_since_reset = False
        self.pending = []
        self.copies = {}
        self.deferred = []
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
        seed = extra.get("rng_seed")
        if seed is None and self.standalone:
            seed = int(np.random.default_rng().integers(2**31 - 1))  # one seed for every build of this network
        if seed is not None:
            brian2.seed(int(seed))
        state.__class__ = _State  # every advance of time passes the device's checks; min_delay before a standalone run

    def refuse(self, what: str, use: str = "spikebridge.pynn.brian2 or spikebridge.pynn.nest") -> None:
        """``NotImplementedError`` for ``what``, which this standalone device cannot do, naming the modules that can."""
        raise NotImplementedError(f"{self.module} cannot {what}; {use} can")

    def reopen(self, what: str) -> None:
        """Standalone, after the binary has run: ``what`` extends the project, which the next read builds and runs again."""
        if not self.standalone or not self.built:
            return
        if self.variant == "cuda":
            self.refuse(f"{what} after results were read (its binary has run, and brian2_cuda does not rebuild it)", CPP_OR_RUNTIME)
        if self.builds >= MAX_BUILDS:
            self.refuse(
                f"{what} after results were read: it has built and simulated this network from t = 0 {self.builds} times, "
                "once per read between runs; run() callbacks that read data between steps are such reads, and "
                "Projection.record_weights(interval) records weights during the run instead"
            )
        if self.builds == 1:
            warnings.warn(
                f"{self.module}: {what} after results were read; the next read rebuilds the project and simulates again "
                "from t = 0 (seeded, so the runs already read give the same results)",
                RuntimeWarning,
                stacklevel=4,
            )
        self.built = False
        brian2.get_device().has_been_run = False

    def in_callback(self, what: str) -> None:
        """Refuse ``what`` in a ``run()`` callback of a standalone device: it calls its callbacks before simulating."""
        if self.speculating is not None:
            self.refuse(
                f"{what} in a run() callback: it simulates after the callbacks have been called, so a callback may only "
                "read projections (Projection.get(..., format='list')) and keep the values for later; "
                "Projection.record_weights(interval) records weights during the run too"
            )

    def before_run(self) -> None:
        """Standalone: a run after the binary has run extends the project (:meth:`reopen`)."""
        self.in_callback("advance time")
        self.reopen("advance time")

    def before_read(self) -> None:
        """Standalone: generate, compile (cached) and run the binary, before a value is read after the last change."""
        if not self.standalone:
            return
        self.in_callback("read results")
        if self.built:
            return
        assert isinstance(self.driver, StandaloneDriver)
        if not self.has_run:
            standalone_state.run(0.0)  # a standalone project needs one run to hold the network
        if self.driver.project is not None:  # a rebuild: new results, and monitors of new lengths
            self.driver.project.clean_results()
            _forget_monitor_lengths(simulator.state.network)
        self.driver.project = standalone.Project(self.driver.cache_root / structure_key(self.variant))
        mode = build_mode()
        if mode != "run":
            self.driver.project.build(run=False, make=mode == "compile")
            where = self.driver.project.directory
            print(f"{self.module}: {mode}d the project in {where} (SPIKEBRIDGE_PYNN_BUILD={mode}); nothing was simulated", file=sys.stderr)
            raise SystemExit(0)
        self.driver.project.build(run=True)
        self.built = True
        self.builds += 1
        results = self.driver.project.directory / str(self.driver.project.results)
        for pending in self.deferred:
            if pending.values._values is None:
                pending.fill(results)

    def before_change(self, what: str) -> None:
        """Standalone: a change of values after the binary has run extends the project (:meth:`reopen`)."""
        self.in_callback(what)
        self.reopen(what)

    def ran(self, queued: int, network: Any) -> None:
        """After a standalone run that began at main queue entry ``queued``: note the groups it ran for the first
        time since the last ``reset()``, whose state at that entry the next ``reset()`` restores."""
        seen = {group.name for _, groups in self.pending for group in groups}
        new = [group for group in restore.restored(network.objects) if group.name not in seen]
        if new:
            self.pending.append((queued, new))
        self.ran_since_reset = True

    def check_reset(self) -> None:
        """Refuse a standalone ``reset()`` this device cannot do, before anything is closed."""
        if not self.standalone or not self.ran_since_reset:
            return
        if self.variant == "cuda":
            self.refuse("reset(): the state it would restore lives in GPU memory", CPP_OR_RUNTIME)
        self.reopen("reset()")

    def reset(self, network: Any) -> None:
        """Standalone ``reset()``: ``main()`` restores each group's state at its first run since the last reset, at
        time 0 (as stock ``pyNN.brian2`` does, nothing is restored when nothing has run since)."""
        if not self.ran_since_reset:
            return
        self.check_reset()
        for queued, groups in reversed(self.pending):  # the later first: earlier entries keep their places
            code, copies = restore.store_code(groups, tag=queued)  # queue lengths only grow: unique
            restore.insert_store(code, queued)
            self.copies.update(copies)
        brian2.get_device().insert_code("main", restore.restore_code(self.copies, network))
        self.pending = []
        self.ran_since_reset = False
        restore.rewind(network)
        electrodes.reset()


class _State(simulator.State):
    """``pyNN.brian2``'s simulator state, with the active device's checks around every advance of time."""

    def clear(self) -> None:
        """Any ``setup()``, this module's or another user's of ``pyNN.brian2``'s state (spikebridge's Brian2 backend):
        the device's checks end here; :meth:`Device.setup` puts them back around its own network."""
        self.__class__ = simulator.State
        simulator.State.clear(self)

    def run(self, simtime: float) -> None:
        dev = active()
        dev.before_run()
        if dev.standalone:  # PyNN's run, without Network.store(), with the current tables
            for recorder in self.recorders:
                recorder._finalize()
            operations, namespace = electrodes.schedule(self.t, simtime) if self.current_sources else ([], {})
            queued = len(brian2.get_device().main_queue)
            self.running = True
            self.network.run(simtime * brian2.ms, namespace=namespace)
            dev.ran(queued, self.network)
            for operation in operations:  # each run has its own
                self.network.remove(operation)
        else:
            super().run(simtime)
        dev.has_run = True

    def reset(self) -> None:
        dev = active()
        if not dev.standalone:
            super().reset()
            for source in self.current_sources:  # stock keeps each schedule at its end: none would apply again
                source.running = False
                source.previous_amplitude = 0.0  # i_inj is restored to 0, and stock adds differences to it
                source._reset()
            return
        dev.reset(self.network)
        self.running = False
        self.t_start = 0
        self.segment_counter += 1

    @property
    def t(self) -> float:
        """The current time (ms), or the end of the segment a recorder is reading (:mod:`~spikebridge.pynn.recording`)."""
        override = self.__dict__.get("t_override")
        if override is not None:
            return float(override)
        if active().standalone:  # Brian2 knows a standalone clock's time only until the binary is rebuilt
            return round(self.network.t_ * 1e3 / self.dt) * self.dt
        return float(super().t)

    def _get_min_delay(self) -> float:
        dev = active()
        if self._min_delay == "auto" and dev.standalone and not dev.built:
            return min(dev.delays, default=self.dt)  # Brian2 cannot read a standalone network's delays yet
        return super()._get_min_delay()

    min_delay = property(_get_min_delay, simulator.State._set_min_delay)


def _forget_monitor_lengths(network: Any) -> None:
    """Let Brian2 read each 2-D monitor array's length from the new binary's results (it takes the first one it read)."""
    for obj in network.objects:
        for var in getattr(obj, "variables", {}).values():
            if isinstance(var, DynamicArrayVariable) and var.ndim == 2 and var.owner is not None and var.owner.name == obj.name:
                var.size = (0, var.size[1])


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
        device.setup(timestep, min_delay, same_network.start(extra_params))
        return 0

    # the device's checks sit in the state's run (see Device.setup), which every advance of time passes through
    stock_run, stock_run_until = common.build_run(simulator)

    def run_until(time_point: float, callbacks: Any = None) -> float:
        """Advance the simulation until ``time_point`` (ms), calling ``callbacks`` on the way as PyNN does."""
        same_network.before_run(time_point, simulator.state.dt, simulator.state.min_delay)
        if callbacks and device.standalone:  # the callbacks first, then one run (Brian2 writes code for every run)
            return deferred.run_until(time_point, callbacks, lambda t: stock_run_until(t, None), device)
        return float(stock_run_until(time_point, callbacks))

    def run(simtime: float, callbacks: Any = None) -> float:
        """Advance the simulation by ``simtime`` ms, calling ``callbacks`` on the way as PyNN does."""
        return run_until(simulator.state.t + simtime, callbacks)

    stock_reset = common.build_reset(simulator)

    def reset(annotations: dict[str, Any] | None = None) -> None:
        """Back to t = 0 with the same network and a new segment (brian2_cuda refuses, and ``same_network=True``)."""
        same_network.refuse_reset(device.module)
        device.check_reset()  # a refusal comes before the recorders close their segments
        stock_reset(annotations if annotations is not None else {})

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
