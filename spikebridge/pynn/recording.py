"""``pyNN.brian2``'s recorder, fit for every device: monitors on ``defaultclock`` with valid, creation-order names,
any subset of the recorded cells readable, data read only once the device has simulated."""

from __future__ import annotations

import re
from typing import Any

import brian2
import numpy as np
from pyNN.brian2 import simulator
from pyNN.brian2.recording import Recorder as StockRecorder

from . import device


class Recorder(StockRecorder):
    __doc__ = StockRecorder.__doc__

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
        monitor = self._devices[variable.name]
        translations = self.population.celltype.state_variable_translations[variable.name]
        raw = getattr(monitor, translations["translated_name"])[np.searchsorted(recorded, wanted)].T
        values = np.asarray(translations["reverse_transform"](**{translations["translated_name"]: raw}))
        initial = np.asarray(self.population.initial_values[variable.name][self.population.id_to_index(wanted)])
        if clear:
            monitor.resize(0)
        return np.vstack([np.broadcast_to(initial, (1, len(wanted))), values.reshape(-1, len(wanted))]), None

    def get(self, *args: Any, **kwargs: Any) -> Any:
        """PyNN's ``get`` (recorded data as Neo), once the device has simulated."""
        device.active().before_read()
        return super().get(*args, **kwargs)

    def count(self, *args: Any, **kwargs: Any) -> Any:
        """PyNN's ``count`` (spike counts per cell), once the device has simulated."""
        device.active().before_read()
        return super().count(*args, **kwargs)
