"""The NEST backend: ``pyNN.nest`` cells and recorders, connections loaded in bulk, seeded from the model."""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Mapping
from importlib.metadata import version
from typing import Any

import neo
import numpy as np

from ...errors import BackendError
from ...models.network import Network
from ...models.schema import Phase
from ..base import Connections, Progress, positive_int_option
from ..common.cells import create_population, inject_current, setup_recording
from ..common.recording import collect_segment
from ..common.synapses import synapse_type
from . import connections
from .recording import SignalReader

NEST_MODELS = {
    "IF_cond_exp": "iaf_cond_exp",
    "IF_curr_exp": "iaf_psc_exp",
    "IF_cond_alpha": "iaf_cond_alpha",
    "IF_curr_alpha": "iaf_psc_alpha",
    "EIF_cond_exp_isfa_ista": "aeif_cond_exp",
    "Izhikevich": "izhikevich",
}
INTEGRATION = {
    "iaf_cond_exp": "GSL adaptive RKF45 (gsl_odeiv_step_rkf45)",
    "iaf_cond_alpha": "GSL adaptive RKF45 (gsl_odeiv_step_rkf45)",
    "aeif_cond_exp": "GSL adaptive RKF45 (gsl_odeiv_step_rkf45)",
    "iaf_psc_exp": "exact integration (propagator matrix)",
    "iaf_psc_alpha": "exact integration (propagator matrix)",
    "izhikevich": "forward Euler",
}
OPTIONS = {"threads", "chunk", "verbosity"}


