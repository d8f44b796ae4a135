"""``pyNN.brian2``'s recorder, fit for every device: monitors on ``defaultclock`` with valid, creation-order names,
any subset of the recorded cells readable, data read only once the device has simulated.

On a standalone device ``reset()`` cannot read the segment it closes (the binary has not run yet): the segment's
monitors stop recording, new ones record the next segment, and the closed one is read from its own monitors when
data are first asked for.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import brian2
import numpy as np
import quantities as pq
from pyNN.brian2 import simulator
from pyNN.brian2.recording import Recorder as StockRecorder

from . import device


@dataclass(eq=False)  # PyNN's cache skips an entry equal to one it holds
class _Closed:
    """A segment closed by ``reset()`` on a standalone device, to be read from its monitors once it has run."""

    devices: dict[str, Any]
    recorded: dict[Any, set[Any]]
    start: Any
    stop: float
    counter: int
    initial: dict[str, np.ndarray]
    """The recorded variables' initial values at the ``reset()`` (``initialize()`` may change them after)."""
    sampling_interval: float
    annotations: dict[str, Any] = field(default_factory=dict)


class Recorder(StockRecorder):
    __doc__ = StockRecorder.__doc__
    _devices: dict[str, Any]
    recorded: Any
    clear_flag: bool
    _recording_start_time: Any
    sampling_interval: float
    _closed_initial: dict[str, np.ndarray] | None = None

    def _create_device(self, group: Any, variable: Any) -> None:
        # "name*": Brian2 numbers repeats (a reset records anew); composed cell types' variables hold dots
        name = re.sub(r"\W", "_", f"{group.name}_{variable.name}") + "*"
        if variable.name == "spikes":
            monitor = brian2.SpikeMonitor(group, record=True, name=name)
        else:
            varname = self.population.celltype.state_variable_translations[variable.name]["translated_name"]
            cells = np.sort(np.fromiter(self.recorded[variable], dtype=int)) - self.population.first_id
            step = round(self.sampling_interval / simulator.state.dt)
            clock = brian2.defaultclock if step == 1 else brian2.Clock(step * brian2.defaultclock.dt, name=f"{name[:-1]}_clock*")
            monitor = brian2.StateMonitor(group, varname, record=cells, when="end", clock=clock, name=name)
        self._devices[variable.name] = monitor
        simulator.state.network.add(monitor)

    def _get_all_signals(self, variable: Any, ids: Any, clear: bool = False) -> tuple[np.ndarray, None]:
        """Signals of the requested cells (any subset of those recorded, in the order asked), with the initial
        value first (the monitors sample at the end of each step)."""
        recorded = np.sort(np.fromiter(self.recorded[variable], dtype=int))
        wanted = np.asarray(list(ids), dtype=int)
        if not np.isin(wanted, recorded).all():
            raise Exception("You are requesting data from neurons that have not been recorded")
        initial_values = self._closed_initial or self.population.initial_values
        initial = np.asarray(initial_values[variable.name][self.population.id_to_index(wanted)])
        first = np.broadcast_to(initial, (1, len(wanted)))
        if variable.name not in self._devices:  # cleared on a standalone device, and not run since
            return np.array(first), None
        monitor = self._devices[variable.name]
        translations = self.population.celltype.state_variable_translations[variable.name]
        raw = getattr(monitor, translations["translated_name"])[np.searchsorted(recorded, wanted)].T
        values = np.asarray(translations["reverse_transform"](**{translations["translated_name"]: raw}))
        if clear and not device.active().standalone:  # standalone: get() ends with clear(), which closes the monitors
            monitor.resize(0)
        return np.vstack([first, values.reshape(-1, len(wanted))]), None

    def _get_spiketimes(self, requested_ids: Any, clear: bool = False) -> tuple[np.ndarray, np.ndarray]:
        if "spikes" not in self._devices:  # cleared on a standalone device, and not run since
            return np.empty(0, dtype=int), np.empty(0)
        return super()._get_spiketimes(requested_ids, clear)

    def _local_count(self, variable: Any, filter_ids: Any = None) -> dict[int, int]:
        if "spikes" not in self._devices:
            return {int(i): 0 for i in self.filter_recorded(variable, filter_ids)}
        return super()._local_count(variable, filter_ids)

    def _clear_simulator(self) -> None:
        """Forget the data recorded so far; a standalone device closes its monitors (Brian2 cannot empty a 2-D
        monitor array in standalone code) and records on into new ones from the next run."""
        if not device.active().standalone:
            super()._clear_simulator()
            return
        for monitor in self._devices.values():
            monitor.active = False
        self._devices = {}

    def store_to_cache(self, annotations: dict[str, Any] | None = None) -> None:
        """At ``reset()``: keep the segment it closes; on a standalone device, close its monitors for later reading."""
        if not device.active().standalone:
            super().store_to_cache(annotations)
            return
        state = simulator.state
        if state.t != 0 and not self.clear_flag:
            recorded = defaultdict(set, {variable: set(ids) for variable, ids in self.recorded.items()})
            everyone = np.arange(self.population.size)
            initial = {name: np.array(self.population.initial_values[name][everyone]) for name in self._devices if name != "spikes"}
            closed = _Closed(
                dict(self._devices), recorded, self._recording_start_time, state.t, state.segment_counter, initial, self.sampling_interval
            )
            closed.annotations.update(annotations or {})
            self.cache.store(closed)
        for monitor in self._devices.values():
            monitor.active = False
        self._devices = {}
        self.clear_flag = False
        self._recording_start_time = 0.0 * pq.ms

    def _read_closed(self) -> None:
        """Replace each closed segment in the cache by its data (the device has simulated)."""
        state = simulator.state
        for k, item in enumerate(self.cache._data):
            if not isinstance(item, _Closed):
                continue
            now = (self._devices, self.recorded, self._recording_start_time, self.sampling_interval, state.segment_counter)
            self._devices, self.recorded, self._recording_start_time = item.devices, item.recorded, item.start
            self.sampling_interval, self._closed_initial = item.sampling_interval, item.initial
            state.segment_counter, state.t_override = item.counter, item.stop
            try:
                segment = self._get_current_segment()
            finally:
                self._devices, self.recorded, self._recording_start_time, self.sampling_interval, state.segment_counter = now
                state.t_override, self._closed_initial = None, None
            segment.annotate(**item.annotations)
            self.cache._data[k] = segment

    def get(self, *args: Any, **kwargs: Any) -> Any:
        """PyNN's ``get`` (recorded data as Neo), once the device has simulated."""
        device.active().before_read()
        self._read_closed()
        return super().get(*args, **kwargs)

    def count(self, *args: Any, **kwargs: Any) -> Any:
        """PyNN's ``count`` (spike counts per cell), once the device has simulated."""
        device.active().before_read()
        return super().count(*args, **kwargs)
