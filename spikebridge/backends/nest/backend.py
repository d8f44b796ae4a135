"""The NEST backend: ``pyNN.nest`` cells and recorders, connections loaded in bulk, seeded from the model.

Importing this module imports neither NEST nor PyNN: the registry reads the class's options and variants
without starting a simulator.
"""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING, Any, ClassVar

import neo
import numpy as np
from pydantic import Field

from ...errors import BackendError
from ...models import delays
from ...models.network import Network
from ...models.schema import Phase
from ..base import Connections, Progress
from ..pynn.backend import PyNNBackend
from ..pynn.options import PositiveFloat, PyNNOptions
from . import pynn_extensions

if TYPE_CHECKING:
    from types import ModuleType

INTEGRATION = {
    "iaf_cond_exp": "GSL adaptive RKF45 (gsl_odeiv_step_rkf45)",
    "iaf_cond_alpha": "GSL adaptive RKF45 (gsl_odeiv_step_rkf45)",
    "aeif_cond_exp": "GSL adaptive RKF45 (gsl_odeiv_step_rkf45)",
    "iaf_psc_exp": "exact integration (propagator matrix)",
    "iaf_psc_alpha": "exact integration (propagator matrix)",
    "izhikevich": "forward Euler",
}
"""How NEST integrates each model that a PyNN cell type maps to (``nest_name['on_grid']``)."""


def nest_model(sim: ModuleType, cell_type: str) -> str:
    """The NEST model behind a PyNN cell type, as ``pyNN.nest`` names it for on-grid spikes."""
    return str(getattr(sim, cell_type).nest_name["on_grid"])


def every_node_local() -> None:
    """In a single NEST process every node is local: tell ``pyNN.nest``'s cell IDs so (idempotent).

    ``pyNN.nest`` sets up recording with ``[id for id in ids if id.local]``, one NEST status call per cell (about
    0.1 ms each: 0.8 s of building the microcircuit at scale 0.1, 8 s at full scale). The process count is fixed
    when NEST starts, and the PyPI wheel has no MPI, so the answer is known once.
    """
    import nest
    from pyNN.nest import simulator

    if nest.NumProcesses() == 1 and not getattr(simulator.ID, "_spikebridge_local", False):
        simulator.ID.local = property(lambda self: True)
        simulator.ID._spikebridge_local = True


class NestOptions(PyNNOptions):
    """Options of ``nest``: ``threads`` (NEST's local_num_threads, default 1), ``chunk`` (ms of simulated time per
    progress update, default: a tenth of the phase, at least 100 ms), ``verbosity`` (NEST's, default ``error``)."""

    chunk: PositiveFloat | None = Field(None, description="ms of simulated time per progress update")
    verbosity: str = Field("error", description="NEST's verbosity level")