class NestBackend:
    """Options: ``threads`` (NEST local_num_threads, default 1), ``chunk`` (ms of simulated time per progress
    update, default: a tenth of the phase, at least 100 ms)."""

    name = "nest"

    def __init__(self, options: Mapping[str, Any]) -> None:
        unknown = set(options) - OPTIONS
        if unknown:
            raise BackendError(f"unknown nest backend option(s) {sorted(unknown)}; known: {sorted(OPTIONS)}")
        self.options = dict(options)
        self.threads = positive_int_option("nest", self.options, "threads", 1)
        self.network: Network | None = None
        self.populations: dict[str, Any] = {}
        self.projections: dict[str, Any] = {}
        self.segments: list[neo.Segment] = []
        self.signal_readers: dict[str, Any] = {}
        self.snapshots: dict[float, dict[str, Connections]] = {}
        self.t = 0.0

    def build(self, network: Network) -> None:
        os.environ.setdefault("PYNEST_QUIET", "1")
        warnings.filterwarnings("ignore", module=r"(nest|pyNN)(\..*)?")
        warnings.filterwarnings("ignore", message=".*(deprecated|backward compatibility|nest-config|initial value for|after t_stop).*")
        logging.getLogger("PyNN").setLevel(logging.ERROR)  # PyNN warns about NEST's unsettable default initial values
        import pyNN.nest as sim

        self.sim = sim
        self.network = network
        dt = network.dt
        max_delay = max((float(p.delay.max()) for p in network.projections.values() if len(p)), default=dt)
        sim.setup(
            timestep=dt,
            min_delay=dt,
            max_delay=max(max_delay, 2 * dt),
            threads=self.threads,
            rng_seed=network.seed,
            spike_precision="on_grid",
            verbosity=self.options.get("verbosity", "error"),
        )
        for name, pop in network.populations.items():
            # pyNN.nest sends source spikes through a parrot, min_delay early, by subtracting in floating point
            # (1149.9 - 0.1 = 1149.8000000000002), and NEST rounds that up to the next step. A spike time a
            # hair early lands on its own step.
            self.populations[name] = create_population(sim, pop, spike_time_offset=-1e-6)
        for name, prj in network.projections.items():
            if prj.synapse.type == "stdp" and prj.synapse.delay_semantics != "dendritic":
                raise BackendError(f"projections.{name}: NEST's STDP synapses implement dendritic delays only; set synapse.delay_semantics = 'dendritic'")
            syn = synapse_type(sim, prj.synapse, dendritic_delay_fraction=1.0 if prj.synapse.type == "stdp" else None)
            self.projections[name] = sim.Projection(
                self.populations[prj.pre],
                self.populations[prj.post],
                connections.ArrayConnector(prj),
                syn,
                # NEST's current-based cells route negative weights to their inhibitory synapse by themselves
                receptor_type="excitatory" if prj.receptor == "signed" else prj.receptor,
                label=name,
            )
        for cur in network.currents.values():
            inject_current(sim, self.populations[cur.target], cur)
        for name, pop in network.populations.items():
            setup_recording(self.populations[name], pop, dt)
        self.signal_readers = {
            name: SignalReader(self.populations[name], pop).read
            for name, pop in network.populations.items()
            if pop.record is not None and any(v != "spikes" for v in pop.record.variables)
        }

    def _boundaries(self, duration: float) -> tuple[np.ndarray, set[float]]:
        """Absolute times (ms) at which to stop within this phase: progress chunks and weight snapshots."""
        assert self.network is not None
        dt = self.network.dt
        chunk = float(self.options.get("chunk", max(duration / 10, 100.0)))
        start, stop = self.t, self.t + duration
        regular = np.arange(start + chunk, stop, chunk)
        snaps = self.network.snapshot_times()
        snaps = snaps[(snaps > start + 1e-9) & (snaps <= stop + 1e-9)]
        # whole time steps, so that the pieces add up to exactly the phase's duration
        stops = np.unique(np.round(np.concatenate([regular, snaps, [stop]]) / dt) * dt)
        return np.round(stops, 10), {round(float(t), 6) for t in snaps}

    def _snapshot(self, t: float) -> None:
        assert self.network is not None
        self.snapshots[round(t, 10)] = {name: connections.read(self.projections[name]) for name in self.network.weight_projections}

    def run(self, phase: Phase, progress: Progress | None = None) -> None:
        assert self.network is not None
        if self.t == 0.0 and 0.0 in self.network.snapshot_times():
            self._snapshot(0.0)
        frozen = {}
        if not phase.plasticity:
            frozen = {name: connections.freeze(prj) for name, prj in self.projections.items()}
        duration = float(phase.duration)
        start = self.t
        stops, snaps = self._boundaries(duration)
        done = start
        for target in stops:
            self.sim.run(float(target - done))
            if progress is not None:
                progress(float(target - done))
            done = float(target)
            if round(done, 6) in snaps:
                self._snapshot(done)
        for name, saved in frozen.items():
            connections.thaw(self.projections[name], saved)
        self.t = start + duration
        self.segments.append(collect_segment(self.populations, self.network.populations, phase.name, start, self.t, self.signal_readers))

    def recordings(self) -> neo.Block:
        block = neo.Block(name=self.network.model.name if self.network else "")
        block.segments.extend(self.segments)
        return block

    def connections(self, projection: str) -> Connections:
        # a snapshot taken at the current time is the same state: NEST's SynapseCollection.get needs ~0.85 s per
        # 100k synapses, and a run with snapshots "end" would otherwise read every plastic projection twice
        taken = self.snapshots.get(round(self.t, 10), {})
        if projection in taken:
            return taken[projection]
        return connections.read(self.projections[projection])

    def weight_snapshots(self) -> dict[float, dict[str, Connections]]:
        return dict(self.snapshots)

    def info(self) -> dict[str, Any]:
        import nest

        used = {p.cell_type for p in self.network.populations.values() if not p.is_source} if self.network else set()
        return {
            "simulator": "NEST",
            "versions": {"nest-simulator": nest.__version__, "PyNN": version("PyNN")},
            "options": {"threads": self.threads, **{k: v for k, v in self.options.items() if k != "threads"}},
            "integration": {c: f"{NEST_MODELS[c]}: {INTEGRATION[NEST_MODELS[c]]}" for c in sorted(used)},
            "delay_semantics": "dendritic (NEST's STDP synapses; dendritic_delay_fraction = 1)",
            "mpi": {"rank": self.sim.rank(), "processes": self.sim.num_processes()} if hasattr(self, "sim") else {},
        }

    def end(self) -> None:
        if hasattr(self, "sim"):
            self.sim.end()


def create(variant: str | None, options: Mapping[str, Any]) -> NestBackend:
    if variant is not None:
        raise BackendError(f"backend 'nest' has no variant {variant!r}; use 'nest'")
    return NestBackend(options)
