"""Synaptic values a ``run()`` callback reads on a standalone device, answered once the binary has run.

A callback such as PyNN's ``simple_STDP.py`` ``WeightRecorder`` reads ``Projection.get(..., format="list")`` every
step and keeps what it gets for later. On a standalone device nothing is simulated while the script runs, and
every ``run()`` in Brian2's standalone mode writes new code (a thousand 1 ms chunks do not compile). So
:func:`run_until` calls the callbacks first, at the times they ask for, without simulating; each read returns a
:class:`DeferredValues`. Then one run covers the whole interval, with a ``StateMonitor`` (``when="start"``, on a
clock whose period divides every read's time) for each array read before its end, and C++ in ``main()`` saving
the arrays read at its end. The values are filled in once the binary has run (the next read of data, ``end()``,
or their own first use after the ``run()``). Connections' indices cannot change during a run: they are read from
the binary's final state.

Only such reads can wait: a callback that uses the values it read, reads anything else, changes a value or
advances time is refused at once (``NotImplementedError``), as is brian2_cuda (the arrays live in GPU memory).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import brian2
import numpy as np
from brian2.codegen.generators.cpp_generator import c_data_type
from brian2.core.variables import DynamicArrayVariable
from brian2.units.fundamentalunits import DIMENSIONLESS
from pyNN.brian2 import simulator

ADDRESS = ("presynaptic_index", "postsynaptic_index")


class DeferredValues(Sequence[Any]):
    """A list of what a ``run()`` callback read on ``cpp_standalone``, filled once the binary has run."""

    def __init__(self, what: str, active: Any) -> None:
        self._what = what
        self._device = active
        self._values: list[Any] | None = None

    def _ready(self) -> list[Any]:
        if self._values is None:
            active = self._device
            if active.speculating is not None:
                active.refuse(
                    f"use {self._what} inside the run() callback that read it (the binary simulates after the run(); "
                    "keeping the values for later works, and Projection.record_weights(interval) records weights too)"
                )
            active.before_read()
        assert self._values is not None, "the binary has run"
        return self._values

    def __len__(self) -> int:
        return len(self._ready())

    def __getitem__(self, index: Any) -> Any:
        return self._ready()[index]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._ready())

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.asarray(self._ready(), dtype=dtype)

    def __eq__(self, other: object) -> bool:
        return self._ready() == (list(other) if isinstance(other, Sequence) else other)

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        return repr(self._ready()) if self._values is not None else f"<{self._what}, read once the binary has run>"


class _Read:
    """One deferred read: what to compute at which time, and where its arrays are saved."""

    def __init__(self, projection: Any, names: list[str], single: bool, t: float, active: Any) -> None:
        self.projection = projection
        self.names = names
        self.single = single
        self.t = t
        self.saved: dict[tuple[str, str], Callable[[Path], Any]] = {}
        """(synapses, name): the array at time ``t``, from the binary's results folder."""
        self.values = DeferredValues(f"the values of projection {projection.label!r} read at t = {t} ms", active)

    def arrays(self) -> list[tuple[Any, str, Any]]:
        """(synapses, name, variable) of each array that changes during a run and this read needs."""
        out = []
        for row in self.projection._brian2_synapses.values():
            for syn in row.values():
                for name in dict.fromkeys(self.names):
                    var = syn.variables.get(name)
                    if name not in ADDRESS and isinstance(var, DynamicArrayVariable):
                        out.append((syn, name, var))
        return out

    def fill(self, results: Path) -> None:
        """Compute the values from the arrays saved in ``results``."""
        columns = self.projection._attribute_columns(self.names, {key: load(results) for key, load in self.saved.items()})
        rows = [tuple(row) for row in np.array(columns).T] if columns and len(columns[0]) else []
        self.values._values = [row[0] for row in rows] if self.single else rows


def read(projection: Any, names: list[str], single: bool, active: Any) -> DeferredValues:
    """A read in a ``run()`` callback on ``active``, a standalone :class:`~spikebridge.pynn.device.Device`
    (:func:`run_until`): values once the binary has run."""
    if active.variant == "cuda":
        active.refuse("read a projection in a run() callback (the values live in GPU memory during the run)", active.CPP_OR_RUNTIME)
    assert active.speculating is not None, "reads wait only in run_until's callbacks"
    pending = _Read(projection, names, single, float(simulator.state.t), active)
    active.speculating.append(pending)
    active.deferred.append(pending)
    return pending.values


