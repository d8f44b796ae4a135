"""Spikes and analog signals read from NEST's recorders in one call per population.

PyNN's spike reader sorts the senders three times (``np.unique``, ``np.intersect1d``, ``np.isin``): its time grew
as spikes^1.16 on the microcircuit. :class:`SpikeReader` maps senders to cell indices by subtraction.

PyNN's reader asks NEST for each cell's initial value separately and appends samples one by one: for 100
cells at dt 0.25 ms it spent 5.9 s collecting 10 s of ``v`` that took 0.5 s to simulate. It also
overwrites the first sample of every segment after the first with the previous segment's last value, which
shifts the later samples by one step. Here every segment holds the samples at t_start, t_start + interval, ...,
t_stop - interval, as every backend's segments do (:mod:`spikebridge.backends.base`): the value at t_start is the
sample at the previous segment's t_stop, or the initial value, and the sample at the end of the last phase is
not kept.
"""

from __future__ import annotations

from typing import Any

import neo
import nest
import numpy as np
import quantities as pq
from nest import nestkernel_api

from ...models.network import PopulationData
from ..pynn.recording import recorded_indices


class SignalReader:
    """Reads (and clears) the multimeter of one population; create it after build, before the first run."""

    def __init__(self, population: Any, pop: PopulationData) -> None:
        assert pop.record is not None
        celltype = population.celltype
        self.name = pop.name
        self.variables = [v for v in pop.record.variables if v != "spikes"]
        self.index = recorded_indices(pop)
        ids = np.asarray(population.all_cells, dtype=np.int64)[self.index]
        self.nodes = nest.NodeCollection(sorted(ids.tolist()))
        self.nest_names = {v: celltype.variable_map[v] for v in self.variables}
        scales = getattr(celltype, "scale_factors", {})
        self.scale = {v: float(scales.get(v, 1.0)) for v in self.variables}
        self.units = {v: celltype.units[v] for v in self.variables}
        self.device = population.recorder._multimeter.device
        keys = ["senders", "times", *self.nest_names.values()]
        self.pending: dict[str, np.ndarray] = {k: np.empty(0) for k in keys}
        self.last = {
            v: np.atleast_1d(np.asarray(self.nodes.get(self.nest_names[v]), dtype=np.float64)) * self.scale[v] for v in self.variables
        }

    def read(self, t_start: float, t_stop: float) -> list[neo.AnalogSignal]:
        """The samples of one phase (``t_start`` <= t < ``t_stop``, ms) as one signal per variable."""
        if not self.variables:
            return []
        # every NodeCollection.get/set converts the device's whole event buffer: ask once, clear directly
        status = self.device.get(["events", "interval"])
        interval = float(status["interval"])
        events = {k: np.concatenate([self.pending[k], np.asarray(v)]) for k, v in status["events"].items() if k in self.pending}
        nestkernel_api.llapi_set_nc_status(self.device._datum, [{"n_events": 0}])
        # pyNN.nest keeps NEST one min_delay ahead; samples stamped after t_stop belong to the next phase
        later = events["times"] > t_stop + 1e-9
        self.pending = {k: v[later] for k, v in events.items()}
        events = {k: v[~later] for k, v in events.items()}
        senders = events["senders"].astype(np.int64)
        order = np.lexsort((senders, events["times"]))
        n = len(self.index)
        if len(senders) % n:
            raise RuntimeError(f"multimeter of {self.name!r} holds {len(senders)} samples, not a multiple of {n} cells")
        signals = []
        for v in self.variables:
            values = np.asarray(events[self.nest_names[v]], dtype=np.float64)[order].reshape(-1, n) * self.scale[v]
            matrix = np.vstack([self.last[v][None, :], values])
            self.last[v] = matrix[-1]  # the sample at t_stop opens the next segment
            matrix = matrix[:-1]
            sig = neo.AnalogSignal(
                matrix,
                units=self.units[v],
                sampling_period=interval * pq.ms,
                t_start=t_start * pq.ms,
                name=v,
                population=self.name,
                source_population=self.name,
            )
            sig.array_annotate(channel_index=self.index)
            signals.append(sig)
        return signals


class SpikeReader:
    """Reads (and clears) the spike recorder of one population; create it after build, before the first run."""

    def __init__(self, population: Any, pop: PopulationData) -> None:
        self.device = population.recorder._spike_detector.device
        self.state = population._simulator.state
        self.first_id = int(population.first_id)
        self.recorded = np.zeros(pop.size, dtype=bool)
        self.recorded[recorded_indices(pop)] = True
        self.pending = (np.empty(0, np.int64), np.empty(0))

    def read(self, t_start: float, t_stop: float) -> tuple[np.ndarray, np.ndarray]:
        """Cell index and time (ms) of the recorded cells' spikes up to ``t_stop`` (``t_start``: the phase's start)."""
        events = self.device.get("events")
        nestkernel_api.llapi_set_nc_status(self.device._datum, [{"n_events": 0}])
        index = np.concatenate([self.pending[0], np.asarray(events["senders"], dtype=np.int64) - self.first_id])
        times = np.concatenate([self.pending[1], np.asarray(events["times"], dtype=np.float64) - self.state._time_offset])
        # pyNN.nest keeps NEST one min_delay ahead: spikes after t_stop belong to the next phase
        later = times > t_stop + 1e-9
        self.pending = (index[later], times[later])
        index, times = index[~later], times[~later]
        keep = self.recorded[index]
        return index[keep], times[keep]