class NestBackend(PyNNBackend):
    """NEST through PyNN, with connections loaded in bulk and multimeters read in one call per population."""

    name: ClassVar[str] = "nest"
    Options: ClassVar[type[NestOptions]] = NestOptions
    PACKAGES: ClassVar[tuple[str, ...]] = ("nest-simulator", "PyNN")
    SIMULATOR: ClassVar[str] = "NEST"

    options: NestOptions

    def __init__(self, variant: str | None, options: NestOptions) -> None:
        super().__init__(variant, options)
        self.projections: dict[str, Any] = {}
        self.segments: list[neo.Segment] = []
        self.signal_readers: dict[str, Any] = {}
        self.spike_readers: dict[str, Any] = {}
        self.snapshots: dict[float, dict[str, Connections]] = {}
        self.t = 0.0
        self.paired: Any = None

    def build(self, network: Network) -> None:
        """Set NEST up (threads, seed, on-grid spikes), create populations, bulk-loaded projections, sources and recorders."""
        os.environ.setdefault("PYNEST_QUIET", "1")
        warnings.filterwarnings("ignore", module=r"nest(\..*)?")
        warnings.filterwarnings("ignore", message=".*(deprecated|backward compatibility|nest-config|initial value for|after t_stop).*")
        self.quiet_pynn()  # PyNN warns about NEST's unsettable default initial values
        import nest

        # PyNN's import loads its extension module, compiled once (pynn_extensions), or tries CMake again; loading it
        # is NEST news at INFO level, on stdout
        pynn_extensions.make_findable()
        nest.verbosity = nest.VerbosityLevel.WARNING
        import pyNN.nest as sim

        from ..pynn.cells import create_population
        from ..pynn.synapses import synapse_type
        from . import connections, nestml_cells, paired
        from .populations import Population
        from .recording import SignalReader, SpikeReader

        self.sim = sim
        self.network = network
        dt = network.dt
        sim.setup(
            timestep=dt,
            min_delay=dt,
            max_delay=self.max_delay(network),
            threads=self.options.threads,
            rng_seed=network.seed,
            spike_precision="on_grid",
            verbosity=self.options.verbosity,
        )
        every_node_local()
        # a network that never learns runs its NESTML synapses as static ones: NEST cannot switch a NESTML synapse's
        # learning off, and a static synapse transmits the same weight with the same delay. Their post cells then run
        # as NEST's own model of the cell type (iaf_cond_exp), not as NESTML's copy generated with the rule
        self.learns = any(phase.plasticity for phase in network.phases)
        self.paired = paired.prepare(network) if self.learns else None
        neurons = nestml_cells.prepare(network, paired=self.paired.cells if self.paired is not None else ())
        for name, pop in network.populations.items():
            text = network.model.populations[name].nestml
            if name in neurons:
                assert text is not None
                self.populations[name] = nestml_cells.create_population(sim, pop, neurons[name], text)
                continue
            if self.paired is not None and name in self.paired.cells:
                if text is not None:  # a NESTML neuron, generated with its NESTML synapse
                    self.populations[name] = nestml_cells.create_population(sim, pop, self.paired.cells[name], text)
                else:
                    self.populations[name] = self._paired_population(sim, pop, self.paired.cells[name])
                if self.paired.moved.get(name):
                    nest.SetStatus(self.populations[name].node_collection, self.paired.moved[name])
                continue
            if pop.is_source:
                self.populations[name] = self._source_population(sim, pop)
                continue
            self.populations[name] = create_population(sim, pop, Population)
        for name, prj in network.projections.items():
            if prj.synapse.type == "stdp" and prj.synapse.delay_semantics != "dendritic":
                raise BackendError(
                    f"projections.{name}: NEST's STDP synapses implement dendritic delays only; set synapse.delay_semantics = 'dendritic'"
                )
            if network.model.populations[prj.post].nestml is not None:
                model, values = "static_synapse", None
                if self.paired is not None and name in self.paired.synapses:
                    model = self.paired.synapses[name]
                    values = paired.synapse_values(self.paired.rules[name], prj.synapse.parameters, model)
                pre, post = self.populations[prj.pre], self.populations[prj.post]
                self.projections[name] = nestml_cells.connect(network, prj, pre, post, model, values)
                continue
            if self.paired is not None and name in self.paired.synapses:
                syn = paired.synapse_type(sim, self.paired.synapses[name], self.paired.rules[name], prj.synapse.parameters)
            elif prj.synapse.type not in ("static", "stdp"):  # a NESTML synapse in a network that never learns
                syn = sim.StaticSynapse()
            else:
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
        self.inject_and_record(network)
        for inp in network.inputs.values():
            # one generator per population: NEST sends every target its own independent train
            generator = nest.Create("poisson_generator", params={"rate": inp.n * inp.rate})
            cells = self.populations[inp.target].node_collection
            nest.Connect(generator, cells, "all_to_all", {"weight": inp.weight * 1000.0, "delay": dt})
        self.signal_readers = {
            name: SignalReader(self.populations[name], pop).read
            for name, pop in network.populations.items()
            if pop.record is not None and any(v != "spikes" for v in pop.record.variables)
        }
        self.spike_readers = {
            name: SpikeReader(self.populations[name], pop).read
            for name, pop in network.populations.items()
            if pop.record is not None and "spikes" in pop.record.variables
        }

    @staticmethod
    def _paired_population(sim: ModuleType, pop: Any, nest_model: str) -> Any:
        """The post cells of a NESTML synapse: the PyNN cell type, run as the NESTML neuron ``nest_model``."""
        from ..pynn.cells import _value as value
        from . import paired

        if pop.record is not None and set(pop.record.variables) - {"spikes", "v"}:
            raise BackendError(f"recording.{pop.name}: cells that receive a NESTML synapse record spikes and v only on NEST")
        celltype = paired.celltype(sim, pop.cell_type, nest_model, {k: value(v) for k, v in pop.parameters.items()})
        population = sim.Population(pop.size, celltype, label=pop.name)
        if pop.initial:
            population.initialize(**{k: value(v) for k, v in pop.initial.items()})
        return population

    @staticmethod
    def _source_population(sim: ModuleType, pop: Any) -> Any:
        """A spike source as NEST's ``spike_train_injector``: one node per cell that emits the drawn spikes itself.

        pyNN.nest makes a ``SpikeSourceArray`` of a ``spike_generator`` and a ``parrot_neuron`` per cell (a plastic
        synapse needs a neuron as its source), and NEST updates both at every step: 32768 such pairs took 34 s per
        1.6 s simulated here, the same trains through injectors 1.1 s. The spikes reach the targets at the same
        steps: the generator fires one min_delay early and the parrot re-emits the spike on its own step.
        """
        assert pop.spike_times is not None
        base = sim.native_cell_type("spike_train_injector")
        # PyNN would hand NEST every default, the empty arrays too, which NEST refuses
        celltype = type("spike_train_injector_source", (base,), {"default_parameters": {}, "recordable": ["spikes"]})
        population = sim.Population(pop.size, celltype(), label=pop.name)
        # times within half a tic of a step (float noise, 0.30000000000000004) are taken as that step
        population.node_collection.set([{"spike_times": np.asarray(t, dtype=np.float64)} for t in pop.spike_times])
        return population

    def _boundaries(self, duration: float, progress: bool = True) -> tuple[np.ndarray, set[float]]:
        """Absolute times (ms) at which to stop within this phase: progress chunks (where progress is shown) and
        weight snapshots."""
        assert self.network is not None
        dt = self.network.dt
        chunk = self.options.chunk if self.options.chunk is not None else max(duration / 10, 100.0)
        start, stop = self.t, self.t + duration
        regular = np.arange(start + chunk, stop, chunk) if progress else np.empty(0)
        snaps = self.network.snapshot_times()
        snaps = snaps[(snaps > start + 1e-9) & (snaps <= stop + 1e-9)]
        # whole time steps, so that the pieces add up to exactly the phase's duration
        stops = np.unique(np.round(np.concatenate([regular, snaps, [stop]]) / dt) * dt)
        return np.round(stops, 10), {round(float(t), 6) for t in snaps}

    def _state(self, projection: str) -> Connections:
        """A projection's weights and delays now: NEST's readback, or for a static projection the loaded arrays."""
        from . import connections

        assert self.network is not None
        loaded = self.network.projections[projection]
        if loaded.tie is None and (loaded.synapse.type == "static" or (loaded.synapse.type != "stdp" and not self.learns)):  # see build()
            # NEST cannot change a static synapse, and nothing sets one after loading: the loaded arrays are its
            # state (tests/backends/test_nest.py checks them against NEST's readback), without the readback's
            # ~4 s per 320k synapses. NEST keeps delays in steps and answers steps * dt (0.7000000000000001).
            steps = delays.grid_steps(loaded.delay, self.network.dt)
            return Connections(loaded.pre_idx, loaded.post_idx, loaded.weight, steps * self.network.dt).sorted()
        from .nestml_cells import NestmlProjection

        prj = self.projections[projection]
        return prj.read() if isinstance(prj, NestmlProjection) else connections.read(prj)

    def _tie_times(self, start: float, stop: float) -> set[float]:
        """Times in [start, stop) (ms) at which a tied projection copies its source's weights, before the step that
        begins then (Brian2's ``run_regularly`` at the start of the step): none at the run's very end."""
        assert self.network is not None
        out: set[float] = set()
        for prj in self.network.projections.values():
            if prj.tie is not None:
                k = np.arange(np.ceil(start / prj.tie.interval - 1e-9), np.ceil(stop / prj.tie.interval - 1e-9))
                out |= {round(float(t), 6) for t in k * prj.tie.interval}
        return out

    def _copy_ties(self, t: float) -> None:
        """Set every tied projection due at ``t`` (ms) to its scale times its source's weights now."""
        import nest

        from . import connections
        from .nestml_cells import NestmlProjection

        assert self.network is not None
        for name, data in self.network.projections.items():
            tie = data.tie
            if tie is None or len(data) == 0 or abs(t / tie.interval - round(t / tie.interval)) > 1e-6:
                continue
            taken = self.snapshots.get(round(t, 10), {})
            source = taken[tie.source] if tie.source in taken else self._state(tie.source)
            weight = tie.scale * source.weight[tie.source_index]
            prj = self.projections[name]
            if isinstance(prj, NestmlProjection):
                conns = nest.GetConnections(synapse_model=prj.nest_synapse_model)
                factor = -1.0 if self._inhibitory_port(data) else 1.0
            else:
                conns, factor = connections.nest_connections(prj), connections.weight_factor(prj)
            # the connections' rows in the data's (pre, post) order: NEST keeps them in its own
            status = connections.statuses(conns)
            pre = np.searchsorted(np.asarray(prj.pre.all_cells, dtype=np.int64), connections.column(status, "source", np.int64))
            post = np.searchsorted(np.asarray(prj.post.all_cells, dtype=np.int64), connections.column(status, "target", np.int64))
            rows = np.lexsort((data.post_idx, data.pre_idx))
            keys = data.pre_idx[rows] * len(prj.post.all_cells) + data.post_idx[rows]
            order = rows[np.searchsorted(keys, pre * len(prj.post.all_cells) + post)]
            connections.set_weights(conns, factor * weight[order])

    def _inhibitory_port(self, data: Any) -> bool:
        """Whether a projection onto a NESTML neuron ends on a port declared inhibitory (NEST takes negative weights)."""
        from ...models.nestml_cells import read_neuron

        assert self.network is not None
        pop = self.network.model.populations[data.post]
        assert pop.nestml is not None
        return read_neuron(pop.nestml, f"models.{pop.cell_type}").ports.get(data.port or "") == "inhibitory"

    def _snapshot(self, t: float) -> None:
        assert self.network is not None
        self.snapshots[round(t, 10)] = {name: self._state(name) for name in self.network.weight_projections}

    def run(self, phase: Phase, progress: Progress | None = None) -> None:
        """Run one phase in chunks (progress, weight snapshots); STDP frozen where the phase says so."""
        import nest

        from ..pynn.recording import collect_segment
        from . import connections

        assert self.network is not None and self.sim is not None
        if self.t == 0.0 and 0.0 in self.network.snapshot_times():
            self._snapshot(0.0)
        frozen = {}
        if not phase.plasticity:
            frozen = {name: connections.freeze(prj) for name, prj in self.projections.items()}
        duration = float(phase.duration)
        start = self.t
        stops, snaps = self._boundaries(duration, progress is not None)
        ties = self._tie_times(start, start + duration)
        stops = np.unique(np.round(np.concatenate([stops, sorted(ties)]) / self.network.dt) * self.network.dt).round(10)
        stops = stops[stops > start + 1e-9]
        done = start
        state = self.sim.simulator.state
        prepared = False
        try:
            for target in stops:
                if round(done, 6) in ties:
                    if prepared:
                        prepared = False
                        nest.Cleanup()
                    self._copy_ties(done)
                if not state.running:  # pyNN's first run connects its recorders and runs one min_delay further
                    self.sim.run(float(target - done))
                else:
                    # nest.Simulate is Prepare + Run + Cleanup; preparing once per stretch between snapshots, not per
                    # chunk, saves 45 ms a chunk at 30M synapses (20 chunks of the microcircuit at 0.1: 0.9 s)
                    if not prepared:
                        nest.Prepare()
                        prepared = True
                    nest.Run(float(target - done))
                if progress is not None:
                    progress(float(target - done))
                done = float(target)
                if round(done, 6) in snaps:
                    if prepared:
                        prepared = False
                        nest.Cleanup()
                    self._snapshot(done)
        finally:
            if prepared:
                nest.Cleanup()
        for name, saved in frozen.items():
            connections.thaw(self.projections[name], saved)
        self.t = start + duration
        self.segments.append(collect_segment(
            self.populations, self.network.populations, phase.name, start, self.t, self.signal_readers, self.spike_readers
        ))

    def recordings(self) -> neo.Block:
        """One segment per phase run so far."""
        return self.block(self.segments)

    def connections(self, projection: str) -> Connections:
        """The projection's current weights (PyNN units) and delays (ms), sorted by (pre, post)."""
        # a snapshot taken at the current time is the same state: reading NEST's synapse status takes ~0.7 s per
        # 100k synapses, and a run with snapshots "end" would otherwise read every plastic projection twice
        taken = self.snapshots.get(round(self.t, 10), {})
        if projection in taken:
            return taken[projection]
        return self._state(projection)

    def weight_snapshots(self) -> dict[float, dict[str, Connections]]:
        """Weights of the recorded projections at each snapshot time (ms) run so far."""
        return dict(self.snapshots)

    def info(self) -> dict[str, Any]:
        """Simulator, versions, options, each cell type's NEST model and integration, delay semantics, MPI."""
        used = sorted({p.cell_type for p in self.network.populations.values() if not p.is_source}) if self.network else []
        nestml = {p.cell_type for p in self.network.model.populations.values() if p.nestml is not None} if self.network else set()
        models = {c: nest_model(self.sim, c) for c in used if c not in nestml} if self.sim is not None else {}
        integration = {c: f"{m}: {INTEGRATION[m]}" for c, m in models.items()}
        integration |= {c: "NESTML's generated C++ (ODE-toolbox's propagators, or GSL RKF45)" for c in sorted(nestml)}
        return {
            **self.base_info(),
            "integration": integration,
            "delay_semantics": "dendritic (NEST's STDP synapses; dendritic_delay_fraction = 1)",
            "mpi": {"rank": self.sim.rank(), "processes": self.sim.num_processes()} if self.sim is not None else {},
        }

    def end(self) -> None:
        """Release NEST through PyNN's ``end()``."""
        if self.sim is not None:
            self.sim.end()
