"""Neo recordings from PyNN populations: one segment per phase, every population merged into it.

Spikes of all populations in a phase are kept as one array-backed ``neo.SpikeTrainList`` (channel id =
the population's offset in ``segment.annotations['channel_offsets']`` plus the cell index), so that
neither collecting nor pickling builds thousands of ``SpikeTrain`` objects: for 4,000 cells that alone
took 0.5 s. Neo builds the individual trains, annotated with ``population`` and ``source_index``, when
someone iterates over them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import neo
import numpy as np
import quantities as pq
from neo.core.spiketrainlist import SpikeTrainList

from ...models.network import PopulationData


def recorded_indices(pop: PopulationData) -> np.ndarray:
    """Indices of a population's recorded cells, in order."""
    assert pop.record is not None
    cells = pop.record.cells
    if cells == "all":
        return np.arange(pop.size)
    if isinstance(cells, int):
        return np.arange(cells)
    return np.asarray(sorted(cells))


def _spike_arrays(trains: Any, population: Any) -> tuple[np.ndarray, np.ndarray]:
    """(cell index, time in ms) of every spike in PyNN's spike trains of one population."""
    if isinstance(trains, SpikeTrainList) and getattr(trains, "_items", None) is None:
        ids, times = trains.multiplexed
        if len(ids) == 0:
            return np.empty(0, np.int64), np.empty(0)
        return np.asarray(population.id_to_index(np.asarray(ids)), dtype=np.int64), np.asarray(times.rescale(pq.ms).magnitude)
    index = [np.full(len(st), int(st.annotations["source_index"]), dtype=np.int64) for st in trains]
    times = [st.rescale(pq.ms).magnitude for st in trains]
    if not index:
        return np.empty(0, np.int64), np.empty(0)
    return np.concatenate(index), np.concatenate(times)


def collect_segment(
    populations: dict[str, Any],
    data: dict[str, PopulationData],
    phase: str,
    t_start: float,
    t_stop: float,
    signal_readers: dict[str, Callable[[float, float], list[neo.AnalogSignal]]] | None = None,
    spike_readers: dict[str, Callable[[float, float], tuple[np.ndarray, np.ndarray]]] | None = None,
) -> neo.Segment:
    """Read (and clear) what each recorded population holds, as one Neo segment named after the phase.

    ``signal_readers`` replaces PyNN's reading of analog signals for the populations it names, ``spike_readers``
    its reading of spikes (cell index and time in ms of each spike up to ``t_stop``).
    """
    segment = neo.Segment(name=phase)
    offsets: dict[str, int] = {}
    channels, times, all_ids, names, sources = [], [], [], [], []
    offset = 0
    for name, population in populations.items():
        pop = data[name]
        if pop.record is None:
            continue
        reader = (signal_readers or {}).get(name)
        spike_reader = (spike_readers or {}).get(name) if "spikes" in pop.record.variables else None
        if spike_reader is not None:
            idx, t = spike_reader(t_start, t_stop)
            channels.append(offset + idx)
            times.append(t)
        if reader is not None:
            segment.analogsignals.extend(reader(t_start, t_stop))
        wanted = [v for v in pop.record.variables if (v == "spikes" and spike_reader is None) or (v != "spikes" and reader is None)]
        every = len(wanted) == len(pop.record.variables)
        block = population.get_data(variables="all" if every else wanted, clear=True) if wanted else neo.Block()
        for seg in block.segments:
            if "spikes" in wanted:
                idx, t = _spike_arrays(seg.spiketrains, population)
                keep = t <= t_stop
                channels.append(offset + idx[keep])
                times.append(t[keep])
            for sig in seg.analogsignals:
                sig.annotations["population"] = name
                segment.analogsignals.append(sig)
        if "spikes" in pop.record.variables:
            cells = recorded_indices(pop)
            offsets[name] = offset
            all_ids.append(offset + cells)
            names.extend([name] * len(cells))
            sources.append(cells)
            offset += pop.size
    segment.annotations["channel_offsets"] = offsets
    if all_ids:
        segment.spiketrains = SpikeTrainList.from_spike_time_array(
            np.concatenate(times) * pq.ms,
            np.concatenate(channels),
            np.concatenate(all_ids),
            t_stop=t_stop * pq.ms,
            units="ms",
            t_start=t_start * pq.ms,
            population=np.array(names),
            source_index=np.concatenate(sources),
        )
        segment.spiketrains.segment = segment
    return segment
