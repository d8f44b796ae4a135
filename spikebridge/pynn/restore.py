"""``reset()`` inside one ``cpp_standalone`` binary: Brian2's ``Network.store``/``restore``, written as C++.

Brian2 refuses ``store()`` and ``restore()`` on standalone devices. What stock ``pyNN.brian2`` restores at
``reset()`` is the state the network held at its first run since the previous ``reset()``: every array variable
its groups own (neurons, spike sources, synapses; Brian2's ``Group._full_state``), empty spike queues and time 0.
Here the generated ``main()`` copies a group's arrays just before the first run it takes part in since the last
``reset()`` (so values set between a ``reset()`` and the next run are those later resets restore) and copies them
back at the next ``reset()``; the spike queues of every pathway are emptied, and the network's and clocks' time set
to 0. Monitors are not restored: each segment
records into monitors of its own (:mod:`~spikebridge.pynn.recording`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import brian2
import numpy as np
from brian2.codegen.generators.cpp_generator import c_data_type
from brian2.core.variables import ArrayVariable, DynamicArrayVariable
from brian2.monitors import EventMonitor, PopulationRateMonitor, StateMonitor

MONITORS = (EventMonitor, PopulationRateMonitor, StateMonitor)  # SpikeMonitor is an EventMonitor


def restored(objects: Iterable[Any]) -> list[Any]:
    """The groups among ``objects`` whose state ``reset()`` restores (not monitors)."""
    return [obj for obj in objects if isinstance(obj, brian2.Group) and not isinstance(obj, MONITORS)]


def _arrays(groups: list[Any]) -> list[tuple[str, str, bool]]:
    """(C++ name, C++ type, dynamic) of every array variable the groups own, each array once."""
    device = brian2.get_device()
    out, seen = [], set()
    for group in groups:
        for var in group.variables.values():
            if not isinstance(var, ArrayVariable) or var.owner is None or var.owner.name != group.name:
                continue
            dynamic = isinstance(var, DynamicArrayVariable)
            if dynamic and var.ndim != 1:
                continue
            name = device.get_array_name(var, access_data=False)
            if name not in seen:
                seen.add(name)
                out.append((name, c_data_type(var.dtype), dynamic))
    return out


def store_code(groups: list[Any], tag: int) -> tuple[str, dict[str, tuple[str, bool]]]:
    """C++ for ``main()`` just before the first run ``groups`` take part in since the last ``reset()``: a copy of
    each of their arrays (named with ``tag``), and {array: (its copy, dynamic)}."""
    lines, copies = [], {}
    for name, ctype, dynamic in _arrays(groups):
        copy = f"_spikebridge_initial{tag}{name}"
        source = f"brian::{name}" if dynamic else f"brian::{name}, brian::{name} + brian::_num_{name}"
        lines.append(f"std::vector<{ctype}> {copy}({source});")
        copies[name] = (copy, dynamic)
    return "\n".join(lines), copies


def restore_code(copies: dict[str, tuple[str, bool]], network: Any) -> str:
    """C++ for ``main()`` at a ``reset()``: the arrays copied back from ``copies``, every pathway's spike queue
    emptied (also of groups that have not run yet), time 0."""
    lines = []
    for name, (copy, dynamic) in copies.items():
        lines.append(f"brian::{name} = {copy};" if dynamic else f"std::copy({copy}.begin(), {copy}.end(), brian::{name});")
    for group in restored(network.objects):
        for pathway in getattr(group, "_pathways", []):
            lines.append(
                f"for (CSpikeQueue* queue : brian::{pathway.name}.queue) {{ auto state = queue->_full_state(); "
                "for (auto& slot : state.second) slot.clear(); queue->_restore_from_full_state(state); }"
            )
    device = brian2.get_device()
    lines.append(f"brian::{network.name}.t = 0.0;")
    for clock in clocks(network):
        lines.append(f"brian::{device.get_array_name(clock.variables['t'])}[0] = 0.0;")
        lines.append(f"brian::{device.get_array_name(clock.variables['timestep'])}[0] = 0;")
    return "\n".join(lines)


def clocks(network: Any) -> set[Any]:
    """Every clock the network's objects run on."""
    return {obj.clock for obj in network.objects} | {brian2.defaultclock}


def rewind(network: Any) -> None:
    """Python's view of the time after a ``reset()``: 0 for the network and its clocks."""
    device = brian2.get_device()
    network.t_ = 0.0
    for clock in clocks(network):
        device.array_cache[clock.variables["timestep"]] = np.array([0])
        device.array_cache[clock.variables["t"]] = np.array([0.0])


def insert_store(code: str, after: int) -> None:
    """Put ``code`` in ``main()`` before its first run at or after entry ``after`` of the device's main queue."""
    queue = brian2.get_device().main_queue
    first = next(k for k, (kind, _) in enumerate(queue) if kind == "run_network" and k >= after)
    queue.insert(first, ("insert_code", code))
