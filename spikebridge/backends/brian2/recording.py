"""Recording through PyNN's recorders, with named monitors on the model's clock, cut into one segment per phase.

A standalone device has no data until its binary has run, after the last phase; so every backend variant
records the whole run and cuts PyNN's single Neo segment into phases afterwards.
"""

from __future__ import annotations

from typing import Any

import brian2
import neo
import numpy as np
import quantities as pq
from neo.core.spiketrainlist import SpikeTrainList
from pyNN.brian2 import simulator
from pyNN.brian2.recording import Recorder as PyNNRecorder

from ...models.network import PopulationData
from ...models.schema import Phase
from ..pynn.recording import _spike_arrays, recorded_indices


class Recorder(PyNNRecorder):
    """PyNN's recorder with monitors named after their group (so generated code does not depend on creation
    order) and sampled on ``defaultclock`` (an extra clock only for a coarser sampling interval).

    A sample stamped t holds the state at time t, as NEST's multimeter does. Every step: at the end of each step,
    with the initial value put first (PyNN's way). A coarser interval: at the start of the step that begins at t, on
    a clock ticking every interval from 0. PyNN's way would stamp there the state one interval late (it samples at the
    end of the steps that begin at 0, I, 2I, ... and shifts each by one interval to make room for the initial value).
    """

    def _steps(self) -> int:
        """Steps per sample."""
        return round(self.sampling_interval / simulator.state.dt)

    def _create_device(self, group: Any, variable: Any) -> None:
        name = f"{group.name}_{variable.name}"
        if variable.name == "spikes":
            device = brian2.SpikeMonitor(group, record=True, name=name)
        else:
            translations = self.population.celltype.state_variable_translations
            varname = translations[variable.name]["translated_name"]
            cells = np.sort(np.fromiter(self.recorded[variable], dtype=int)) - self.population.first_id
            if self._steps() > 1:
                clock = brian2.Clock(self._steps() * brian2.defaultclock.dt, name=f"{name}_clock")
                # order -1: before anything else in the step's start slot (e.g. injected currents' updates)
                device = brian2.StateMonitor(group, varname, record=cells, when="start", order=-1, clock=clock, name=name)
            else:
                device = brian2.StateMonitor(group, varname, record=cells, when="end", clock=brian2.defaultclock, name=name)
        self._devices[variable.name] = device
        simulator.state.network.add(device)

    def _get_all_signals(self, variable: Any, ids: Any, clear: bool = False) -> tuple[np.ndarray, None]:
        values, times = super()._get_all_signals(variable, ids, clear)
        # a coarse monitor's first sample is the initial state already: drop PyNN's prepended copy
        return (values[1:], times) if self._steps() > 1 else (values, times)


def phase_segments(populations: dict[str, Any], data: dict[str, PopulationData], phases: list[Phase], dt: float) -> list[neo.Segment]:
    """One segment per phase from everything recorded so far, in the layout of the other backends: the spikes of
    all populations in one array-backed ``SpikeTrainList`` (channel = ``channel_offsets[population]`` + cell).

    Brian2 stamps a spike with the start of the step in which the threshold was crossed, NEST (and the
    source arrays) with its end; cells' spike times are moved to the end of the step, so both simulators
    report the same times and a phase (t0, t1] holds the spikes of its own steps.
    """
    bounds = np.concatenate([[0.0], np.cumsum([float(p.duration) for p in phases])])
    segments = [neo.Segment(name=p.name) for p in phases]
    offsets: dict[str, int] = {}
    spikes: list[tuple[str, np.ndarray, np.ndarray, np.ndarray, bool]] = []
    offset = 0
    for name, population in populations.items():
        pop = data[name]
        if pop.record is None:
            continue
        whole = population.get_data().segments[0]
        if "spikes" in pop.record.variables:
            idx, times = _spike_arrays(whole.spiketrains, population)
            shift = 0.0 if pop.is_source else dt
            spikes.append((name, idx + offset, np.round(times + shift, 9), offset + recorded_indices(pop), pop.is_source))
            offsets[name] = offset
            offset += pop.size
        for sig in whole.analogsignals:
            start = float(sig.t_start.rescale(pq.ms).magnitude)
            period = float(sig.sampling_period.rescale(pq.ms).magnitude)
            # a phase holds its samples t_start <= t < t_stop, as every backend's segments do; the sample at the end
            # of the run opens no phase and is left out
            edges = np.rint((bounds - start) / period).astype(int)
            for k, segment in enumerate(segments):
                part = sig[max(edges[k], 0) : edges[k + 1]]
                part.annotations.update(sig.annotations, population=name)
                segment.analogsignals.append(part)
    for k, segment in enumerate(segments):
        t0, t1 = bounds[k], bounds[k + 1]
        segment.annotations["channel_offsets"] = dict(offsets)
        if not spikes:
            continue
        kept_channels: list[np.ndarray] = []
        kept_times: list[np.ndarray] = []
        for _, ids, t, _, is_source in spikes:
            keep = (t >= t0 - 1e-9) & (t < t1 - 1e-9) if is_source else (t > t0 + 1e-9) & (t <= t1 + 1e-9)
            kept_channels.append(ids[keep])
            kept_times.append(t[keep])
        segment.spiketrains = SpikeTrainList.from_spike_time_array(
            np.concatenate(kept_times) * pq.ms,
            np.concatenate(kept_channels),
            np.concatenate([s[3] for s in spikes]),
            t_stop=t1 * pq.ms,
            units="ms",
            t_start=t0 * pq.ms,
            population=np.concatenate([np.full(len(s[3]), s[0]) for s in spikes]),
            source_index=np.concatenate([s[3] - offsets[s[0]] for s in spikes]),
        )
        segment.spiketrains.segment = segment
    return segments
