"""A backend with no simulator, for testing what sits above the backends (runner, run directory, sweeps) and the
backend contract itself. It is not registered by default: ``backends.register("mock", MockBackend)``.

Everything is computed in numpy from the network's arrays, deterministically:

* spike sources fire at their drawn times;
* a cell fires at the arrival time (rounded to the dt grid) of every spike that reaches it from a spike source
  through a projection with a positive weight (recurrent projections carry nothing);
* a plastic projection's weight moves by ``ETA`` x (w_max - w_min) at each pre spike (source pre only) in a
  plastic phase, clipped to [w_min, w_max]; static weights never change;
* ``v`` (mV) is -65 plus 1 per spike arrival in the last 5 ms, ``gsyn_exc`` (uS) 0.001 per such arrival,
  ``gsyn_inh`` (uS) 0; current sources are ignored.

Recordings, connections, weight snapshots and ``info()`` have the same form as a real backend's.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any, ClassVar

import neo
import numpy as np
import quantities as pq
from neo.core.spiketrainlist import SpikeTrainList
from pydantic import BaseModel, ConfigDict, Field

from ..errors import BackendError
from ..models.network import Network, ProjectionData
from ..models.schema import Phase
from .base import Connections, Progress
from .pynn.options import PositiveInt

ETA = 0.01
"""Weight change per pre spike, as a fraction of w_max - w_min."""
SIGNALS: dict[str, tuple[str, float, float]] = {"v": ("mV", -65.0, 1.0), "gsyn_exc": ("uS", 0.0, 0.001), "gsyn_inh": ("uS", 0.0, 0.0)}
"""Recordable signals: unit, resting value, increment per arrival in the last ``WINDOW`` ms."""
WINDOW = 5.0
"""ms of arrivals that a signal sample counts."""


class MockOptions(BaseModel):
    """Options of ``mock``: ``threads`` (accepted as a simulator's would be, and ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threads: PositiveInt = Field(1, description="accepted and ignored")


def _recorded(size: int, cells: Any) -> np.ndarray:
    if cells == "all":
        return np.arange(size)
    if isinstance(cells, int):
        return np.arange(cells)
    return np.asarray(sorted(cells), dtype=np.int64)


class MockBackend:
    """Deterministic spikes, signals and weights from the network's arrays; see the module's docstring."""

    name: ClassVar[str] = "mock"
    variants: ClassVar[tuple[str | None, ...]] = (None,)
    exercised: ClassVar[tuple[str | None, ...]] = ()
    Options: ClassVar[type[MockOptions]] = MockOptions

    @classmethod
    def packages(cls, variant: str | None) -> tuple[str, ...]:
        """numpy computes everything."""
        return ("numpy",)

    @classmethod
    def prepare(cls, variant: str | None) -> None:
        """Nothing to refuse: numpy is always there."""

    @classmethod
    def create(cls, variant: str | None, options: BaseModel) -> MockBackend:
        """A fresh mock backend."""
        assert isinstance(options, MockOptions)
        return cls(options)

    def __init__(self, options: MockOptions) -> None:
        self.label = self.name
        self.options = options
        self.network: Network | None = None
        self.t = 0.0
        self.segments: list[neo.Segment] = []
        self.weights: dict[str, np.ndarray] = {}
        self.snapshots: dict[float, dict[str, Connections]] = {}
        self.arrivals: dict[str, list[np.ndarray]] = {}
        self.ended = False

    def build(self, network: Network) -> None:
        """Check what is recorded and compute every cell's input arrival times (ms) from the sources."""
        for pop in network.populations.values():
            unknown = [v for v in (pop.record.variables if pop.record else []) if v != "spikes" and v not in SIGNALS]
            if unknown:
                raise BackendError(f"recording.{pop.name}: the mock backend records spikes, {', '.join(SIGNALS)}, not {unknown}")
        for inp in network.inputs.values():
            raise BackendError(f"stimuli.{inp.name}: the mock backend has no Poisson background (poisson_input); use nest or brian2")
        for prj in network.projections.values():
            if prj.tie is not None:
                raise BackendError(f"projections.{prj.name}.tie: the mock backend has no weight ties; use nest or brian2")
        self.network = network
        self.weights = {name: np.array(p.weight, dtype=np.float64) for name, p in network.projections.items()}
        dt = network.dt
        for name, pop in network.populations.items():
            if pop.is_source:
                continue
            per_cell: list[list[np.ndarray]] = [[] for _ in range(pop.size)]
            for prj in network.projections.values():
                source = network.populations[prj.pre]
                if prj.post != name or not source.is_source or prj.receptor == "inhibitory":
                    continue
                assert source.spike_times is not None
                for pre, post, w, d in zip(prj.pre_idx, prj.post_idx, prj.weight, prj.delay, strict=True):
                    if w > 0:
                        per_cell[int(post)].append(np.asarray(source.spike_times[int(pre)]) + float(d))
            self.arrivals[name] = [np.unique(np.round(np.concatenate(t) / dt) * dt) if t else np.empty(0) for t in per_cell]

    def _spikes(self, name: str, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        """(cell index, time in ms) of the spikes of one population in this phase."""
        assert self.network is not None
        pop = self.network.populations[name]
        if pop.is_source:
            assert pop.spike_times is not None
            trains = [np.asarray(t) for t in pop.spike_times]
            keep = [(t >= t0 - 1e-9) & (t < t1 - 1e-9) for t in trains]
        else:
            trains = self.arrivals[name]
            keep = [(t > t0 + 1e-9) & (t <= t1 + 1e-9) for t in trains]
        idx = np.concatenate([np.full(int(k.sum()), i, dtype=np.int64) for i, k in enumerate(keep)] or [np.empty(0, np.int64)])
        times = np.concatenate([t[k] for t, k in zip(trains, keep, strict=True)] or [np.empty(0)])
        return idx, np.round(times, 9)

    def _pre_spikes(self, prj: ProjectionData, t0: float, t1: float) -> np.ndarray:
        """Number of spikes each synapse's pre cell fired in [t0, t1) ms (0 for cells that are no source)."""
        assert self.network is not None
        source = self.network.populations[prj.pre]
        if not source.is_source:
            return np.zeros(len(prj), dtype=np.int64)
        assert source.spike_times is not None
        counts = np.array([np.count_nonzero((np.asarray(t) >= t0) & (np.asarray(t) < t1)) for t in source.spike_times], dtype=np.int64)
        return counts[prj.pre_idx] if len(counts) else np.zeros(len(prj), dtype=np.int64)

    def _advance_weights(self, t0: float, t1: float) -> None:
        assert self.network is not None
        for name, prj in self.network.projections.items():
            dep = prj.synapse.weight_dependence
            if prj.synapse.type != "stdp" or dep is None:
                continue
            w_min, w_max = float(dep.w_min), float(dep.w_max)
            self.weights[name] = np.clip(self.weights[name] + ETA * (w_max - w_min) * self._pre_spikes(prj, t0, t1), w_min, w_max)

    def _snapshot(self, t: float) -> None:
        assert self.network is not None
        self.snapshots[round(t, 10)] = {name: self.connections(name) for name in self.network.weight_projections}

    def _signals(self, name: str, t0: float, t1: float) -> list[neo.AnalogSignal]:
        assert self.network is not None
        pop = self.network.populations[name]
        assert pop.record is not None
        interval = float(pop.record.sampling_interval or self.network.dt)
        n = int(round((t1 - t0) / interval))
        times = t0 + interval * np.arange(n)
        cells = _recorded(pop.size, pop.record.cells)
        arrivals = self.arrivals.get(name, [np.empty(0)] * pop.size)
        counts = np.stack([
            np.searchsorted(arrivals[c], times + 1e-9, side="right") - np.searchsorted(arrivals[c], times - WINDOW + 1e-9, side="right")
            for c in cells
        ], axis=1) if len(cells) else np.zeros((n, 0))
        out = []
        for variable in pop.record.variables:
            if variable == "spikes":
                continue
            unit, rest, step = SIGNALS[variable]
            sig = neo.AnalogSignal(float(rest) + float(step) * counts, units=unit, sampling_period=interval * pq.ms, t_start=t0 * pq.ms,
                                   name=variable, population=name, source_population=name)
            sig.array_annotate(channel_index=cells)
            out.append(sig)
        return out

    def run(self, phase: Phase, progress: Progress | None = None) -> None:
        """Compute one phase's spikes, signals and weights."""
        if self.network is None:
            raise BackendError("build() the network before running it")
        if self.ended:
            raise BackendError("the mock backend has ended")
        t0, t1 = self.t, self.t + float(phase.duration)
        snaps = self.network.snapshot_times()
        if t0 == 0.0 and 0.0 in snaps:
            self._snapshot(0.0)
        done = t0
        for t in [*snaps[(snaps > t0 + 1e-9) & (snaps <= t1 + 1e-9)], t1]:
            if phase.plasticity:
                self._advance_weights(done, float(t))
            done = float(t)
            if any(abs(done - s) < 1e-9 for s in snaps):
                self._snapshot(done)
        self.t = t1
        segment = neo.Segment(name=phase.name)
        offsets: dict[str, int] = {}
        channels, times, ids, names, sources = [], [], [], [], []
        offset = 0
        for name, pop in self.network.populations.items():
            if pop.record is None:
                continue
            segment.analogsignals.extend(self._signals(name, t0, t1))
            if "spikes" not in pop.record.variables:
                continue
            cells = _recorded(pop.size, pop.record.cells)
            idx, t = self._spikes(name, t0, t1)
            keep = np.isin(idx, cells)
            channels.append(offset + idx[keep])
            times.append(t[keep])
            offsets[name] = offset
            ids.append(offset + cells)
            names.extend([name] * len(cells))
            sources.append(cells)
            offset += pop.size
        segment.annotations["channel_offsets"] = offsets
        if ids:
            segment.spiketrains = SpikeTrainList.from_spike_time_array(
                np.concatenate(times) * pq.ms, np.concatenate(channels), np.concatenate(ids), t_stop=t1 * pq.ms, units="ms",
                t_start=t0 * pq.ms, population=np.array(names), source_index=np.concatenate(sources),
            )
            segment.spiketrains.segment = segment
        self.segments.append(segment)
        if progress is not None:
            progress(float(phase.duration))

    def complete(self) -> None:
        """Every phase was computed in :meth:`run`."""

    def recordings(self) -> neo.Block:
        """One segment per phase run so far."""
        block = neo.Block(name=self.network.model.name if self.network else "")
        block.segments.extend(self.segments)
        return block

    def connections(self, projection: str) -> Connections:
        """The drawn connectivity with the current weights, sorted by (pre, post)."""
        assert self.network is not None
        prj = self.network.projections[projection]
        pre, post = np.asarray(prj.pre_idx, dtype=np.int64), np.asarray(prj.post_idx, dtype=np.int64)
        return Connections(pre, post, self.weights[projection].copy(), np.asarray(prj.delay, dtype=np.float64)).sorted()

    def weight_snapshots(self) -> dict[float, dict[str, Connections]]:
        """Weights of ``network.weight_projections`` at each snapshot time run so far."""
        return dict(self.snapshots)

    def info(self) -> dict[str, Any]:
        """What ran: no simulator, numpy's version, the options."""
        return {
            "simulator": "mock (no simulator: spikes, signals and weights computed in numpy)",
            "versions": {"numpy": version("numpy")},
            "options": self.options.model_dump(),
            "integration": {},
        }

    def end(self) -> None:
        """Nothing to release; the instance refuses further phases."""
        self.ended = True
