"""The Brian2 backend: ``pyNN.brian2`` cell types, translation and recorders; connections loaded in bulk; runtime,
C++ standalone or CUDA standalone devices (:mod:`~spikebridge.backends.brian2.drivers`); NEST's STDP meaning.

Importing this module imports neither Brian2 nor PyNN: the registry reads the class's options and variants
without starting a simulator; an instance imports them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import neo
import numpy as np

from ...errors import BackendError
from ...models.network import Network
from ...models.schema import Phase
from ..base import Connections, Progress
from ..pynn.backend import PyNNBackend
from . import options as brian2_options
from .options import DEFAULT_METHODS, Brian2Options

if TYPE_CHECKING:
    from . import cells, connections

SEMANTICS = {
    "dendritic": "dendritic (NEST's): the rule sees the pre spike at t_pre and the post spike at t_post + d",
    "axonal": "axonal: the rule sees the pre spike at t_pre + d and the post spike at t_post",
}


class Brian2Backend(PyNNBackend):
    """Brian2 through PyNN on the runtime device (``brian2``), C++ standalone (``brian2:cpp``) or brian2cuda
    (``brian2:cuda``); options in :class:`~spikebridge.backends.brian2.options.Brian2Options`."""

    name: ClassVar[str] = "brian2"
    variants: ClassVar[tuple[str | None, ...]] = (None, "cpp", "cuda")
    exercised: ClassVar[tuple[str | None, ...]] = (None, "cpp")
    Options: ClassVar[type[Brian2Options]] = Brian2Options
    PACKAGES: ClassVar[tuple[str, ...]] = ("brian2", "PyNN")
    SIMULATOR: ClassVar[str] = "Brian2"
    ALWAYS_REPORTED: ClassVar[tuple[str, ...]] = ("threads", "compile_jobs")
    MAIN_THREAD_MODULES: ClassVar[tuple[str, ...]] = ("brian2",)
    """Brian2 installs a signal handler when first imported, which only a process's main thread may do."""

    options: Brian2Options

    @classmethod
    def packages(cls, variant: str | None) -> tuple[str, ...]:
        """``brian2`` and ``PyNN``, and ``brian2cuda`` for ``brian2:cuda``."""
        return (*cls.PACKAGES, "brian2cuda") if variant == "cuda" else cls.PACKAGES

    @classmethod
    def prepare(cls, variant: str | None) -> None:
        """Refuse ``brian2:cuda`` where brian2cuda cannot be imported, saying which extra to install."""
        if variant == "cuda":
            from .standalone import import_brian2cuda

            import_brian2cuda()

    def __init__(self, variant: str | None, options: Brian2Options) -> None:
        super().__init__(variant, options)
        # an instance imports Brian2, PyNN and every module its build uses (0.05 s): build() times no imports
        from . import cells, connections, nestml_cells, populations, recording, simulator  # noqa: F401
        from .drivers import DRIVERS

        self.prepare(variant)
        self.driver = DRIVERS[variant](self.label, options)
        self.methods = options.methods(gsl=self.driver.gsl)
        self.projections: dict[str, connections.Projection | connections.TiedProjection] = {}
        self.phases: list[Phase] = []
        self.integration: dict[str, str] = {}
        self.shared: list[cells.SharedGroup] = []

    def versions(self) -> dict[str, str | None]:
        """brian2, PyNN and brian2cuda (``None`` where not installed), whatever the variant."""
        from importlib.metadata import PackageNotFoundError, version

        out = super().versions()
        if "brian2cuda" not in out:
            try:
                out["brian2cuda"] = version("brian2cuda")
            except PackageNotFoundError:
                out["brian2cuda"] = None
        return out

    def build(self, network: Network) -> None:
        """Activate the variant's device, create groups, bulk-loaded synapses and monitors from the network's arrays."""
        self.quiet_pynn()
        self.driver.refuse(network)
        self.driver.activate()
        import brian2
        import pyNN.brian2 as sim

        from . import cells, connections, nestml_cells, simulator
        from .connections import brian2_name
        from .drivers import StandaloneDriver
        from .populations import create_population

        self.sim = sim
        self.network = network
        dt = network.dt
        brian2.seed(network.seed)
        simulator.setup(sim, dt, self.max_delay(network))
        shared = self._shared_groups(network)
        driven = cells.driven_by_currents(network)
        for k, (name, pop) in enumerate(network.populations.items()):
            text = network.model.populations[name].nestml
            if text is not None:  # a NESTML neuron
                self.populations[name] = nestml_cells.create_population(
                    sim, pop, text, brian2_name("pop", k), dt, self.options.nestml_substeps
                )
                self.integration[pop.cell_type] = nestml_cells.integration(self.populations[name])
                continue
            method = self.methods.get(pop.cell_type, DEFAULT_METHODS)
            # standalone code compiles array lengths in: pad a source's spikes so that new input reuses the build
            pad = (network.duration, dt) if isinstance(self.driver, StandaloneDriver) else None
            population = create_population(sim, pop, brian2_name("pop", k), method, name in driven, pad, shared.get(name))
            self.populations[name] = population
            if not pop.is_source and pop.cell_type not in self.integration:  # once per cell type (15 ms a group)
                self.integration[pop.cell_type] = self._describe(
                    pop.cell_type, cells.chosen_method(population.brian2_group, method), method
                )
        for k, (name, prj) in enumerate(network.projections.items()):
            if prj.tie is not None:  # a pathway of its source's synapses
                continue
            pre = self.populations[prj.pre]
            ties = [t for t in network.projections.values() if t.tie is not None and t.tie.source == name]
            self.projections[name], tied = connections.create(
                k, prj, pre, self.populations[prj.post], dt, network.populations[prj.pre].is_source, ties
            )
            self.projections |= {t.data.name: t for t in tied}
            simulator.simulator.state.network.add(self.projections[name].synapses)
        for inp in network.inputs.values():
            simulator.simulator.state.network.add(connections.poisson_input(inp, self.populations[inp.target]))
        spec = network.model.record_weights
        if spec is not None and spec.interval != "end":
            for name in network.weight_projections:
                simulator.simulator.state.network.add(self.projections[name].record_weights(float(spec.interval)))
        if network.currents:
            simulator.add_current_updates()
        self.inject_and_record(network)
        self.driver.prepare(network, {c: self.integration[c] for c in sorted(self.integration)}, {"zero_currents": self._zero_currents()})

    def _shared_groups(self, network: Network) -> dict[str, tuple[Any, int]]:
        """Populations that share one Brian2 group (:func:`~spikebridge.backends.brian2.cells.sharing`):
        population -> (group, its first cell there)."""
        from . import cells
        from .connections import brian2_name

        index = {name: k for k, name in enumerate(network.populations)}
        out: dict[str, tuple[Any, int]] = {}
        for names in cells.sharing(network, self.driver.variant):
            sizes = [network.populations[name].size for name in names]
            self.shared.append(cells.SharedGroup(sum(sizes), brian2_name("cells", index[names[0]])))
            starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
            out |= {name: (self.shared[-1], int(start)) for name, start in zip(names, starts, strict=True)}
        return out

    def _zero_currents(self) -> dict[str, list[str]]:
        """Per population, the current terms its group left out of its equations (``cells.CellGroup``): they depend on
        parameter values, and they change the generated code."""
        import brian2

        out: dict[str, list[str]] = {}
        for name, population in self.populations.items():
            group = population.brian2_group
            group = group.source if isinstance(group, brian2.Subgroup) else group
            out[name] = sorted(getattr(group, "zero_currents", ()))
        return out

    def _describe(self, cell_type: str, chosen: str, method: str | tuple[str, ...]) -> str:
        if not isinstance(method, str):
            return f"{chosen} (Brian2's first fitting of {', '.join(method)}; choose with option 'method')"
        matched = brian2_options.MATCHED.get(cell_type)
        text = matched.describe(chosen) if matched is not None else chosen
        if self.options.method is not None:
            return f"{text}; requested with option 'method'"
        if matched is not None and chosen != matched.method:
            why = "no GSL integrators" if not self.driver.has_gsl else "GSL is not installed (Debian: libgsl-dev)"
            return f"{text}; {self.driver.DESCRIPTION}: {why}"
        return text

    def run(self, phase: Phase, progress: Progress | None = None) -> None:
        """Run one phase on the device (a standalone device records it for the binary); plasticity as the phase says."""
        if self.network is None:
            raise BackendError("build() the network before running it")
        for prj in self.projections.values():
            prj.set_plasticity(phase.plasticity)
        self.driver.run(float(phase.duration), progress)
        self.phases.append(phase)

    def compile(self, make: bool = True) -> None:
        """Generate and, with ``make``, compile the standalone project without running it (e.g. CUDA code on a machine
        with no GPU; with ``make`` False its sources only, in the cached project: ``info()["build"]["directory"]``)."""
        self.driver.compile(make)

    def complete(self) -> None:
        """A standalone device builds and runs its binary over every phase recorded so far (once); the runtime has
        nothing left to do."""
        self.driver.finish()

    @property
    def project(self) -> Any:
        """The standalone project (``None`` at runtime)."""
        return getattr(self.driver, "project", None)

    def recordings(self) -> neo.Block:
        """One segment per phase (the standalone binary is built and run first, once)."""
        from .recording import phase_segments

        self.driver.finish()
        assert self.network is not None
        return self.block(phase_segments(self.populations, self.network.populations, self.phases, self.network.dt))

    def connections(self, projection: str) -> Connections:
        """The projection's current weights (PyNN units) and delays (ms), sorted by (pre, post).

        A static projection's are the arrays it was loaded from: nothing in a run changes them
        (``tests/backends/test_brian2.py`` checks them against Brian2's readback), and reading them back from a
        standalone binary's output, then sorting, took 26 s of the microcircuit's 150M synapses at scale 0.5.
        """
        self.driver.finish()
        assert self.network is not None
        loaded = self.projections[projection]
        if loaded.data.synapse.type == "static" and loaded.data.tie is None:
            return loaded.as_loaded(self.network.dt)
        return loaded.read(self.network.dt)

    def weight_snapshots(self) -> dict[float, dict[str, Connections]]:
        """Weights at ``network.snapshot_times()`` run so far: recorded in the run, and at the end of the last phase."""
        assert self.network is not None
        if not self.network.weight_projections:
            return {}
        self.driver.finish()
        dt, now = self.network.dt, sum(float(p.duration) for p in self.phases)
        wanted = {round(float(t), 10) for t in self.network.snapshot_times() if t <= now + 1e-9}
        out: dict[float, dict[str, Connections]] = {}
        for name in self.network.weight_projections:
            recorded = self.projections[name].snapshots(dt)
            if round(now, 10) in wanted:
                recorded[round(now, 10)] = self.connections(name)
            for t, conns in recorded.items():
                if t in wanted:
                    out.setdefault(t, {})[name] = conns
        return dict(sorted(out.items()))

    def info(self) -> dict[str, Any]:
        """Simulator, device, versions, options, integration methods, clock and delay semantics of this run."""
        base = self.base_info()
        base["options"] |= self.driver.option_notes()
        device = self.driver.info()
        out: dict[str, Any] = {
            "simulator": base["simulator"],
            "device": device.pop("device"),
            "versions": base["versions"],
            "options": base["options"],
            "integration": dict(sorted(self.integration.items())),
            "clock": f"defaultclock, dt = {self.network.dt} ms" if self.network else None,
            "delay_semantics": {
                name: SEMANTICS[prj.data.synapse.delay_semantics] for name, prj in self.projections.items() if prj.rule is not None
            },
            "delays": "NEST's timing: a spike reaches its target d after NEST's stamp (sources' pathways run with d - dt)",
        }
        return out | device

    def end(self) -> None:
        """Release the device, PyNN's state and every Brian2 object of this network."""
        from . import simulator
        from .drivers import release_standalone_devices

        self.driver.end()
        if self.sim is not None:
            self.sim.end()
            simulator.release()
        # Brian2 names new objects after the live ones ("..._codeobject_1"): let this network's objects go, so
        # that a later network of the same structure generates the same code (and finds it compiled). PyNN's
        # populations never die (their cells, in a numpy object array, point back at them), so cut them loose.
        for population in self.populations.values():
            population.recorder._devices = {}
            population.brian2_group = None
        for group in self.shared:
            group.release()
        self.shared.clear()
        self.populations.clear()
        self.projections.clear()
        release_standalone_devices()  # the standalone devices' code objects too, then a collection
