"""The Brian2 backend: ``pyNN.brian2`` cell types, translation and recorders; connections loaded in bulk; runtime,
C++ standalone or CUDA standalone devices; NEST's STDP meaning."""

from __future__ import annotations

import gc
import logging
import warnings
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import neo

from ...errors import BackendError
from ...models.network import Network
from ...models.schema import Phase
from ..base import Connections, Progress, positive_int_option
from ..common.cells import inject_current, setup_recording
from . import cells, connections, recording, simulator, standalone
from .connections import brian2_name
from .populations import create_population

OPTIONS = {"threads", "method", "build_dir", "compile_jobs", "compute_capability"}
SEMANTICS = {
    "dendritic": "dendritic (NEST's): the rule sees the pre spike at t_pre and the post spike at t_post + d",
    "axonal": "axonal: the rule sees the pre spike at t_pre + d and the post spike at t_post",
}
DEVICE_NAMES = {None: "runtime (Cython code generation)", "cpp": "cpp_standalone", "cuda": "cuda_standalone (brian2cuda)"}


class Brian2Backend:
    """Options: ``method`` (a Brian2 integration method for every cell type, or a table ``{cell_type: method}``;
    default: Brian2's first fitting of exact, euler, heun), ``threads`` (OpenMP threads of ``brian2:cpp``),
    ``build_dir`` (root of the compiled-code cache of the standalone variants, default
    ``~/.cache/spikebridge/brian2``), ``compile_jobs`` (parallel ``make`` jobs, default 2),
    ``compute_capability`` (``brian2:cuda``: the GPU architecture to compile for where no GPU can be asked)."""

    def __init__(self, variant: str | None, options: Mapping[str, Any]) -> None:
        if variant not in standalone.DEVICES:
            raise BackendError(f"backend 'brian2' has no variant {variant!r}; use 'brian2', 'brian2:cpp' or 'brian2:cuda'")
        unknown = set(options) - OPTIONS
        if unknown:
            raise BackendError(f"unknown brian2 backend option(s) {sorted(unknown)}; known: {sorted(OPTIONS)}")
        if variant == "cuda":
            standalone.import_brian2cuda()
        self.variant = variant
        self.name = "brian2" if variant is None else f"brian2:{variant}"
        self.options = dict(options)
        self.threads = positive_int_option("brian2", self.options, "threads", 1)
        self.compile_jobs = positive_int_option("brian2", self.options, "compile_jobs", 2)
        self.methods = self._methods(self.options.get("method"))
        self.cache_root = Path(self.options["build_dir"]).expanduser() if "build_dir" in self.options else standalone.default_cache_root()
        self.network: Network | None = None
        self.populations: dict[str, Any] = {}
        self.projections: dict[str, connections.Projection] = {}
        self.phases: list[Phase] = []
        self.integration: dict[str, str] = {}
        self.project: standalone.Project | None = None
        self.built = False

    @staticmethod
    def _methods(method: Any) -> dict[str, str | tuple[str, ...]]:
        table: dict[str, str | tuple[str, ...]] = {c: cells.DEFAULT_METHODS for c in cells.SPIKING}
        if method is None:
            return table
        if isinstance(method, str):
            return dict.fromkeys(table, method)
        if isinstance(method, Mapping):
            unknown = set(method) - set(table)
            if unknown:
                raise BackendError(f"brian2 option 'method' names unknown cell type(s) {sorted(unknown)}; known: {sorted(table)}")
            return table | {k: str(v) for k, v in method.items()}
        raise BackendError(f"brian2 option 'method' must be a method name or a table of cell type -> method, got {method!r}")

    @property
    def is_standalone(self) -> bool:
        return self.variant is not None

    def build(self, network: Network) -> None:
        warnings.filterwarnings("ignore", module=r"pyNN(\..*)?")
        logging.getLogger("PyNN").setLevel(logging.ERROR)
        if self.is_standalone and network.currents:
            raise BackendError(
                f"{self.name} cannot inject currents ({', '.join(sorted(network.currents))}): pyNN.brian2 drives current "
                "sources from Python at every step, which a standalone binary cannot do; use backend 'brian2'"
            )
        standalone.activate(self.variant, self.threads, self.compile_jobs, self.options.get("compute_capability"))
        import brian2
        import pyNN.brian2 as sim

        self.sim = sim
        self.network = network
        dt = network.dt
        brian2.seed(network.seed)
        max_delay = max((float(p.delay.max()) for p in network.projections.values() if len(p)), default=dt)
        simulator.setup(sim, dt, max(max_delay, 2 * dt))
        for k, (name, pop) in enumerate(network.populations.items()):
            method = self.methods.get(pop.cell_type, cells.DEFAULT_METHODS)
            population = create_population(sim, pop, brian2_name("pop", k, name), method)
            self.populations[name] = population
            if not pop.is_source:
                self.integration[pop.cell_type] = self._describe(population.brian2_group, method)
        for k, (name, prj) in enumerate(network.projections.items()):
            pre = self.populations[prj.pre]
            self.projections[name] = connections.create(
                k, prj, pre, self.populations[prj.post], dt, network.populations[prj.pre].is_source
            )
            simulator.simulator.state.network.add(self.projections[name].synapses)
        spec = network.model.record_weights
        if spec is not None and spec.interval != "end":
            for name in network.weight_projections:
                simulator.simulator.state.network.add(self.projections[name].record_weights(float(spec.interval)))
        if network.currents:
            simulator.add_current_updates()
            for cur in network.currents.values():
                inject_current(sim, self.populations[cur.target], cur)
        for name, pop in network.populations.items():
            setup_recording(self.populations[name], pop, dt)
        if self.is_standalone:
            settings = {"threads": self.threads, "methods": {c: self.methods[c] for c in sorted(self.integration)},
                        "compute_capability": self.options.get("compute_capability")}
            key = standalone.structure_key(network, self.variant, settings)
            self.project = standalone.Project(self.cache_root / key)

    @staticmethod
    def _describe(group: Any, method: str | tuple[str, ...]) -> str:
        chosen = cells.chosen_method(group, method)
        if isinstance(method, str):
            return f"{chosen} (requested)"
        return f"{chosen} (Brian2's first fitting of {', '.join(method)}; choose with option 'method')"

    def run(self, phase: Phase, progress: Progress | None = None) -> None:
        if self.network is None:
            raise BackendError("build() the network before running it")
        if self.built:
            raise BackendError(
                f"{self.name} has already built and run its binary (results were read); run every phase before reading results"
            )
        for prj in self.projections.values():
            prj.set_plasticity(phase.plasticity)
        duration = float(phase.duration)
        simulator.run(duration, None if self.is_standalone else progress)
        if self.is_standalone and progress is not None:
            progress(duration)  # the binary simulates every phase later, when results are first read
        self.phases.append(phase)

    def compile(self) -> None:
        """Generate and compile the standalone project without running it (e.g. CUDA code on a machine with no GPU)."""
        if not self.is_standalone or self.project is None:
            raise BackendError(f"{self.name} compiles nothing ahead: only the standalone variants have a project to build")
        self._finalize_runs()
        self.project.build(run=False)

    def _finalize_runs(self) -> None:
        if not self.phases:
            simulator.run(0.0)  # a standalone project needs one run to hold the network

    def _results(self) -> None:
        """Build and run the standalone binary once, before results are first read."""
        if not self.is_standalone or self.built:
            return
        assert self.project is not None
        self._finalize_runs()
        self.project.build(run=True)
        self.built = True

    def recordings(self) -> neo.Block:
        self._results()
        assert self.network is not None
        block = neo.Block(name=self.network.model.name)
        block.segments.extend(recording.phase_segments(self.populations, self.network.populations, self.phases, self.network.dt))
        return block

    def connections(self, projection: str) -> Connections:
        self._results()
        assert self.network is not None
        return self.projections[projection].read(self.network.dt)

    def weight_snapshots(self) -> dict[float, dict[str, Connections]]:
        """Weights at ``network.snapshot_times()`` run so far: recorded in the run, and at the end of the last phase."""
        assert self.network is not None
        if not self.network.weight_projections:
            return {}
        self._results()
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
        versions: dict[str, str | None] = {}
        for package in ("brian2", "PyNN", "brian2cuda"):
            try:
                versions[package] = version(package)
            except PackageNotFoundError:
                versions[package] = None
        out: dict[str, Any] = {
            "simulator": "Brian2",
            "device": DEVICE_NAMES[self.variant],
            "versions": versions,
            "options": {"threads": self.threads, "compile_jobs": self.compile_jobs, **{k: v for k, v in self.options.items() if k not in ("threads", "compile_jobs")}},
            "integration": dict(sorted(self.integration.items())),
            "clock": f"defaultclock, dt = {self.network.dt} ms" if self.network else None,
            "delay_semantics": {
                name: SEMANTICS[prj.data.synapse.delay_semantics] for name, prj in self.projections.items() if prj.rule is not None
            },
            "delays": "NEST's timing: a spike reaches its target d after NEST's stamp (sources' pathways run with d - dt)",
        }
        if self.variant == "cpp":
            out["openmp_threads"] = self.threads
        elif self.threads != 1:
            out["options"]["threads"] = f"{self.threads} (ignored: only brian2:cpp runs OpenMP threads)"
        if self.project is not None:
            out["build"] = {"directory": str(self.project.directory), **{k: round(v, 3) for k, v in self.project.timings.items()}}
        return out

    def end(self) -> None:
        if self.project is not None:
            self.project.clean_results()
        if hasattr(self, "sim"):
            self.sim.end()
            simulator.release()
        # Brian2 names new objects after the live ones ("..._codeobject_1"): let this network's objects go, so
        # that a later network of the same structure generates the same code (and finds it compiled). PyNN's
        # populations never die (their cells, in a numpy object array, point back at them), so cut them loose.
        for population in self.populations.values():
            population.recorder._devices = {}
            population.brian2_group = None
        self.populations.clear()
        self.projections.clear()
        gc.collect()


def create(variant: str | None, options: Mapping[str, Any]) -> Brian2Backend:
    return Brian2Backend(variant, options)
