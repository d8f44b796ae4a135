"""PyNN's current sources on standalone devices.

``pyNN.brian2`` changes ``i_inj`` from Python at the start of every step (a ``NetworkOperation``), which a
standalone binary cannot run. Here each ``run()`` on a standalone device gets, per target group, a ``TimedArray``
of the summed injected current of every source over that run's steps, applied at the start of each step as
the stock operation does; the amplitudes come from the sources' own schedules (``_times``/``_amplitudes``) and
waveforms (``_compute_amplitude``), applied as the stock operation applies them.
"""

from __future__ import annotations

import weakref
from typing import Any

import brian2
import numpy as np
from pyNN.brian2 import simulator

_IN_FORCE: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()
"""Each step-wise source's amplitude (nA) at the end of the last run scheduled."""


def amplitudes(source: Any, times: np.ndarray, dt: float) -> np.ndarray:
    """The current (nA) ``source`` injects during the steps starting at ``times`` (ms)."""
    if source.streamable:
        start, stop = (float(x / brian2.ms) for x in source._times[:2])
        out = np.zeros(len(times))
        for k in np.flatnonzero((times > start - dt / 2) & (times < stop - dt / 2)):
            out[k] = float(source._compute_amplitude(times[k] * brian2.ms) / brian2.nA)
        return out
    # as the stock operation: a change applies at its time; one already past when the schedule was set does not,
    # and the amplitude in force at the end of the previous run holds until this run's first change
    changes = np.array([float(t / brian2.ms) for t in source._times])
    values = np.array([float(a / brian2.nA) for a in source._amplitudes])
    first = np.searchsorted(changes, times[0] - dt / 2) if len(times) else 0
    last = np.searchsorted(changes, times + dt / 2, side="right") - 1
    out = np.where(last >= first, values[np.clip(last, 0, None)], _IN_FORCE.get(source, 0.0))
    if len(out):
        _IN_FORCE[source] = float(out[-1])
    return out


def schedule(t0: float, duration: float) -> tuple[list[Any], dict[str, Any]]:
    """Operations setting ``i_inj`` of every group a current source targets, for the run over [t0, t0 + duration) ms
    (added to the network, to be removed after the run), and the namespace the run resolves their tables in."""
    dt = simulator.state.dt
    times = t0 + dt * np.arange(int(round(duration / dt)))
    totals: dict[Any, np.ndarray] = {}
    for source in simulator.state.current_sources:
        if not source.cell_list:
            continue
        amplitude = amplitudes(source, times, dt)
        for cell, index in zip(source.cell_list, source.indices):
            group = cell.parent.brian2_group
            totals.setdefault(group, np.zeros((len(times), len(group))))[:, index] += amplitude
    operations, namespace = [], {}
    for k, (group, current) in enumerate(totals.items()):
        table, start = f"spikebridge_currents{k}", f"spikebridge_currents{k}_t0"
        namespace[table] = brian2.TimedArray(current * brian2.nA, dt=dt * brian2.ms, name=f"{group.name}_currents_table*")
        namespace[start] = t0 * brian2.ms
        operation = group.run_regularly(f"i_inj = {table}(t - {start}, i)", when="start", name=f"{group.name}_currents*")
        simulator.state.network.add(operation)
        operations.append(operation)
    return operations, namespace


def reset() -> None:
    """After ``reset()`` no amplitude is in force: each source's schedule starts again from t = 0."""
    _IN_FORCE.clear()