def _quantity(raw: np.ndarray, var: Any) -> Any:
    return brian2.Quantity(raw, dim=var.dim) if var.dim is not DIMENSIONLESS else raw


def _monitor(reads: list[_Read], dt: float, active: Any, limit: float = 5e7) -> None:
    """StateMonitors sampling every array read before the run's end, on a clock whose period divides every read's step."""
    steps = [round(r.t / dt) for r in reads]
    period = math.gcd(*steps) or 1
    monitors: dict[tuple[str, str], Any] = {}
    for r in reads:
        for syn, name, var in r.arrays():
            key = (syn.name, name)
            if key not in monitors:
                clock = brian2.Clock(period * dt * brian2.ms, name=f"{syn.name}_reads_clock*")
                monitors[key] = brian2.StateMonitor(syn, name, record=True, when="start", clock=clock, name=f"{syn.name}_{name}_reads*")
                simulator.state.network.add(monitors[key])

            def load(results: Path, monitor: Any = monitors[key], var: Any = var, t: float = r.t, name: str = name) -> Any:
                times = np.asarray(monitor.t_[:]) * 1e3
                k = int(np.argmin(np.abs(times - t)))
                assert abs(times[k] - t) < dt / 2, f"a sample at {t} ms"
                return _quantity(np.asarray(getattr(monitor, name + "_")[:, k]), var)

            r.saved[key] = load
    samples = (max(steps) - min(steps)) / period + 1
    sources = {id(m.source): m.source for m in monitors.values()}
    values = samples * sum(len(syn) for syn in sources.values())
    if values > limit:
        active.refuse(f"keep {values:.3g} values the run() callbacks read (more than {limit:.0e})", "Projection.record_weights(interval)")


def _save_at_end(reads: list[_Read], tag: int) -> None:
    """C++ in ``main()`` after the run: the arrays of reads at its end, into the binary's results folder."""
    lines = []
    for r in reads:
        for syn, name, var in r.arrays():
            filename = f"spikebridge_read_{tag}_{syn.name}_{name}"
            array = brian2.get_device().get_array_name(var, access_data=False)
            size = f"brian::{array}.size() * sizeof({c_data_type(var.dtype)})"
            lines.append(
                f'{{ std::ofstream out(brian::results_dir + "{filename}", std::ios::binary | std::ios::out); '
                f"out.write(reinterpret_cast<const char*>(brian::{array}.data()), {size}); }}"
            )

            def load(results: Path, filename: str = filename, var: Any = var) -> Any:
                return _quantity(np.fromfile(results / filename, dtype=var.dtype), var)

            r.saved[syn.name, name] = load
    if lines:
        brian2.get_device().insert_code("main", "\n".join(lines))


def run_until(time_point: float, callbacks: list[Callable[[float], float]], run: Callable[[float], Any], active: Any) -> float:
    """PyNN's ``run_until`` with callbacks on ``active``, a standalone device: the callbacks are called at the times
    they ask for (PyNN's schedule, time steps included) without simulating, then ``run(time_point)`` simulates once."""
    state = simulator.state
    dt = state.dt
    start = float(state.t)
    if time_point - start < -dt / 2:
        raise ValueError(f"Time {time_point:g} is in the past (current time {start:g})")
    reads: list[_Read] = []
    active.speculating = reads
    t = start
    try:
        state.t_override = t
        events = [(callback(t), callback) for callback in callbacks]
        while t + 1e-9 < time_point:
            events.sort(key=lambda event: event[0], reverse=True)
            due, callback = events.pop()
            now = [callback]
            while events and abs(due - events[-1][0]) < dt:
                now.append(events.pop()[1])
            due = min(due, time_point)
            if due > t:
                t = start + round((due - start) / dt) * dt  # where PyNN's run_until would stop
            state.t_override = t
            events.extend((callback(t), callback) for callback in now)
    finally:
        active.speculating = None
        state.t_override = None
    end = round((time_point - start) / dt)
    inside = [r for r in reads if round((r.t - start) / dt) < end]
    if inside:
        _monitor(inside, dt, active)
    run(time_point)
    _save_at_end([r for r in reads if r not in inside], len(active.deferred))
    return float(state.t)
